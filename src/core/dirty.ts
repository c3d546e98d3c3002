import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type CopiedFile, untouched } from './copies.ts';
import { inDataPath } from './data-paths.ts';
import type { CommitInfo, StatusEntry, WorktreeInspection } from './deps.ts';

/** Ignored names that are rebuilt, not written: `destroy` may delete them without --force. */
export const DEFAULT_DISPOSABLE = [
  'node_modules',
  '.pnpm-store',
  'dist',
  'build',
  'out',
  '.next',
  '.nuxt',
  '.svelte-kit',
  '.turbo',
  '.vercel',
  '.cache',
  '.parcel-cache',
  '.vite',
  '.eslintcache',
  '.stylelintcache',
  'coverage',
  '.nyc_output',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.ruff_cache',
  '.tox',
  'target',
  '.gradle',
  '.DS_Store',
  '*.tsbuildinfo',
  '*.pyc',
];

export interface DirtyFile {
  path: string;
  kind: 'modified' | 'untracked' | 'ignored';
  /** Why git status does not show it: the file is marked so. */
  flag?: 'skip-worktree' | 'assume-unchanged';
}

/** A commit destroy would lose; `submodule`: in that submodule, on none of its remote-tracking branches. */
export interface LostCommit extends CommitInfo {
  submodule?: string;
}

export interface WorkAtRisk {
  files: DirtyFile[];
  commits: LostCommit[];
}

/**
 * The entries of `git status --porcelain --ignored` that destroying the worktree would lose:
 * modified and untracked files, and ignored files unless a path segment is disposable
 * (a name such as `node_modules`, or a `*.ext` pattern for the file name).
 */
export function filesAtRisk(
  entries: StatusEntry[],
  disposable: readonly string[] = DEFAULT_DISPOSABLE,
  ours: EnvOwned = NOTHING_OWNED,
): DirtyFile[] {
  const names = new Set(disposable.filter((d) => !d.startsWith('*.')));
  const suffixes = disposable.filter((d) => d.startsWith('*.')).map((d) => d.slice(1));
  const isDisposable = (path: string) => {
    const segments = path.replace(/\/$/, '').split('/');
    const last = segments[segments.length - 1] ?? '';
    return segments.some((s) => names.has(s)) || suffixes.some((suffix) => last.endsWith(suffix));
  };
  return entries
    .filter((entry) => !isOurs(entry, ours))
    .filter((entry) => entry.xy !== '!!' || !isDisposable(entry.path))
    .map((entry) => ({ path: entry.path, kind: entry.xy === '!!' ? 'ignored' : entry.xy === '??' ? 'untracked' : 'modified' }));
}

/** What in a worktree belongs to the env itself, not to the user: never "work that would be lost". */
export interface EnvOwned {
  /** Gitignored files envs copied in and that are still exactly as it wrote them. */
  untouchedCopies: ReadonlySet<string>;
  /** Paths the env's containers created through bind mounts (its data). */
  dataPaths: readonly string[];
  /** Directories (with a trailing `/`, as git reports an ignored directory) holding nothing but such files. */
  ownDirs?: ReadonlySet<string>;
}

const NOTHING_OWNED: EnvOwned = { untouchedCopies: new Set(), dataPaths: [] };

/** Which of an env's recorded copies and data paths are still its own (a copy the user edited is theirs). */
export async function envOwned(
  worktree: string,
  record: { copiedFiles?: CopiedFile[]; envFiles?: CopiedFile[]; dataPaths?: string[] },
): Promise<EnvOwned> {
  // A file copied for Compose and later given the env's block by the bootstrap: the later hash counts.
  const latest = new Map([...(record.copiedFiles ?? []), ...(record.envFiles ?? [])].map((c) => [c.path, c]));
  const kept = await Promise.all([...latest.values()].map(async (c) => ((await untouched(worktree, c)) ? c.path : undefined)));
  const untouchedCopies = new Set(kept.filter((p) => p !== undefined));
  return { untouchedCopies, dataPaths: record.dataPaths ?? [], ownDirs: await ownDirectories(worktree, untouchedCopies) };
}

/**
 * The directories git may report as one ignored entry (`certs/`) that hold nothing but files envs copied in
 * untouched: those are the env's too. Anything else in such a directory makes it the user's.
 */
async function ownDirectories(worktree: string, files: ReadonlySet<string>): Promise<Set<string>> {
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const own = new Set<string>();
  for (const dir of dirs) {
    const entries = await readdir(join(worktree, ...dir.split('/')), { recursive: true, withFileTypes: true }).catch(() => undefined);
    if (!entries) continue;
    const inside = entries.filter((e) => !e.isDirectory()).map((e) => relative(worktree, join(e.parentPath, e.name)).split(sep).join('/'));
    if (inside.every((path) => files.has(path))) own.add(dir);
  }
  return own;
}

function isOurs(entry: StatusEntry, ours: EnvOwned): boolean {
  if (entry.xy !== '!!' && entry.xy !== '??') return false; // a tracked file's changes are always the user's
  return ours.untouchedCopies.has(entry.path) || inDataPath(entry.path, ours.dataPaths) || (ours.ownDirs?.has(entry.path) ?? false);
}

/**
 * Everything removing an inspected worktree would lose: its files at risk (hidden edits counted as
 * modified), its commits no ref keeps, and the same inside each submodule (paths from the worktree's root).
 */
export function workAtRisk(
  inspection: WorktreeInspection,
  disposable: readonly string[] = DEFAULT_DISPOSABLE,
  ours: EnvOwned = NOTHING_OWNED,
): WorkAtRisk {
  const files = [...filesAtRisk(inspection.status, disposable, ours), ...inspection.hidden.map(hiddenFile)];
  const commits: LostCommit[] = [...inspection.commits];
  for (const sub of inspection.submodules) {
    const within = (f: DirtyFile): DirtyFile => ({ ...f, path: `${sub.path}/${f.path}` });
    files.push(...filesAtRisk(sub.status, disposable).map(within), ...sub.hidden.map(hiddenFile).map(within));
    commits.push(...sub.commits.map((c) => ({ ...c, submodule: sub.path })));
  }
  return { files, commits };
}

function hiddenFile(edit: { path: string; flag: 'skip-worktree' | 'assume-unchanged' }): DirtyFile {
  return { path: edit.path, kind: 'modified', flag: edit.flag };
}
