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
export function filesAtRisk(entries: StatusEntry[], disposable: readonly string[] = DEFAULT_DISPOSABLE): DirtyFile[] {
  const names = new Set(disposable.filter((d) => !d.startsWith('*.')));
  const suffixes = disposable.filter((d) => d.startsWith('*.')).map((d) => d.slice(1));
  const isDisposable = (path: string) => {
    const segments = path.replace(/\/$/, '').split('/');
    const last = segments[segments.length - 1] ?? '';
    return segments.some((s) => names.has(s)) || suffixes.some((suffix) => last.endsWith(suffix));
  };
  return entries
    .filter((entry) => entry.xy !== '!!' || !isDisposable(entry.path))
    .map((entry) => ({ path: entry.path, kind: entry.xy === '!!' ? 'ignored' : entry.xy === '??' ? 'untracked' : 'modified' }));
}

/**
 * Everything removing an inspected worktree would lose: its files at risk (hidden edits counted as
 * modified), its commits no ref keeps, and the same inside each submodule (paths from the worktree's root).
 */
export function workAtRisk(inspection: WorktreeInspection, disposable: readonly string[] = DEFAULT_DISPOSABLE): WorkAtRisk {
  const files = [...filesAtRisk(inspection.status, disposable), ...inspection.hidden.map(hiddenFile)];
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
