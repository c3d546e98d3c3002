import { createHash } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A file create copied into the worktree, with the SHA-256 of what it wrote. */
export interface CopiedFile {
  path: string;
  sha256: string;
}

/**
 * Copies gitignored files the env needs (repository-relative) from the main checkout into the worktree,
 * mode 0600, never over a file the worktree already has (a resumed create keeps what it copied before).
 * Returns every file copied for the env so far, with its hash, so destroy can tell an untouched copy
 * (disposable) from one the user edited (theirs).
 */
export async function copyFromMain(
  main: string,
  worktree: string,
  paths: readonly string[],
  before: readonly CopiedFile[],
): Promise<CopiedFile[]> {
  const copied = new Map(before.map((c) => [c.path, c]));
  for (const path of paths) {
    const target = join(worktree, ...path.split('/'));
    if (await exists(target)) continue;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(main, ...path.split('/')), target);
    await chmod(target, 0o600);
    copied.set(path, { path, sha256: await sha256(target) });
  }
  return [...copied.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Whether a copied file is still exactly what create wrote (missing counts as unchanged: nothing to lose). */
export async function untouched(worktree: string, file: CopiedFile): Promise<boolean> {
  try {
    return (await sha256(join(worktree, ...file.path.split('/')))) === file.sha256;
  } catch {
    return true;
  }
}

/** Which of the candidate data paths do not exist in the worktree yet (plus those recorded before). */
export async function absentPaths(worktree: string, candidates: readonly string[], before: readonly string[]): Promise<string[]> {
  const absent = new Set(before);
  for (const path of candidates) if (!(await exists(join(worktree, ...path.split('/'))))) absent.add(path);
  return [...absent].sort();
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
