import { basename } from 'node:path';
import { runGit } from '../git/run.ts';

/**
 * The git questions bootstrap asks: which files git ignores, which match gitignore-style patterns, which
 * are tracked. git does every match (gitignore and pathspec semantics are its own); we only split NUL
 * lists and compare whole paths.
 */

const split = (stdout: string) => stdout.split('\0').filter(Boolean);
const literal = (path: string) => `:(literal)${path}`;

/** Ignored directories never worth entering for env files: dependencies and build output. */
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  '.next',
  '.turbo',
  '.pnpm-store',
  '.yarn',
  'dist',
  'build',
  'coverage',
  '.venv',
  '.cache',
]);

/**
 * Untracked files ignored by the repository's own rules (.gitignore, info/exclude, core.excludesFile)
 * that match `patterns` (`**`-prefixed globs) and none of `excludes`. First pass with `--directory`, so
 * git reports ignored directories without walking them; then only the ignored directories that may hold
 * configuration (not node_modules, .next, …) are entered.
 */
export async function listIgnoredMatching(
  env: NodeJS.ProcessEnv,
  cwd: string,
  patterns: readonly string[],
  excludes: readonly string[],
): Promise<string[]> {
  const base = ['ls-files', '-z', '--others', '--ignored', '--exclude-standard'];
  const exclude = excludes.map((e) => `:(exclude,glob)${e}`);
  const first = split(
    (await runGit([...base, '--directory', '--', ...patterns.map((p) => `:(glob)${p}`), ...exclude], { env, cwd })).stdout,
  );
  const files = first.filter((p) => !p.endsWith('/'));
  const dirs = first.filter((p) => p.endsWith('/') && !SKIP_DIRS.has(basename(p)));
  if (dirs.length > 0) {
    const inside = dirs.flatMap((dir) => patterns.map((p) => `:(glob)${dir}${p}`));
    files.push(...split((await runGit([...base, '--', ...inside, ...exclude], { env, cwd })).stdout));
  }
  return [...new Set(files)].sort();
}

/**
 * Untracked files that match gitignore-syntax patterns (`.worktreeinclude`, `copy:`), split by whether
 * the repository also ignores them — only those are safe to copy (Claude Code's rule for .worktreeinclude);
 * the others would show up as untracked files in the worktree.
 */
export async function listIncluded(
  env: NodeJS.ProcessEnv,
  cwd: string,
  options: { excludeFrom?: string; patterns?: readonly string[] },
): Promise<{ ignored: string[]; notIgnored: string[] }> {
  const args = ['ls-files', '-z', '--others', '--ignored'];
  if (options.excludeFrom) args.push(`--exclude-from=${options.excludeFrom}`);
  for (const pattern of options.patterns ?? []) args.push(`--exclude=${pattern}`);
  if (args.length === 4) return { ignored: [], notIgnored: [] };
  const candidates = split((await runGit(args, { env, cwd })).stdout).filter((p) => !p.endsWith('/'));
  const ignored = await ignoredAmong(env, cwd, candidates);
  return { ignored: candidates.filter((p) => ignored.has(p)).sort(), notIgnored: candidates.filter((p) => !ignored.has(p)).sort() };
}

/** Which of `paths` the checkout at `cwd` ignores (tracked files are never ignored). */
export async function ignoredAmong(env: NodeJS.ProcessEnv, cwd: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const result = await runGit(['check-ignore', '-z', '--stdin'], { env, cwd, input: `${paths.join('\0')}\0`, okCodes: [1] });
  return new Set(split(result.stdout));
}

/** Which of `paths` match any of the gitignore-syntax `patterns` (and are untracked). */
export async function matchingPatterns(
  env: NodeJS.ProcessEnv,
  cwd: string,
  paths: readonly string[],
  patterns: readonly string[],
): Promise<Set<string>> {
  if (paths.length === 0 || patterns.length === 0) return new Set();
  const args = ['ls-files', '-z', '--others', '--ignored', ...patterns.map((p) => `--exclude=${p}`), '--', ...paths.map(literal)];
  return new Set(split((await runGit(args, { env, cwd })).stdout));
}

/** Which of `paths` are tracked in the checkout at `cwd` (its index). */
export async function trackedAmong(env: NodeJS.ProcessEnv, cwd: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  return new Set(split((await runGit(['ls-files', '-z', '--', ...paths.map(literal)], { env, cwd })).stdout));
}

/** Which of `paths` are tracked at `commit` (for `plan`, before any worktree exists). */
export async function trackedAtCommit(env: NodeJS.ProcessEnv, cwd: string, commit: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const result = await runGit(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit, '--', ...paths], { env, cwd });
  const wanted = new Set(paths);
  return new Set(split(result.stdout).filter((p) => wanted.has(p)));
}
