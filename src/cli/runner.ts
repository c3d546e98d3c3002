import { isAbsolute, resolve } from 'node:path';
import type { Progress } from '../core/converge.ts';
import type { Deps } from '../core/deps.ts';
import type { EnvsEvent, OnEvent, PhaseEvent } from '../core/events.ts';
import { printableJson } from '../core/naming.ts';
import { EnvsError } from '../errors.ts';
import { openEnvs } from '../wire.ts';
import { removeEarlySignals } from './early-signals.ts';
import { errorJson, errorText, json, type Out, progressLine } from './output.ts';

/** What a command's action gets: its repository, output, a cancel signal, progress reporting. */
export interface CommandContext {
  /** The command's deps; `pingEarly` when its first engine call is the ping (commands that change things). */
  open(options?: { pingEarly?: boolean }): Promise<Deps>;
  cwd: string;
  env: NodeJS.ProcessEnv;
  json: boolean;
  out: Out;
  signal: AbortSignal;
  progress: Progress;
  /** With `--events ndjson`: each phase as a JSON line on stderr (progress lines are off then). */
  onEvent: OnEvent | undefined;
  /** Prints a result: JSON in --json mode, else the human rendering. */
  result<T>(value: T, human: (value: T) => string): void;
  /** Sets the exit code without an error (e.g. doctor with failed checks). */
  exitCode: number;
  /**
   * For commands that hand the terminal to a child (exec, attach): stop turning Ctrl-C into a cancellation
   * (and a second one into exit 130), so the child alone decides what Ctrl-C means and envs waits for it.
   */
  releaseSignals(): void;
  /**
   * For commands whose normal end is Ctrl-C (`logs -f`): the first SIGINT/SIGTERM only aborts `signal`
   * (the command ends itself, exit code its own); a second one exits at once.
   */
  endOnSignal(): void;
}

export interface RunnerOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: Out;
  /** Ends the process (tests replace it); default process.exit. */
  exit?: (code: number) => never;
}

/** Exit code for bugs (BSD EX_SOFTWARE). */
export const BUG_EXIT = 70;

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Runs one command action: builds its context, renders errors (JSON on stdout with --json), and returns
 * the exit code.
 *
 * Ctrl-C (SIGINT) or SIGTERM ends any command at once: the signal aborts the running subprocesses (git,
 * Compose get SIGTERM) and engine calls, the cancellation is reported, and the process exits 130 (143)
 * without waiting for anything. That leaves what a SIGKILL would leave, and the design makes that
 * resumable: every step is recorded before it runs, locks of dead processes are free at once, temporary
 * files are cleared by the next run; an interrupted create shows as `partial` (`create` resumes it,
 * `destroy` removes it), an interrupted destroy is finished by running it again.
 */
export async function runAction(
  options: RunnerOptions,
  flags: { json?: boolean; events?: string; command?: string },
  action: (ctx: CommandContext) => Promise<void>,
): Promise<number> {
  const controller = new AbortController();
  const jsonMode = Boolean(flags.json);
  // Events mode: stderr carries only JSON lines, so that a reader can parse every line of it.
  // The phase under way, so that a Ctrl-C (which exits at once) still ends it with `failed`, as the contract says.
  let open: { event: PhaseEvent; started: number } | undefined;
  const write = (event: EnvsEvent) => options.out.stderr(`${printableJson(JSON.stringify(event))}\n`);
  const onEvent: OnEvent | undefined =
    flags.events === 'ndjson'
      ? (event) => {
          if (event.event === 'phase') open = event.status === 'start' ? { event, started: performance.now() } : undefined;
          write(event);
        }
      : undefined;
  const reportError = (error: unknown) => {
    if (jsonMode && !printed) json(options.out, errorJson(error));
    else if (!onEvent) options.out.stderr(errorText(error));
    if (onEvent) onEvent({ event: 'error', command: flags.command ?? '', ...errorJson(error).error });
  };
  // --json prints exactly one document: a failure after the result goes to stderr, as text.
  let printed = false;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const onSignal = (signal: NodeJS.Signals) => {
    controller.abort();
    const cancelled = new EnvsError('CANCELLED', `Cancelled (${signal === 'SIGINT' ? 'Ctrl-C' : signal}).`, {
      hint: 'Whatever was under way stopped where it was: run the same command again to finish it (`envs list` shows an interrupted create as partial; `envs destroy` removes it).',
      exitCode: SIGNAL_EXIT[signal as keyof typeof SIGNAL_EXIT] ?? 130,
    });
    if (onEvent && open) {
      write({ ...open.event, status: 'failed', ms: Math.round(performance.now() - open.started), code: cancelled.code });
      open = undefined;
    }
    if (onEvent) reportError(cancelled);
    else if (jsonMode && !printed) json(options.out, errorJson(cancelled));
    else options.out.stderr(`\n${errorText(cancelled)}`);
    exit(cancelled.exitCode);
  };
  // Before any other listener (main.ts has an early one for the time before a command runs).
  const abortFirst = (signal: NodeJS.Signals) => (controller.signal.aborted ? onSignal(signal) : controller.abort());
  removeEarlySignals();
  process.prependListener('SIGINT', onSignal);
  process.prependListener('SIGTERM', onSignal);
  // A relative ENVS_HOME means relative to where envs was started, also with -C.
  const env =
    options.env.ENVS_HOME && !isAbsolute(options.env.ENVS_HOME)
      ? { ...options.env, ENVS_HOME: resolve(options.env.ENVS_HOME) }
      : options.env;
  const ctx: CommandContext = {
    open: (open) => openEnvs({ cwd: options.cwd, env, signal: controller.signal, ...open }),
    cwd: options.cwd,
    env,
    json: jsonMode,
    out: options.out,
    signal: controller.signal,
    progress: jsonMode || onEvent ? () => {} : ({ message }) => options.out.stderr(progressLine(message)),
    onEvent,
    result: (value, human) => {
      printed = true;
      if (jsonMode) json(options.out, value);
      else options.out.stdout(human(value));
    },
    exitCode: 0,
    releaseSignals: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
    endOnSignal: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.on('SIGINT', abortFirst);
      process.on('SIGTERM', abortFirst);
    },
  };
  try {
    await action(ctx);
    return ctx.exitCode;
  } catch (error) {
    reportError(error);
    return EnvsError.is(error) ? error.exitCode : BUG_EXIT;
  } finally {
    for (const handler of [onSignal, abortFirst]) {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    }
  }
}
