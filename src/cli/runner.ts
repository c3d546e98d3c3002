import type { Progress } from '../core/converge.ts';
import type { Deps } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { openEnvs } from '../wire.ts';
import { errorJson, errorText, json, type Out } from './output.ts';

/** What a command's action gets: its repository, output, a cancel signal, progress reporting. */
export interface CommandContext {
  open(): Promise<Deps>;
  cwd: string;
  env: NodeJS.ProcessEnv;
  json: boolean;
  out: Out;
  signal: AbortSignal;
  progress: Progress;
  /** Prints a result: JSON in --json mode, else the human rendering. */
  result<T>(value: T, human: (value: T) => string): void;
  /** Sets the exit code without an error (e.g. doctor with failed checks). */
  exitCode: number;
  /**
   * For commands that hand the terminal to a child (exec, attach): stop turning Ctrl-C into a cancellation
   * (and a second one into exit 130), so the child alone decides what Ctrl-C means and envs waits for it.
   */
  releaseSignals(): void;
}

export interface RunnerOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: Out;
}

/** Exit code for bugs (BSD EX_SOFTWARE). */
export const BUG_EXIT = 70;

/**
 * Runs one command action: builds its context, turns Ctrl-C into a cancellation (a second Ctrl-C exits at
 * once), renders errors (JSON on stdout with --json), and returns the exit code.
 */
export async function runAction(
  options: RunnerOptions,
  flags: { json?: boolean },
  action: (ctx: CommandContext) => Promise<void>,
): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    options.out.stderr('\nCancelling (Ctrl-C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const jsonMode = Boolean(flags.json);
  const ctx: CommandContext = {
    open: () => openEnvs({ cwd: options.cwd, env: options.env }),
    cwd: options.cwd,
    env: options.env,
    json: jsonMode,
    out: options.out,
    signal: controller.signal,
    progress: jsonMode ? () => {} : ({ message }) => options.out.stderr(`› ${message}\n`),
    result: (value, human) => (jsonMode ? json(options.out, value) : options.out.stdout(human(value))),
    exitCode: 0,
    releaseSignals: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  try {
    await action(ctx);
    return ctx.exitCode;
  } catch (error) {
    if (jsonMode) json(options.out, errorJson(error));
    else options.out.stderr(errorText(error));
    return EnvsError.is(error) ? error.exitCode : BUG_EXIT;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
