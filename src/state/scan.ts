import { readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { notJson, stateError } from './unusable.ts';

/** The record directory of every repository on the machine: `<home>/repos/<repoId>/envs`. */
export async function repoEnvDirs(home: string): Promise<{ repoId: string; envsDir: string }[]> {
  const repos = await readdir(join(home, 'repos')).catch(() => [] as string[]);
  return repos.map((repoId) => ({ repoId, envsDir: join(home, 'repos', repoId, 'envs') }));
}

/** A lock whose owner file cannot be read although its maker had time to write it. */
export interface DamagedLock {
  dir: string;
  file: string;
  reason: string;
}

/**
 * Lock directories whose `owner.json` is not JSON of an owner. One being set up right now (younger than
 * `graceMs`) is not damaged. Such a lock is broken by the next process that wants it anyway; doctor reports it.
 */
export async function damagedLocks(locksDir: string, graceMs: number): Promise<DamagedLock[]> {
  const names = await readdir(locksDir).catch(() => [] as string[]);
  const found = await Promise.all(
    names
      .filter((n) => n.endsWith('.lock.d'))
      .map(async (name): Promise<DamagedLock | undefined> => {
        const dir = join(locksDir, name);
        const file = join(dir, 'owner.json');
        const [text, info] = await Promise.all([readFile(file, 'utf8').catch(() => undefined), stat(file).catch(() => undefined)]);
        if (text === undefined || !info || Date.now() - info.mtimeMs < graceMs) return undefined;
        try {
          const owner = JSON.parse(text) as { pid?: unknown; token?: unknown };
          if (Number.isInteger(owner?.pid) && typeof owner.token === 'string') return undefined;
          return { dir, file, reason: 'it does not name an owner' };
        } catch (error) {
          return { dir, file, reason: notJson(text, error) };
        }
      }),
  );
  return found.filter((d) => d !== undefined);
}

/** Moves a damaged file (or directory) aside as `<path>.corrupt-<time>`, never deleting it; returns the new path. */
export async function moveAside(path: string, now: Date): Promise<string> {
  const target = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  try {
    await rename(path, target);
  } catch (error) {
    throw stateError(error, path);
  }
  return target;
}
