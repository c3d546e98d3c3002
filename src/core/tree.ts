import { readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';

/** Reads repository files (POSIX paths from the root); missing ones are absent from the result. */
export type FileReader = (paths: string[]) => Promise<Map<string, Buffer>>;

/**
 * A tree of repository files: a commit (nothing checked out) or a checkout on disk. Links that resolve
 * outside the repository are refused (OUTSIDE_REPO), never followed.
 */
export interface Tree {
  read: FileReader;
  /** Every tracked path (to find compose files deeper in the tree). */
  tracked(): Promise<string[]>;
  /** The checkout's directory, when the tree is on disk. */
  dir?: string;
}

/** A commit's files, read with git (symlinks inside the tree followed by git). */
export function commitTree(deps: Deps, commit: string): Tree {
  return {
    read: async (paths) => {
      const read = await deps.git.readTree(
        commit,
        paths.filter((p) => !p.includes('\n')),
      );
      const files = new Map<string, Buffer>();
      for (const [path, entry] of read) {
        if (entry.kind === 'outside') throw outsideRepo(path, entry.target);
        files.set(path, entry.content);
      }
      return files;
    },
    tracked: () => deps.git.listFiles(commit),
  };
}

/** A checkout's files on disk; a path whose real location is outside the checkout is refused. */
export function dirTree(deps: Deps, dir: string): Tree {
  return {
    read: dirReader(dir),
    tracked: async () => deps.git.listFiles(await headOf(deps, dir)),
    dir,
  };
}

async function headOf(deps: Deps, dir: string): Promise<string> {
  const entry = (await deps.git.worktrees()).find((w) => w.path === dir);
  return entry?.head ?? 'HEAD';
}

/** Files of a directory on disk, confined to it: a symlink leading out of it is refused. */
export function dirReader(dir: string): FileReader {
  return async (paths) => {
    const found = new Map<string, Buffer>();
    await Promise.all(
      paths.map(async (path) => {
        const read = await readConfined(dir, path);
        if (read) found.set(path, read.content);
      }),
    );
    return found;
  };
}

/**
 * One file of `root` by its repository-relative path, following symlinks only as long as they stay inside
 * `root`. Returns its content and where it really is (repository-relative); undefined when it is missing
 * or a directory; OUTSIDE_REPO when it resolves outside.
 */
export async function readConfined(root: string, path: string): Promise<{ content: Buffer; real: string } | undefined> {
  let real: string;
  try {
    real = await realpath(join(root, ...path.split('/')));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const rootReal = await realpath(root);
  if (real !== rootReal && !real.startsWith(rootReal + sep)) throw outsideRepo(path, real);
  if (!(await stat(real)).isFile()) return undefined;
  return { content: await readFile(real), real: relative(rootReal, real).split(sep).join('/') };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

export function outsideRepo(path: string, target: string, where?: string): EnvsError {
  const what = where ? `${where}: ${printable(path)}` : printable(path);
  return new EnvsError('OUTSIDE_REPO', `${what} resolves outside the repository (${printable(target)}); envs reads only files inside it.`, {
    hint:
      'Keep the files a compose file needs inside the repository (gitignored if they hold secrets). To allow a path outside, ' +
      'list it under `policy: allowPaths:` in envs.yaml on the default branch (a branch cannot allow itself).',
  });
}

/**
 * A tree whose missing files are looked up in the main checkout, but only when git ignores them there
 * (a `.env` copied from `.env.example`, never a file someone forgot to commit). What it finds this way is
 * listed in `copies` (repository-relative, where the file really is): create copies those into the
 * worktree before Compose reads it.
 */
export class WithIgnoredFromMain implements Tree {
  readonly copies = new Set<string>();
  readonly dir?: string;
  private readonly deps: Deps;
  private readonly inner: Tree;

  constructor(deps: Deps, inner: Tree) {
    this.deps = deps;
    this.inner = inner;
    if (inner.dir) this.dir = inner.dir;
  }

  tracked(): Promise<string[]> {
    return this.inner.tracked();
  }

  read: FileReader = async (paths) => {
    const found = await this.inner.read(paths);
    const main = this.deps.git.repo.root;
    const missing = paths.filter((p) => !found.has(p));
    if (missing.length === 0 || this.inner.dir === main) return found;
    const candidates = new Map<string, { content: Buffer; real: string }>();
    await Promise.all(
      missing.map(async (path) => {
        const read = await readConfined(main, path);
        if (read) candidates.set(path, read);
      }),
    );
    if (candidates.size === 0) return found;
    const ignored = await this.deps.git.ignored(main, [...new Set([...candidates.values()].map((c) => c.real))]);
    for (const [path, read] of candidates) {
      if (!ignored.has(read.real)) continue;
      found.set(path, read.content);
      this.copies.add(read.real);
    }
    return found;
  };
}
