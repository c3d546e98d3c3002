import type { Deps } from '../core/deps.ts';
import { execFailed, execTarget } from '../core/exec.ts';
import { EnvsError } from '../errors.ts';
import { run } from '../process/run.ts';

/** Bytes kept of each of stdout and stderr: enough for a test run's summary, not a flood into a model's context. */
export const EXEC_LIMIT = 256 * 1024;
export const EXEC_TIMEOUT_S = 120;

export interface ExecResult {
  /** null when the command was killed (timeout, cancellation or a signal). */
  exit_code: number | null;
  stdout: string;
  stderr: string;
  timed_out: boolean;
  /** stdout or stderr was cut at EXEC_LIMIT bytes. */
  truncated: boolean;
  /** Where it ran. */
  cwd: string;
}

/**
 * `exec` for a tool call: the same env, directory and variables as `envs exec` (core/exec.ts), but the
 * output collected instead of a terminal handed over, with a timeout and a size cap.
 */
export async function execCaptured(
  deps: Deps,
  arg: string,
  command: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutS: number; signal: AbortSignal },
): Promise<ExecResult> {
  const target = await execTarget(deps, arg, options.cwd, command);
  const [file, ...args] = command as [string, ...string[]];
  const timeout = AbortSignal.timeout(options.timeoutS * 1000);
  const result = await run(file, args, {
    cwd: target.cwd,
    env: { ...options.env, ...target.env },
    signal: AbortSignal.any([options.signal, timeout]),
    limit: EXEC_LIMIT,
    group: true, // a timeout ends what the command started too
  });
  if (result.spawnError) throw execFailed(file, result.spawnError);
  if (options.signal.aborted) throw new EnvsError('CANCELLED', `${file} was cancelled.`);
  return {
    exit_code: result.exitCode ?? null,
    stdout: result.stdout,
    stderr: result.stderr,
    timed_out: timeout.aborted,
    truncated: Boolean(result.truncated),
    cwd: target.cwd,
  };
}
