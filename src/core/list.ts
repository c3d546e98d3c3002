import { stat } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import { proxyPortFrom } from '../proxy/targets.ts';
import { corruptRecordError, findCorrupt, projectOf } from './corrupt.ts';
import type { ContainerSummary, Deps } from './deps.ts';
import { DEFAULT_DISPOSABLE, envOwned, filesAtRisk } from './dirty.ts';
import { envLock } from './guards.ts';
import { LABEL } from './labels.ts';
import type { CorruptRecord, EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import { deriveStatus, serviceStates } from './status.ts';
import { agentView, type EnvView, viewOf } from './view.ts';

/**
 * `envs list`: the records of this repository, with status from ONE engine query (all containers labelled
 * with the repository) plus `git worktree list` — never a `docker compose` call per env. When the engine
 * does not answer (in time), statuses are `unknown` and each env says why. A record file that cannot be
 * read shows its env as `corrupt`; the others are listed as usual.
 */
export async function listEnvs(deps: Deps): Promise<EnvView[]> {
  const { records, corrupt } = await deps.records.scan();
  if (records.length === 0 && corrupt.length === 0) return [];
  const [containers, worktrees, merged] = await Promise.all([
    containersIfReachable(deps, { [LABEL.repo]: deps.repoId }),
    deps.git.worktrees(),
    mergedBranches(deps),
  ]);
  const views = await Promise.all([
    ...records.map((record) => describe(deps, record, containers, worktrees, merged)),
    ...corrupt.map(async (c) => corruptView(deps, c, containers, deps.git.repo.root)),
  ]);
  return views.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** `envs info`: one env in full (a corrupt one as far as it can be told). */
export async function infoEnv(deps: Deps, arg: string, options: { showSecrets?: boolean; cwd?: string } = {}): Promise<EnvView> {
  let record: EnvRecord;
  try {
    record = await resolveEnv(deps, arg, options.cwd ?? deps.cwd);
  } catch (error) {
    if (!EnvsError.is(error) || (error.code !== 'STATE_CORRUPT' && error.code !== 'ENV_NOT_FOUND')) throw error;
    const corrupt = await findCorrupt(deps, arg, options.cwd ?? deps.cwd);
    if (!corrupt) throw error;
    return corruptView(
      deps,
      corrupt,
      await containersIfReachable(deps, { [LABEL.env]: corrupt.name, [LABEL.repo]: deps.repoId }),
      deps.git.repo.root,
    );
  }
  const [containers, worktrees, merged] = await Promise.all([
    containersIfReachable(deps, { 'com.docker.compose.project': record.project }),
    deps.git.worktrees(),
    mergedBranches(deps),
  ]);
  return describe(deps, record, containers, worktrees, merged, options.showSecrets);
}

/**
 * An env whose record cannot be read: its name (the file's), what the damaged file or the engine's labels
 * still say about it, and the file in `problems` with the fix.
 */
export function corruptView(
  deps: Pick<Deps, 'repoId' | 'records'>,
  corrupt: CorruptRecord,
  containers: ContainerSummary[] | undefined,
  repoRoot: string = '',
): EnvView {
  const project = projectOf(deps.repoId, corrupt);
  const labelled = containers?.find((c) => c.labels[LABEL.env] === corrupt.name || c.project === project);
  const error = corruptRecordError(deps, corrupt);
  return {
    name: corrupt.name,
    branch: corrupt.salvaged.branch ?? labelled?.labels[LABEL.branch] ?? '',
    repo: repoRoot,
    worktree: corrupt.salvaged.worktree ?? '',
    project,
    status: 'corrupt',
    ports: [],
    urls: {},
    direct_urls: {},
    env: {},
    services: [],
    problems: [`${error.message} ${error.hint ?? ''}`.trim()],
    warnings: [],
    base: { ref: '', commit: '' },
    compose_file: deps.records.composeFile(corrupt.name),
    created_at: '',
    updated_at: '',
  };
}

/** What describing one env reads: the repository's git, its records, the env locks and host processes. */
export type DescribeDeps = Pick<Deps, 'git' | 'records' | 'locks' | 'app' | 'repoId' | 'env'>;

/** One env's view from a record, the containers of one engine query and one `git worktree list`. */
export async function describe(
  deps: DescribeDeps,
  record: EnvRecord,
  containers: ContainerSummary[] | undefined,
  worktrees: { path: string; head?: string }[],
  merged: Set<string> | undefined,
  showSecrets = false,
): Promise<EnvView> {
  const entry = worktrees.find((w) => w.path === record.worktree);
  const [busy, worktreeExists, processes, agents] = await Promise.all([
    deps.locks.isHeld(envLock(deps.repoId, record.name)),
    stat(record.worktree).then(
      (s) => s.isDirectory(),
      () => false,
    ),
    deps.app.states(deps.records.envDir(record.name)).catch(() => []),
    deps.app.agents(deps.records.envDir(record.name)).catch(() => []),
  ]);
  const mine = containers?.filter((c) => c.project === record.project);
  const live = deriveStatus(record, {
    containers: mine,
    worktreeExists: worktreeExists && entry !== undefined,
    busy,
    processes,
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
      serviceStates: serviceStates(record, mine),
      processes: processes.map((p) => ({
        name: p.name,
        state: p.state,
        ...(p.exitCode !== undefined && p.exitCode !== null ? { exit_code: p.exitCode } : {}),
        ...(p.port ? { port: p.port } : {}),
        pid: p.pid,
      })),
      agents: agents.map(agentView),
    },
    { showSecrets, proxyPort: proxyPortFrom(deps.env) },
  );
}

async function isDirty(deps: DescribeDeps, record: EnvRecord): Promise<boolean | undefined> {
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

/** Containers by label; undefined when the engine does not answer (in time): reads go on without it. */
async function containersIfReachable(deps: Deps, labels: Record<string, string>): Promise<ContainerSummary[] | undefined> {
  try {
    return await deps.engine.containers(labels);
  } catch (error) {
    if (EnvsError.is(error) && error.code === 'DOCKER_UNAVAILABLE') return undefined;
    throw error;
  }
}
