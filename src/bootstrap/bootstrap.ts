import type { Progress } from '../core/converge.ts';
import { describeCommand, type UserCommand, userArgv } from './command.ts';
import { runStep, seconds } from './step.ts';

export interface BootstrapOptions {
  /** The worktree: every command runs there. */
  worktree: string;
  /** `bootstrap:` from envs.yaml, in order. */
  commands: readonly UserCommand[];
  /** The env's variables, added to `baseEnv`. */
  env: Record<string, string>;
  /** Default: process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Where the output goes (appended; 0600). */
  logFile: string;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Values to mask in the output tail of an error (the env's secrets). */
  redact?: Iterable<string>;
  /** The commands' key in envs.yaml, for messages: `bootstrap` (default), `database.seed`… */
  key?: string;
  /** The progress events' step (default `bootstrap`). */
  step?: string;
}

export interface BootstrapResult {
  steps: Array<{ command: string; durationMs: number }>;
  durationMs: number;
}

/**
 * Runs the `bootstrap:` commands after the install, in order, in the worktree, with the env's variables,
 * each with progress and its time. The first that fails stops the rest with BOOTSTRAP_FAILED and the tail of
 * its output; the caller records the phase, so running create again starts the commands over.
 */
export async function runBootstrap(options: BootstrapOptions): Promise<BootstrapResult> {
  const started = performance.now();
  const env = { ...(options.baseEnv ?? process.env), ...options.env };
  const steps: BootstrapResult['steps'] = [];
  const total = options.commands.length;
  const key = options.key ?? 'bootstrap';
  const stepName = options.step ?? 'bootstrap';
  for (const [index, command] of options.commands.entries()) {
    const { file, args } = userArgv(command);
    const label = describeCommand(command);
    const step = await runStep(label, file, args, {
      step: stepName,
      cwd: options.worktree,
      env,
      logFile: options.logFile,
      code: 'BOOTSTRAP_FAILED',
      hint: `Command ${index + 1} of ${total} of \`${key}\` failed; fix it (or \`${key}\` in envs.yaml) and run \`envs create <branch>\` again to resume.`,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress
        ? {
            onProgress: (event: { step: string; message: string }) =>
              options.onProgress?.({ ...event, message: `[${index + 1}/${total}] ${event.message}` }),
          }
        : {}),
      ...(options.redact ? { redact: options.redact } : {}),
    });
    steps.push(step);
  }
  const durationMs = performance.now() - started;
  if (total > 0) {
    const commands = total === 1 ? '1 command' : `${total} commands`;
    options.onProgress?.({ step: stepName, message: `${key} done in ${seconds(durationMs)} (${commands})` });
  }
  return { steps, durationMs };
}
