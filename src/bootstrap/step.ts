import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Progress } from '../core/converge.ts';
import { createRedactor } from '../core/redact.ts';
import { EnvsError, type ErrorCode } from '../errors.ts';
import { runLogged } from '../process/group.ts';

export interface StepOptions {
  /** The progress step name (install, bootstrap). */
  step: string;
  cwd: string;
  /** The whole environment of the program. */
  env: NodeJS.ProcessEnv;
  logFile: string;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Values to mask in the output tail an error shows (the env's secrets). */
  redact?: Iterable<string>;
  /** Error code when the program fails. */
  code: ErrorCode;
  /** What to tell the user to do about a failure. */
  hint?: string;
}

export interface StepResult {
  command: string;
  durationMs: number;
}

/**
 * Runs one program as a step of bootstrap: a header in the log, its output appended to the log, progress
 * before and after with the time it took, and on failure an EnvsError carrying the tail of its output.
 */
export async function runStep(label: string, file: string, args: readonly string[], options: StepOptions): Promise<StepResult> {
  await mkdir(dirname(options.logFile), { recursive: true, mode: 0o700 });
  await appendFile(options.logFile, `\n$ ${label}    # in ${options.cwd}, ${new Date().toISOString()}\n`, { mode: 0o600 });
  options.onProgress?.({ step: options.step, message: label });
  const result = await runLogged(file, args, {
    cwd: options.cwd,
    env: options.env,
    logFile: options.logFile,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const took = seconds(result.durationMs);
  if (result.cancelled) throw new EnvsError('CANCELLED', `Cancelled during \`${label}\`.`);
  if (result.exitCode === 0) {
    options.onProgress?.({ step: options.step, message: `${label}: done in ${took}` });
    return { command: label, durationMs: result.durationMs };
  }
  const why = result.spawnError
    ? result.spawnError.code === 'ENOENT'
      ? `${file} is not installed (or not on PATH)`
      : `could not start ${file}: ${result.spawnError.message}`
    : result.signal
      ? `killed by ${result.signal}`
      : `exit code ${result.exitCode}`;
  const tail = createRedactor({ secretValues: options.redact ?? [] }).text(result.tail);
  throw new EnvsError(options.code, `\`${label}\` failed (${why}, after ${took})${tail ? `:\n${tail}` : '.'}`, {
    hint: `${options.hint ? `${options.hint} ` : ''}Full output: ${options.logFile}`,
    details: { command: label, exitCode: result.exitCode ?? null, log: options.logFile, tail },
  });
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
