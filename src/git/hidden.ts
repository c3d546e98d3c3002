import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HiddenEdit } from '../core/deps.ts';
import { parseBlobs } from './porcelain.ts';
import { runGit, runGitBuffer } from './run.ts';

/** One entry of `git ls-files -s -v -z`. */
export interface IndexEntry {
  /** `H` tracked, `S` skip-worktree; lowercase when marked assume-unchanged. */
  tag: string;
  mode: string;
  oid: string;
  path: string;
}

export const GITLINK = '160000';
const SYMLINK = '120000';

/** Parses `git ls-files -s -v -z`: `<tag> <mode> <oid> <stage>\t<path>`. */
export function parseIndex(output: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const field of output.split('\0')) {
    const tab = field.indexOf('\t');
    if (tab === -1) continue;
    const [tag = '', mode = '', oid = ''] = field.slice(0, tab).split(' ');
    entries.push({ tag, mode, oid, path: field.slice(tab + 1) });
  }
  return entries;
}

/** The index of a checkout, with the skip-worktree / assume-unchanged tags. */
export async function readIndex(dir: string, env: NodeJS.ProcessEnv): Promise<IndexEntry[]> {
  return parseIndex((await runGit(['ls-files', '-s', '-v', '-z'], { env, cwd: dir })).stdout);
}

export function flagOf(tag: string): HiddenEdit['flag'] | undefined {
  if (tag === 'S' || tag === 's') return 'skip-worktree';
  if (tag !== tag.toUpperCase()) return 'assume-unchanged';
  return undefined;
}

/**
 * Files git status does not look at — marked skip-worktree or assume-unchanged — whose content on disk
 * differs from the index. Only flagged files are read: their blob ids come from the index, the files are
 * hashed by `git hash-object` (clean filters applied, as `git add` would), symlinks compare their target
 * with the blob. A flagged file that is absent (a sparse checkout) holds nothing to lose.
 */
export async function hiddenEdits(dir: string, entries: IndexEntry[], env: NodeJS.ProcessEnv): Promise<HiddenEdit[]> {
  const flagged = entries.filter((e) => e.mode !== GITLINK && flagOf(e.tag) !== undefined);
  if (flagged.length === 0) return [];
  const changed: IndexEntry[] = [];
  const files: IndexEntry[] = [];
  const links: { entry: IndexEntry; target: Buffer }[] = [];
  await Promise.all(
    flagged.map(async (entry) => {
      const full = join(dir, ...entry.path.split('/'));
      const info = await lstat(full).catch(() => undefined);
      if (!info) return;
      if (entry.mode === SYMLINK) {
        if (info.isSymbolicLink()) links.push({ entry, target: await readlink(full, { encoding: 'buffer' }) });
        else changed.push(entry);
      } else if (info.isFile()) files.push(entry);
      else changed.push(entry);
    }),
  );
  const [fileOids, linkBlobs] = await Promise.all([
    hashFiles(
      dir,
      files.map((f) => f.path),
      env,
    ),
    readBlobs(
      dir,
      links.map((l) => l.entry.oid),
      env,
    ),
  ]);
  files.forEach((entry, i) => {
    if (fileOids[i] !== entry.oid) changed.push(entry);
  });
  for (const { entry, target } of links) if (!linkBlobs.get(entry.oid)?.equals(target)) changed.push(entry);
  return changed
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => ({ path: e.path, flag: flagOf(e.tag) ?? 'skip-worktree' }));
}

/** Blob ids of files as `git add` would store them: one git process for all (a path is a line). */
async function hashFiles(dir: string, paths: string[], env: NodeJS.ProcessEnv): Promise<(string | undefined)[]> {
  const oids = new Map<string, string>();
  const lineSafe = paths.filter((p) => !p.includes('\n'));
  if (lineSafe.length > 0) {
    const result = await runGit(['hash-object', '--stdin-paths'], { env, cwd: dir, input: lineSafe.map((p) => `${p}\n`).join('') });
    const lines = result.stdout.split('\n');
    lineSafe.forEach((p, i) => {
      if (lines[i]) oids.set(p, lines[i]);
    });
  }
  for (const p of paths.filter((p) => p.includes('\n'))) {
    oids.set(p, (await runGit(['hash-object', '--', p], { env, cwd: dir })).stdout.trim());
  }
  return paths.map((p) => oids.get(p));
}

async function readBlobs(dir: string, oids: string[], env: NodeJS.ProcessEnv): Promise<Map<string, Buffer>> {
  if (oids.length === 0) return new Map();
  const output = await runGitBuffer(['cat-file', '--batch'], { env, cwd: dir, input: oids.map((o) => `${o}\n`).join('') });
  return parseBlobs(output, oids);
}
