import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Process groups: programs envs starts that may start children of their own (a package manager, a dev
 * server under `pnpm dev`, a user's bootstrap script). Each runs as the leader of a new session and process
 * group (Node's `detached` is setsid(2)), so envs can stop the whole tree — and only it — by signalling the
 * group, without relying on SIGHUP reaching children that ignore it.
 *
 * Like run.ts this takes argument arrays and never a shell; the one shell envs runs on purpose is named in
 * src/bootstrap/command.ts.
 */

export const DEFAULT_GRACE_MS = 5_000;

export interface LoggedRunOptions {
  cwd: string;
  /** The whole environment of the child. */
  env: NodeJS.ProcessEnv;
  /** Output (stdout and stderr) is appended here; created 0600. */
  logFile: string;
  signal?: AbortSignal;
  /** SIGTERM → SIGKILL delay when cancelled. */
  graceMs?: number;
}

export interface LoggedRunResult {
  /** undefined when it could not start or died of a signal. */
  exitCode: number | undefined;
  signal?: NodeJS.Signals;
  spawnError?: NodeJS.ErrnoException;
  cancelled: boolean;
  /** The last lines of what this run wrote to the log. */
  tail: string;
  durationMs: number;
}

/**
 * Runs a program to completion in its own process group, its output going straight to a log file (so a
 * crash of envs loses none of it). When `signal` aborts, the whole group gets SIGTERM, then SIGKILL.
 */
export async function runLogged(file: string, args: readonly string[], options: LoggedRunOptions): Promise<LoggedRunResult> {
  const started = performance.now();
  await mkdir(dirname(options.logFile), { recursive: true, mode: 0o700 });
  const log = await open(options.logFile, 'a', 0o600);
  const offset = (await log.stat()).size;
  let cancelled = false;
  let stopping: Promise<unknown> | undefined;
  let onAbort = () => {};
  let outcome: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>;
  try {
    const child = spawnLeader(file, args, options, log.fd);
    // Listeners go on before anything awaits: a program that cannot start reports it on the next tick.
    outcome = new Promise((resolve) => {
      let error: NodeJS.ErrnoException | undefined;
      child.on('error', (e: NodeJS.ErrnoException) => {
        error = e;
        if (child.pid === undefined) resolve({ code: null, signal: null, error });
      });
      child.on('exit', (code, signal) => resolve({ code, signal, ...(error ? { error } : {}) }));
    });
    onAbort = () => {
      cancelled = true;
      if (child.pid !== undefined) stopping = killGroup(child.pid, { graceMs: options.graceMs ?? DEFAULT_GRACE_MS });
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  } finally {
    await log.close(); // the child holds its own copy
  }
  const ended = await outcome;
  options.signal?.removeEventListener('abort', onAbort);
  await stopping;
  return {
    exitCode: ended.error ? undefined : (ended.code ?? undefined),
    ...(ended.signal ? { signal: ended.signal } : {}),
    ...(ended.error ? { spawnError: ended.error } : {}),
    cancelled,
    tail: await logTail(options.logFile, offset),
    durationMs: performance.now() - started,
  };
}

/** A program as the leader of its own process group (stopped as a whole), its output into the log. */
function spawnLeader(file: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }, fd: number) {
  return spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd], detached: true, shell: false });
}

export interface StartDetachedOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

/** Starts a long-running program as a detached session leader; envs may exit, it keeps running. */
export async function startDetached(file: string, args: readonly string[], options: StartDetachedOptions): Promise<number> {
  const log = await open(options.logFile, 'a', 0o600);
  try {
    const child = spawnLeader(file, args, options, log.fd);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', reject);
    });
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

/** The last `lines` non-empty lines written to a file after `offset` bytes (at most the last 64 KiB of them). */
export async function logTail(file: string, offset = 0, lines = 30): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const size = (await handle.stat()).size;
    const from = Math.max(offset, size - 65_536);
    const buffer = Buffer.alloc(Math.max(0, size - from));
    await handle.read(buffer, 0, buffer.length, from);
    return buffer
      .toString('utf8')
      .replace(/\r/g, '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(-lines)
      .join('\n');
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------- finding and stopping a group

/** One process as /proc shows it. */
interface ProcEntry {
  pid: number;
  state: string;
  pgid: number;
  sid: number;
  /** Clock ticks after boot: with the pid, the identity of a process (pids are reused). */
  start: string;
}

const hasProc = stat('/proc/self/stat').then(
  () => true,
  () => false,
);

function parseStat(text: string): ProcEntry | undefined {
  // pid (comm) state ppid pgrp session … ; comm may hold spaces and parentheses.
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  const fields = text.slice(close + 2).split(' ');
  if (close < 0 || !Number.isInteger(pid) || fields.length < 20) return undefined;
  return {
    pid,
    state: fields[0] ?? '?',
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    start: fields[19] ?? '',
  };
}

async function readProc(pid: number | string): Promise<ProcEntry | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseStat(text);
}

/**
 * A token that identifies a running process beyond its pid (its start time on Linux), to be kept with the
 * pid so that a later stop never signals an unrelated process that got the same pid. Empty when unknown.
 */
export async function processIdentity(pid: number): Promise<string> {
  if (!(await hasProc)) return '';
  return (await readProc(pid))?.start ?? '';
}

/** Whether the process with this pid is alive (not a zombie) and, when `identity` is given, the same one. */
export async function isAlive(pid: number, identity = ''): Promise<boolean> {
  if (await hasProc) {
    const entry = await readProc(pid);
    return entry !== undefined && entry.state !== 'Z' && (identity === '' || entry.start === identity);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The live processes of the group and session led by `leader`: everything with that process group or
 * session id (children that moved to a group of their own, as shells with job control do, stay in the
 * session). Without /proc: the leader's group only, as far as kill(2) can tell.
 */
export async function groupMembers(leader: number): Promise<number[]> {
  if (!(await hasProc)) {
    try {
      process.kill(-leader, 0);
      return [leader];
    } catch {
      return [];
    }
  }
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const entries = await Promise.all(pids.map((pid) => readProc(pid)));
  return entries
    .filter((e): e is ProcEntry => e !== undefined && e.state !== 'Z' && (e.pgid === leader || e.sid === leader))
    .map((e) => e.pid);
}

export interface KillOptions {
  /** How long the group may take to exit after SIGTERM before it gets SIGKILL. */
  graceMs?: number;
  /** The leader's identity when it was started (see processIdentity): a different live process is left alone. */
  identity?: string;
}

/**
 * Stops a whole process group (and session): SIGTERM to every member's group, then SIGKILL to what is
 * still alive after the grace period — so children that trap or ignore SIGHUP and SIGTERM do not survive.
 * Returns how it ended. Safe to call for a group that is gone.
 */
export async function killGroup(leader: number, options: KillOptions = {}): Promise<'gone' | 'terminated' | 'killed'> {
  if (options.identity && (await hasProc)) {
    const entry = await readProc(leader);
    // A live process with our leader's pid but another start time: ours is gone, and since Linux never reuses
    // a pid that still names a group or session, so is the rest of its group.
    if (entry && entry.start !== options.identity) return 'gone';
  }
  let members = await groupMembers(leader);
  if (members.length === 0) return 'gone';
  signalAll(leader, members, 'SIGTERM');
  const deadline = Date.now() + (options.graceMs ?? DEFAULT_GRACE_MS);
  while (Date.now() < deadline) {
    await sleep(50);
    members = await groupMembers(leader);
    if (members.length === 0) return 'terminated';
  }
  for (let i = 0; i < 40 && members.length > 0; i++) {
    signalAll(leader, members, 'SIGKILL');
    await sleep(50);
    members = await groupMembers(leader);
  }
  return 'killed';
}

function signalAll(leader: number, members: number[], signal: NodeJS.Signals): void {
  const send = (target: number) => {
    try {
      process.kill(target, signal);
    } catch {
      // gone meanwhile, or not ours to signal
    }
  };
  send(-leader);
  for (const pid of members) {
    send(pid);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
