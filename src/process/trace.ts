import { redactArgv } from '../core/redact.ts';

/**
 * `ENVS_DEBUG=1`: one line on stderr per subprocess (argv, cwd, duration, exit code) and per engine call
 * (method, duration, outcome). Never an environment value; argv values that look like secrets are masked
 * with redact.ts's rules.
 */
export type Trace = (line: string) => void;

/** The trace `env` asks for, or undefined when ENVS_DEBUG is off. */
export function debugTrace(env: NodeJS.ProcessEnv | undefined): Trace | undefined {
  const on = env?.ENVS_DEBUG;
  if (!on || on === '0' || on === 'false') return undefined;
  return (line) => process.stderr.write(`envs[debug] ${line}\n`);
}

/** An argument vector for a trace line: secrets masked (redact.ts's names and shapes), anything unusual quoted. */
export function showArgv(file: string, args: readonly string[]): string {
  return [file, ...redactArgv(args)].map(quote).join(' ');
}

function quote(text: string): string {
  return /^[\w@%+=:,./*-]+$/.test(text) ? text : JSON.stringify(text);
}

/** Milliseconds since `start` (performance.now()), for a trace line. */
export function since(start: number): string {
  return `${Math.round(performance.now() - start)} ms`;
}
