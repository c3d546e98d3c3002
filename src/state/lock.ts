import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvsError } from '../errors.ts';
import { isAlive } from './pid.ts';
import { mkdirPrivate, stateError } from './unusable.ts';

/**
 * A cross-process lock: an atomic `mkdir` of `<path>.d`, with the holder's identity inside.
 *
 * A lock is stale — and broken by the next process that wants it — when its holder is a dead process
 * on this host (a SIGKILLed `envs create` frees its lock at once), or when the holder stopped refreshing
 * its heartbeat for HEARTBEAT_STALE_MS (a reused pid, a frozen machine). proper-lockfile only has the
 * second rule, which made every killed create block its own resume for the whole stale period.
 */

export interface LockOwner {
  pid: number;
  host: string;
  what: string;
  since: string;
  token: string;
}

export interface LockOptions {
  /** What the holder is doing, shown to whoever waits ("envs create feat/x"). */
  what: string;
  /** How long to wait for a held lock, in ms; 0 fails at once with ENV_BUSY. */
  waitMs: number;
}

const HEARTBEAT_MS = 5_000;
const HEARTBEAT_STALE_MS = 30_000;
/** A lock directory without an owner file is being set up; older than this, its maker died. */
export const SETUP_GRACE_MS = 5_000;

export async function withLock<T>(path: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const held = await acquire(path, options);
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(join(held.dir, 'owner.json'), now, now).catch(() => {});
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await releaseLock(held.dir, held.owner.token);
  }
}

/** True when a live process holds the lock. */
export async function isLocked(path: string): Promise<boolean> {
  const state = await inspect(`${path}.d`);
  return state.kind === 'held';
}

async function acquire(path: string, options: LockOptions): Promise<{ dir: string; owner: LockOwner }> {
  const dir = `${path}.d`;
  await mkdirPrivate(dirname(dir));
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    what: options.what,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dir, { mode: 0o700 });
      await writeFile(join(dir, 'owner.json'), JSON.stringify(owner), { mode: 0o600 });
      return { dir, owner };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(error, dir);
    }
    const state = await inspect(dir);
    if (state.kind === 'stale') {
      await breakStale(dir, state.owner);
      continue;
    }
    if (state.kind === 'free') continue;
    if (Date.now() >= deadline) throw busy(state.owner, options);
    // Short, jittered waits: the registry lock is held for milliseconds, others for one git or compose call.
    await sleep(Math.min(250, 10 * 1.5 ** Math.min(attempt, 12)) * (0.5 + Math.random()));
  }
}

type LockState = { kind: 'free' } | { kind: 'held'; owner?: LockOwner } | { kind: 'stale'; owner?: LockOwner };

async function inspect(dir: string): Promise<LockState> {
  const ownerFile = join(dir, 'owner.json');
  let owner: LockOwner | undefined;
  let beat: number;
  try {
    const [text, info] = await Promise.all([readFile(ownerFile, 'utf8'), stat(ownerFile)]);
    owner = JSON.parse(text) as LockOwner;
    beat = info.mtimeMs;
  } catch {
    // No owner (yet): being set up, or its maker died right after mkdir.
    const info = await stat(dir).catch(() => undefined);
    if (!info) return { kind: 'free' };
    return Date.now() - info.mtimeMs > SETUP_GRACE_MS ? { kind: 'stale' } : { kind: 'held' };
  }
  const dead = owner.host === hostname() && !isAlive(owner.pid);
  return dead || Date.now() - beat > HEARTBEAT_STALE_MS ? { kind: 'stale', owner } : { kind: 'held', owner };
}

/**
 * Moves a stale lock aside (atomic), then checks it moved the lock it judged stale; if another process
 * broke and re-took it meanwhile, that fresh lock is put back.
 */
async function breakStale(dir: string, judged: LockOwner | undefined): Promise<void> {
  const tomb = `${dir}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(dir, tomb);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readOwner(tomb);
  if (moved && judged && moved.token !== judged.token) {
    await rename(tomb, dir).catch(() => {});
    return;
  }
  await rm(tomb, { recursive: true, force: true });
}

/**
 * The owner a lock directory names, or undefined: none yet, or an empty or torn owner.json (its maker was
 * killed between mkdir and the write — what the next process finds after a SIGKILL).
 */
async function readOwner(dir: string): Promise<LockOwner | undefined> {
  const text = await readFile(join(dir, 'owner.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LockOwner;
  } catch {
    return undefined;
  }
}

async function releaseLock(dir: string, token: string): Promise<void> {
  const owner = await readOwner(dir);
  if (owner?.token !== token) return; // not ours any more (broken as stale): leave it
  const tomb = `${dir}.released-${randomBytes(4).toString('hex')}`;
  await rename(dir, tomb);
  await rm(tomb, { recursive: true, force: true });
}

function busy(owner: LockOwner | undefined, options: LockOptions): EnvsError {
  const who = owner ? `process ${owner.pid} (${owner.what}, since ${owner.since})` : 'another envs process';
  const waited = options.waitMs > 0;
  return new EnvsError(
    waited ? 'LOCK_TIMEOUT' : 'ENV_BUSY',
    waited ? `Timed out after ${Math.round(options.waitMs / 1000)} s waiting for ${who}.` : `This env is being changed by ${who}.`,
    {
      hint: 'Wait for it to finish and run the command again. A lock whose process died is freed by the next command.',
      ...(owner ? { details: { owner: { pid: owner.pid, what: owner.what, since: owner.since } } } : {}),
    },
  );
}
