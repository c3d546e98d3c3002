import { realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { slugForBranch } from './naming.ts';
import type { CorruptRecord } from './record.ts';

/**
 * A record file that cannot be read stops only its own env. Commands that would act on it refuse with
 * STATE_CORRUPT: without its record envs cannot know for sure what the env is made of (its worktree, its
 * branch, whether the worktree holds work), and it deletes nothing on absence of evidence.
 */

/** The project of an env named `name` (the same rule as naming.namesFor). */
export function projectOf(repoId: string, corrupt: CorruptRecord): string {
  return corrupt.salvaged.project ?? `envs-${repoId}-${corrupt.name}`;
}

export function corruptRecordError(deps: Pick<Deps, 'repoId' | 'records'>, corrupt: CorruptRecord): EnvsError {
  const details = { file: corrupt.file, name: corrupt.name, reason: corrupt.reason };
  if (corrupt.newer) {
    return new EnvsError('STATE_CORRUPT', `The record of env ${corrupt.name} (${corrupt.file}) cannot be read: ${corrupt.reason}.`, {
      hint: 'Use the newer version of envs that wrote it. Nothing was changed.',
      details,
    });
  }
  const worktree = corrupt.salvaged.worktree ?? join(deps.records.worktreesRoot, corrupt.name);
  return new EnvsError('STATE_CORRUPT', `The record of env ${corrupt.name} (${corrupt.file}) is damaged: ${corrupt.reason}.`, {
    hint:
      'envs will not act on an env it cannot read. Restore the file from a backup, or move it aside with `envs doctor --fix` ' +
      `and remove the env by hand: \`docker compose -p ${projectOf(deps.repoId, corrupt)} down --volumes\`, then ` +
      `\`git worktree remove ${worktree}\` (check it for work first). Nothing was changed.`,
    details,
  });
}

/** The corrupt record an `<env>` argument names: by env name, by branch (its name is derived), or by a path in its worktree. */
export async function findCorrupt(deps: Deps, arg: string, cwd: string = deps.cwd): Promise<CorruptRecord | undefined> {
  const { corrupt } = await deps.records.scan();
  if (corrupt.length === 0) return undefined;
  const slug = slugForBranch(arg);
  const direct = corrupt.find((c) => c.name === arg || c.salvaged.branch === arg || c.name === slug);
  if (direct) return direct;
  const path = await realpath(resolve(cwd, arg)).catch(() => resolve(cwd, arg));
  return corrupt.find((c) => {
    const worktree = c.salvaged.worktree ?? join(deps.records.worktreesRoot, c.name);
    return path === worktree || path.startsWith(worktree + sep);
  });
}
