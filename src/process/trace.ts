import { isSecretName, redactUrlPassword, redactValue } from '../core/redact.ts';

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

/** An argument vector for a trace line: secrets masked, anything unusual quoted (control characters escaped). */
export function showArgv(file: string, args: readonly string[]): string {
  return [file, ...args.map((arg, i) => redactArg(arg, args[i - 1]))].map(quote).join(' ');
}

function redactArg(arg: string, previous: string | undefined): string {
  // `--password value`, `-p` excluded: a flag whose name says the next argument is a secret.
  if (previous?.startsWith('--') && !previous.includes('=') && isSecretName(previous.slice(2))) return '***';
  const assignment = /^(--?)?([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(arg);
  if (assignment) return `${assignment[1] ?? ''}${assignment[2]}=${redactValue(assignment[2] ?? '', assignment[3] ?? '')}`;
  return redactUrlPassword(arg);
}

function quote(text: string): string {
  return /^[\w@%+=:,./*-]+$/.test(text) ? text : JSON.stringify(text);
}

/** Milliseconds since `start` (performance.now()), for a trace line. */
export function since(start: number): string {
  return `${Math.round(performance.now() - start)} ms`;
}
