import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { EnvsError } from '../errors.ts';
import { corruptRecordError, findCorrupt } from './corrupt.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';
import type { EnvRecord } from './record.ts';

/** Finds the env an argument names: its env name, its branch, or a path in its worktree. */
export async function resolveEnv(deps: Deps, arg: string, cwd = deps.cwd): Promise<EnvRecord> {
  const records = await deps.records.list();
  const direct = records.find((r) => r.name === arg) ?? records.find((r) => r.branch === arg);
  if (direct) return direct;
  const path = await realpath(resolve(cwd, arg)).catch(() => resolve(cwd, arg));
  const byPath = records.find((r) => path === r.worktree || path.startsWith(r.worktree + sep));
  if (byPath) return byPath;
  const corrupt = await findCorrupt(deps, arg, cwd);
  if (corrupt) throw corruptRecordError(deps, corrupt);
  throw new EnvsError('ENV_NOT_FOUND', `No env named "${printable(arg)}" in ${deps.git.repo.root}.`, {
    hint:
      records.length > 0
        ? `Name one by branch, env name or worktree path: ${records.map((r) => r.branch).join(', ')}.`
        : 'This repository has no envs yet; make one with `envs create <branch>`.',
  });
}
