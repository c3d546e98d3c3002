import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './pid.ts';
import { mkdirPrivate } from './unusable.ts';

/**
 * Temporary files and scratch directories live in `$ENVS_HOME/tmp` (0700), never in the system temp
 * directory: they can hold an env's secrets (a render scratch holds the branch's env files). Each name
 * carries its maker's host and pid, so the next run can tell leftovers of a killed process
 * (`<host4>.<pid>.<kind>.<random>`) and remove them.
 */

const HOST = hostTag(hostname());
/** A leftover from another host cannot be checked by pid; after this long it is surely stale. */
const OTHER_HOST_STALE_MS = 24 * 60 * 60 * 1000;

function hostTag(name: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0').slice(0, 4);
}

/** A fresh name for a temporary file or directory of this process (`kind`: a word such as `write`). */
export function tempName(kind: string): string {
  return `${tempPrefix(kind)}${randomBytes(4).toString('hex')}`;
}

/** The part of a temporary name before its random tail (for `mkdtemp`, which appends one). */
export function tempPrefix(kind: string): string {
  return `${HOST}.${process.pid}.${kind}.`;
}

/** Creates the temporary directory (0700) when missing; returns its path. */
export async function ensureTempDir(dir: string): Promise<string> {
  await mkdirPrivate(dir);
  return dir;
}

/**
 * Removes what killed processes left in the temporary directory: entries whose maker on this host is
 * dead, or from another host and older than a day. Names envs did not make are left alone. One readdir
 * when the directory is empty (the usual case), so every command can afford it.
 */
export async function clearStaleTemp(dir: string, options: { dryRun?: boolean } = {}): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const match = /^([0-9a-f]{4})\.(\d+)\./.exec(name);
      if (!match) return;
      const path = join(dir, name);
      const stale =
        match[1] === HOST
          ? !isAlive(Number(match[2]))
          : await stat(path).then(
              (s) => Date.now() - s.mtimeMs > OTHER_HOST_STALE_MS,
              () => false,
            );
      if (!stale) return;
      if (options.dryRun) {
        removed.push(path);
        return;
      }
      await rm(path, { recursive: true, force: true }).catch(() => {});
      removed.push(path);
    }),
  );
  return removed;
}
