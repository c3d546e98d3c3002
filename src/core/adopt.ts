import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { EnvsError } from '../errors.ts';
import { type CreateRunOptions, createEnv } from './create.ts';
import type { Deps, WorktreeEntry } from './deps.ts';
import { printable } from './naming.ts';
import type { EnvView } from './view.ts';

/** A worktree of the repository that no env has (`envs list --unmanaged`). */
export interface UnmanagedWorktree {
  path: string;
  /** Null for a detached HEAD (such a worktree cannot be adopted before it is on a branch). */
  branch: string | null;
  head: string | null;
}

/**
 * `envs adopt <path>`: an env for a worktree someone else made (`git worktree add`, Claude Code, Conductor).
 * No checkout and no tracked file changes: the worktree stays on its branch as it is; only gitignored files
 * the main checkout has and the worktree lacks are copied in (and env files written, as for any env). Its
 * record says `adopted`, so destroy keeps the worktree unless asked (`--worktree`).
 */
export async function adoptEnv(
  deps: Deps,
  path: string,
  options: Omit<CreateRunOptions, 'branch' | 'adopt' | 'from'> = {},
): Promise<EnvView> {
  const worktrees = await deps.git.worktrees();
  const entry = await worktreeAt(worktrees, resolve(deps.cwd, path));
  const shown = printable(path);
  if (!entry) {
    throw new EnvsError('NOT_A_WORKTREE', `${shown} is not a worktree of ${deps.git.repo.root}.`, {
      hint: '`git worktree list` shows its worktrees; `envs create <branch>` makes a new one with its env.',
    });
  }
  if (entry.path === worktrees[0]?.path || entry.path === deps.git.repo.root) {
    throw new EnvsError('NOT_A_WORKTREE', `${shown} is the main checkout: an env gets a worktree of its own.`, {
      hint: 'Run `envs create <branch>` for a new worktree and env, or adopt one of the other worktrees (`envs list --unmanaged`).',
    });
  }
  if (!entry.branch) {
    throw new EnvsError(
      'NOT_A_WORKTREE',
      `${printable(entry.path)} has no branch checked out (a detached HEAD): an env belongs to a branch.`,
      {
        hint: `Put it on a branch first (\`git -C ${printable(entry.path)} switch -c <branch>\`), then adopt it.`,
      },
    );
  }
  return createEnv(deps, { ...options, branch: entry.branch, adopt: entry.path });
}

/** The repository's worktrees other than the main checkout that no env (readable or not) has. */
export async function unmanagedWorktrees(deps: Deps): Promise<UnmanagedWorktree[]> {
  const [worktrees, { records, corrupt }] = await Promise.all([deps.git.worktrees(), deps.records.scan()]);
  const taken = new Set(
    await Promise.all(
      [...records.map((r) => r.worktree), ...corrupt.flatMap((c) => (c.salvaged.worktree ? [c.salvaged.worktree] : []))].map(real),
    ),
  );
  const main = worktrees[0]?.path;
  const others = worktrees.filter((w) => !w.bare && !w.prunable && w.path !== main && w.path !== deps.git.repo.root);
  const paths = await Promise.all(others.map((w) => real(w.path)));
  return others
    .filter((_, i) => !taken.has(paths[i] as string))
    .map((w) => ({ path: w.path, branch: w.branch ?? null, head: w.head ?? null }));
}

/** The worktree holding `path` (the innermost, should worktrees nest). */
async function worktreeAt(worktrees: WorktreeEntry[], path: string): Promise<WorktreeEntry | undefined> {
  const target = await real(path);
  const roots = await Promise.all(worktrees.map(async (w) => ({ w, root: await real(w.path) })));
  return roots.filter(({ root }) => target === root || target.startsWith(root + sep)).sort((a, b) => b.root.length - a.root.length)[0]?.w;
}

async function real(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}
