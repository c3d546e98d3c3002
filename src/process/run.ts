import { type ChildProcess, spawn } from 'node:child_process';
import { debugTrace, showArgv, since } from './trace.ts';

/**
 * Runs a program with an argument array — never through a shell — and collects its output.
 *
 * This is the one place envs starts subprocesses (git, docker compose). It covers what we need from
 * execa: cwd, an environment, stdin input, text or byte output, cancellation through an AbortSignal
 * (SIGTERM, then SIGKILL after a grace period), and "could not start" vs "exited non-zero". execa itself
 * stays a test dependency: importing it costs ~40 ms at every start of the CLI (measured on Node 24 with
 * the compile cache), which is 10% of `envs destroy`. With ENVS_DEBUG=1 in the child's environment each
 * run is traced to stderr (see trace.ts).
 */
export interface RunOptions {
  cwd?: string;
  /** The whole environment of the child (not merged with anything; absent: Node's default, this process's). */
  env?: NodeJS.ProcessEnv;
  input?: string;
  signal?: AbortSignal;
  /** Bytes kept of each of stdout and stderr (the rest is read and dropped; `truncated` says so). Default: all. */
  limit?: number;
  /**
   * Run it as the leader of its own process group and cancel the whole group: a command of the user's
   * (`sh -c 'npm test'`) whose children would otherwise outlive it holding the output pipes open.
   */
  group?: boolean;
}

export interface RunResult<T extends string | Buffer = string> {
  /** undefined when the program could not be started or was killed by a signal. */
  exitCode: number | undefined;
  stdout: T;
  stderr: string;
  /** Set when the program could not be started (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
  cancelled: boolean;
  /** Set when `limit` cut stdout or stderr. */
  truncated?: boolean;
}

const KILL_GRACE_MS = 5_000;

/**
 * Children still running. When envs exits early (Ctrl-C ends any command at once, see cli/runner.ts), they
 * get SIGTERM rather than running on unattended: a terminal's Ctrl-C reaches them anyway, a SIGTERM sent to
 * envs alone does not.
 */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const running of live) running.kill('SIGTERM');
  });
}

export function run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult<string>>;
export function run(file: string, args: readonly string[], options: RunOptions & { bytes: true }): Promise<RunResult<Buffer>>;
export function run(
  file: string,
  args: readonly string[],
  options: RunOptions & { bytes?: boolean } = {},
): Promise<RunResult<string | Buffer>> {
  const trace = debugTrace(options.env);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
      detached: Boolean(options.group),
    });
    track(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let spawnError: NodeJS.ErrnoException | undefined;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;

    const kill = (signal: NodeJS.Signals) => {
      if (!options.group || child.pid === undefined) return void child.kill(signal);
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const onAbort = () => {
      cancelled = true;
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let truncated = false;
    const keep = (into: Buffer[]) => {
      let size = 0;
      return (chunk: Buffer) => {
        if (size + chunk.length > limit) {
          truncated = true;
          chunk = chunk.subarray(0, Math.max(0, limit - size));
        }
        size += chunk.length;
        if (chunk.length > 0) into.push(chunk);
      };
    };
    child.stdout.on('data', keep(stdout));
    child.stderr.on('data', keep(stderr));
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    child.stdin.on('error', () => {}); // a child that exits without reading its input
    child.stdin.end(options.input ?? '');

    child.on('close', (code) => {
      live.delete(child);
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      const out = Buffer.concat(stdout);
      trace?.(
        `exec ${showArgv(file, args)}${options.cwd ? ` (cwd ${JSON.stringify(options.cwd)})` : ''} → ${
          spawnError ? `could not start (${spawnError.code})` : cancelled ? 'cancelled' : code === null ? 'killed' : `exit ${code}`
        } in ${since(started)}`,
      );
      resolve({
        // A program that could not start "closes" with the errno as its code: not an exit code.
        exitCode: spawnError ? undefined : (code ?? undefined),
        stdout: options.bytes ? out : out.toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        cancelled,
        ...(truncated ? { truncated } : {}),
        ...(spawnError ? { spawnError } : {}),
      });
    });
  });
}
