import { stat } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import type { ContainerSummary, Deps } from './deps.ts';
import { DEFAULT_DISPOSABLE, envOwned, filesAtRisk } from './dirty.ts';
import { envLock } from './guards.ts';
import { LABEL } from './labels.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import { deriveStatus } from './status.ts';
import { type EnvView, viewOf } from './view.ts';

/**
 * `envs list`: the records of this repository, with status from ONE engine query (all containers labelled
 * with the repository) plus `git worktree list` — never a `docker compose` call per env. When the engine
 * does not answer, statuses are the recorded ones and each env says so.
 */
export async function listEnvs(deps: Deps): Promise<EnvView[]> {
  const records = await deps.records.list();
  if (records.length === 0) return [];
  const [containers, worktrees, merged] = await Promise.all([
    containersIfReachable(deps, { [LABEL.repo]: deps.repoId }),
    deps.git.worktrees(),
    mergedBranches(deps),
  ]);
  return Promise.all(records.map((record) => describe(deps, record, containers, worktrees, merged)));
}

/** `envs info`: one env in full. */
export async function infoEnv(deps: Deps, arg: string, options: { showSecrets?: boolean; cwd?: string } = {}): Promise<EnvView> {
  const record = await resolveEnv(deps, arg, options.cwd);
  const [containers, worktrees, merged] = await Promise.all([
    containersIfReachable(deps, { 'com.docker.compose.project': record.project }),
    deps.git.worktrees(),
    mergedBranches(deps),
  ]);
  return describe(deps, record, containers, worktrees, merged, options.showSecrets);
}

async function describe(
  deps: Deps,
  record: EnvRecord,
  containers: ContainerSummary[] | undefined,
  worktrees: { path: string; head?: string }[],
  merged: Set<string> | undefined,
  showSecrets = false,
): Promise<EnvView> {
  const entry = worktrees.find((w) => w.path === record.worktree);
  const [busy, worktreeExists] = await Promise.all([
    deps.locks.isHeld(envLock(deps.repoId, record.name)),
    stat(record.worktree).then(
      (s) => s.isDirectory(),
      () => false,
    ),
  ]);
  const live = deriveStatus(record, {
    containers: containers?.filter((c) => c.project === record.project),
    worktreeExists: worktreeExists && entry !== undefined,
    busy,
  });
  const dirty = entry && worktreeExists ? await isDirty(deps, record) : undefined;
  // Merged: the tip moved since the env was made and the default branch now contains it.
  const isMerged = merged && entry?.head ? merged.has(record.branch) && entry.head !== record.base.commit : undefined;
  return viewOf(
    record,
    {
      ...live,
      ...(dirty !== undefined ? { dirty } : {}),
      ...(isMerged !== undefined ? { merged: isMerged } : {}),
      worktreeExists,
    },
    { showSecrets },
  );
}

async function isDirty(deps: Deps, record: EnvRecord): Promise<boolean | undefined> {
  try {
    const [status, hidden, ours] = await Promise.all([
      deps.git.status(record.worktree),
      deps.git.hiddenEdits(record.worktree),
      envOwned(record.worktree, record),
    ]);
    return hidden.length > 0 || filesAtRisk(status, DEFAULT_DISPOSABLE, ours).length > 0;
  } catch {
    return undefined;
  }
}

async function mergedBranches(deps: Deps): Promise<Set<string> | undefined> {
  try {
    return await deps.git.mergedInto(await deps.git.defaultBranch());
  } catch {
    return undefined;
  }
}

/** Containers by label; undefined when the engine does not answer (reads go on from the records). */
async function containersIfReachable(deps: Deps, labels: Record<string, string>): Promise<ContainerSummary[] | undefined> {
  try {
    return await deps.engine.containers(labels);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (EnvsError.is(error) || code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') return undefined;
    throw error;
  }
}
