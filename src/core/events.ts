import { EnvsError } from '../errors.ts';

/**
 * Machine events: the phases of `create`, `destroy`, `up` and `down`, as they start and end. `--events
 * ndjson` prints one per line on stderr; the library's `onEvent` option gets the same objects. The shape is
 * a contract (README "Events"): fields are only ever added.
 */
export type EventCommand = 'create' | 'destroy' | 'up' | 'down';

export interface PhaseEvent {
  event: 'phase';
  command: EventCommand;
  /** The env's name (`feat-login-3f9a2c`). */
  env: string;
  /** The phase: create's are the record's phases (worktree, env-files, database, ports, …) after `plan`. */
  name: string;
  status: 'start' | 'done' | 'failed';
  /** Whole milliseconds since the phase started: 0 at `start`. */
  ms: number;
  /** On `failed`: the error's code (`INTERNAL` for a bug in envs). */
  code?: string;
}

/** What the CLI prints in events mode when a command fails (the library throws the EnvsError instead). */
export interface ErrorEvent {
  event: 'error';
  command: string;
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export type EnvsEvent = PhaseEvent | ErrorEvent;
export type OnEvent = (event: EnvsEvent) => void;

/**
 * One command's phases in order: entering a phase ends the one before it (`done`); entering the phase that
 * is running already does nothing (converge enters `ports` again before each retry of its loop, which is
 * one phase to a watcher unless another came between). Without a listener everything here is a no-op.
 */
export class Phases {
  private current: { name: string; started: number } | undefined;
  private readonly command: EventCommand;
  private readonly env: string;
  private readonly onEvent: OnEvent | undefined;

  constructor(command: EventCommand, env: string, onEvent: OnEvent | undefined) {
    this.command = command;
    this.env = env;
    this.onEvent = onEvent;
  }

  /** Starts a phase; `since` (a `performance.now()`) when its work began before its name was known. */
  enter(name: string, since = performance.now()): void {
    if (!this.onEvent || this.current?.name === name) return;
    this.done();
    this.current = { name, started: since };
    this.emit(name, 'start', 0);
  }

  /** Ends the running phase, if any. */
  done(): void {
    if (!this.current) return;
    const { name, started } = this.current;
    this.current = undefined;
    this.emit(name, 'done', elapsed(started));
  }

  /** The running phase failed with `error`. */
  fail(error: unknown): void {
    if (!this.current) return;
    const { name, started } = this.current;
    this.current = undefined;
    this.emit(name, 'failed', elapsed(started), EnvsError.is(error) ? error.code : 'INTERNAL');
  }

  /** Runs `body` with failures reported on the running phase, and ends the last phase on success. */
  async around<T>(body: () => Promise<T>): Promise<T> {
    try {
      const result = await body();
      this.done();
      return result;
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  private emit(name: string, status: PhaseEvent['status'], ms: number, code?: string): void {
    try {
      this.onEvent?.({ event: 'phase', command: this.command, env: this.env, name, status, ms, ...(code ? { code } : {}) });
    } catch {
      // A listener that throws must not stop (or roll back) what it watches.
    }
  }
}

function elapsed(since: number): number {
  return Math.max(0, Math.round(performance.now() - since));
}
