import { stripVTControlCharacters } from 'node:util';
import { run } from '../../process/run.ts';

/**
 * What the dashboard's buttons do: the real CLI as a subprocess (argument arrays, never a shell), so every
 * refusal — destroy of a dirty worktree, an env busy with another command — is exactly the CLI's, with its
 * message and hint. The env is named `name:<env name>`: a branch of one env can never be taken for another.
 */

export type Action = 'up' | 'down' | 'destroy';
export const ACTIONS: readonly Action[] = ['up', 'down', 'destroy'];

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs the envs bin with these arguments (the wiring decides which bin and which ENVS_HOME). */
export type Cli = (args: string[], options?: { timeoutMs?: number }) => Promise<CliResult>;

export function cliOf(ctx: { cliPath: string; home: string }, env: NodeJS.ProcessEnv = process.env): Cli {
  return async (args, options = {}) => {
    const result = await run(process.execPath, [ctx.cliPath, ...args], {
      // The CLI acts on the dashboard's state directory, whatever the router was started with.
      env: { ...env, ENVS_HOME: ctx.home },
      ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
    });
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  };
}

export interface CliError {
  code: string;
  message: string;
  hint?: string;
}

export type ActionOutcome =
  | { status: 200; body: { ok: true; action: Action; result: unknown } }
  | { status: 409 | 500; body: { ok: false; error: CliError } };

export async function runAction(cli: Cli, repo: string, action: Action, name: string): Promise<ActionOutcome> {
  // Never --force: the page's destroy refuses what the CLI's refuses.
  const result = await cli(['-C', repo, action, `name:${name}`, '--json']);
  const json = parseJson(result.stdout);
  if (result.exitCode === 0) return { status: 200, body: { ok: true, action, result: json } };
  const error = cliError(json);
  if (error) return { status: result.exitCode === 1 ? 409 : 500, body: { ok: false, error } };
  return {
    status: 500,
    body: {
      ok: false,
      error: {
        code: 'CLI_FAILED',
        message: `envs ${action} ${name} ${result.exitCode === undefined ? 'could not run' : `exited ${result.exitCode}`}.`,
        hint: lastLines(result.stderr, 5) || 'Run the same command in a terminal to see its output.',
      },
    },
  };
}

/** At most this much of an env's recent output goes to the page (the end of it). */
const LOG_LIMIT = 256 * 1024;

/** An env's recent output (services and host processes) as `envs logs -n <lines>` prints it. */
export async function recentLogs(cli: Cli, repo: string, name: string, lines = 200): Promise<{ ok: boolean; text: string }> {
  const result = await cli(['-C', repo, 'logs', `name:${name}`, '-n', String(lines), '--json'], { timeoutMs: 20_000 });
  const error = result.exitCode === 0 ? undefined : cliError(parseJson(result.stdout));
  if (error) return { ok: false, text: [error.message, error.hint].filter(Boolean).join('\n') };
  // Compose draws its progress with terminal escapes even into a pipe; a <pre> would show them as garbage.
  const plain = stripVTControlCharacters(result.stdout);
  const text = plain.length > LOG_LIMIT ? `…\n${plain.slice(-LOG_LIMIT)}` : plain;
  if (result.exitCode !== 0)
    return { ok: false, text: `${text}${lastLines(result.stderr, 10)}`.trim() || `envs logs exited ${result.exitCode}` };
  return { ok: true, text };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function cliError(json: unknown): CliError | undefined {
  const error = (json as { error?: { code?: unknown; message?: unknown; hint?: unknown } } | undefined)?.error;
  if (!error || typeof error.message !== 'string') return undefined;
  return {
    code: typeof error.code === 'string' ? error.code : 'ERROR',
    message: error.message,
    ...(typeof error.hint === 'string' ? { hint: error.hint } : {}),
  };
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
