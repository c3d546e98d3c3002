import { readFile, rm, writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { EnvsError } from '../errors.ts';
import { ensurePrivateDir } from './atomic.ts';
import { dirname } from 'node:path';

/** Who holds a lock, written beside it so a waiting process can say whom it waits for. */
export interface LockOwner {
  pid: number;
  what: string;
  since: string;
}

export interface LockOptions {
  /** What the holder is doing, for the owner file ("envs create feat/x"). */
  what: string;
  /** How long to wait for a held lock, in ms; 0 fails at once with ENV_BUSY. */
  waitMs: number;
}

// A holder refreshes its lock's mtime every UPDATE_MS; a lock older than STALE_MS belongs to a dead process.
const STALE_MS = 15_000;
const UPDATE_MS = 3_000;

/**
 * Runs `fn` while holding a cross-process lock (an atomic `mkdir`, kept fresh while held and
 * broken when its holder died: proper-lockfile). Always released in `finally`.
 */
export async function withLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dirname(lockPath));
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockPath, {
      lockfilePath: `${lockPath}.d`,
      realpath: false,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: options.waitMs > 0 ? retriesFor(options.waitMs) : 0,
      // The default throws from a timer and kills the process; a compromised lock is reported at release instead.
      onCompromised: () => {},
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await readOwner(lockPath);
    const who = owner ? `process ${owner.pid} (${owner.what}, since ${owner.since})` : 'another envs process';
    throw new EnvsError(
      options.waitMs > 0 ? 'LOCK_TIMEOUT' : 'ENV_BUSY',
      options.waitMs > 0
        ? `Timed out after ${Math.round(options.waitMs / 1000)} s waiting for ${who} to finish.`
        : `This env is being changed by ${who}.`,
      {
        hint: 'Wait for it to finish and try again. If that process is gone, the lock frees itself within 15 s.',
        details: owner ? { owner } : undefined,
      },
    );
  }
  try {
    await writeFile(`${lockPath}.owner.json`, JSON.stringify({ pid: process.pid, what: options.what, since: new Date().toISOString() } satisfies LockOwner), { mode: 0o600 });
    return await fn();
  } finally {
    await rm(`${lockPath}.owner.json`, { force: true });
    await release().catch(() => {});
  }
}

/** True when some live process holds the lock (a stale lock counts as free). */
export async function isLocked(lockPath: string): Promise<boolean> {
  return lockfile.check(lockPath, { lockfilePath: `${lockPath}.d`, realpath: false, stale: STALE_MS });
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(`${lockPath}.owner.json`, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function retriesFor(waitMs: number): lockfile.LockOptions['retries'] {
  // Short, jittered steps: the registry lock is held for milliseconds, the repo lock for one `git worktree add`.
  const maxTimeout = 250;
  return { retries: Math.ceil(waitMs / (maxTimeout * 0.75)), minTimeout: 15, maxTimeout, factor: 1.6, randomize: true };
}
