import { stat } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import { proxyPortFrom } from '../proxy/targets.ts';
import { corruptRecordError, findCorrupt, projectOf } from './corrupt.ts';
import type { BranchMerge, ContainerSummary, Deps, WorktreeEntry } from './deps.ts';
import { DEFAULT_DISPOSABLE, envOwned, filesAtRisk } from './dirty.ts';
import { envLock } from './guards.ts';
import { DEFAULT_IDLE_DAYS, isIdle, lastActivity } from './idle.ts';
import { LABEL } from './labels.ts';
import { mergeDecision } from './merge-decision.ts';
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
export interface ListOptions {
  /** The branch `merged` is judged against (default: the repository's default branch). */
  base?: string;
  /** Days without activity that make an env idle (default 7). */
  idleDays?: number;
  /** Only the envs flagged merged / idle. */
  merged?: boolean;
  idle?: boolean;
}

/** ListOptions from the `list` command's options or its MCP tool's input (the same spec: cli/specs.ts). */
export function listOptionsFrom(input: { base?: unknown; idleDays?: unknown; merged?: unknown; idle?: unknown }): ListOptions {
  return {
    ...(typeof input.base === 'string' ? { base: input.base } : {}),
    ...(typeof input.idleDays === 'number' ? { idleDays: input.idleDays } : {}),
    merged: Boolean(input.merged),
    idle: Boolean(input.idle),
  };
}

export async function listEnvs(deps: Deps, options: ListOptions = {}): Promise<EnvView[]> {
  const { records, corrupt } = await deps.records.scan();
  if (records.length === 0 && corrupt.length === 0) return [];
  const [containers, worktrees, merged] = await Promise.all([
    containersIfReachable(deps, { [LABEL.repo]: deps.repoId }),
    deps.git.worktrees(),
    mergeLookup(deps, records, options.base),
  ]);
  const views = await Promise.all([
    ...records.map((record) => describe(deps, record, containers, worktrees, merged)),
    ...corrupt.map(async (c) => corruptView(deps, c, containers, deps.git.repo.root)),
  ]);
  await markIdle(deps, records, views, containers, worktrees, merged, options.idleDays ?? DEFAULT_IDLE_DAYS);
  return views
    .filter((v) => (!options.merged || v.merged === true) && (!options.idle || v.idle === true))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * `idle` and `last_activity` of each env: the latest of its branch tip's commit time, its record's last
 * write and its containers' starts. One git call for all commit times; containers are inspected only for
 * envs that look idle without them (a start is the one thing the engine's list does not say).
 */
async function markIdle(
  deps: Deps,
  records: EnvRecord[],
  views: EnvView[],
  containers: ContainerSummary[] | undefined,
  worktrees: WorktreeEntry[],
  merged: MergeLookup | undefined,
  days: number,
): Promise<void> {
  const tipOf = (r: EnvRecord) => merged?.merges.get(r.branch)?.tip ?? worktrees.find((w) => w.path === r.worktree)?.head;
  const tips = records.flatMap((r) => tipOf(r) ?? []);
  const times = await deps.git.commitTimes([...new Set(tips)]).catch(() => new Map<string, number>());
  const now = deps.now().getTime();
  await Promise.all(
    records.map(async (record) => {
      const view = views.find((v) => v.name === record.name);
      if (!view) return;
      // The engine did not answer: its containers may be in use; no claim either way.
      if (containers === undefined) return;
      const tip = tipOf(record);
      let last = lastActivity([tip ? times.get(tip) : undefined, Date.parse(record.updatedAt)]);
      const mine = (containers ?? []).filter((c) => c.project === record.project);
      if (isIdle(last, now, days) && mine.length > 0) {
        const details = await deps.engine.inspect(mine.map((c) => c.id)).catch(() => undefined);
        if (!details) return;
        last = lastActivity([last, ...details.map((d) => Date.parse(d.startedAt))]);
      }
      view.idle = isIdle(last, now, days);
      if (last !== undefined) view.last_activity = new Date(last).toISOString();
    }),
  );
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
    mergeLookup(deps, [record]),
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
  merged: MergeLookup | undefined,
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
  // Merged: positive evidence that the base holds the branch's work (never for a branch that has not moved).
  const decision = merged ? mergeDecision(record, merged.merges.get(record.branch), merged.base) : undefined;
  return viewOf(
    record,
    {
      ...live,
      ...(dirty !== undefined ? { dirty } : {}),
      ...(decision ? { merged: decision.merged } : {}),
      ...(decision?.merged ? { mergedBy: decision.code as NonNullable<EnvView['merged_by']> } : {}),
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

/** The base `merged` is judged against and the merge evidence of every env's branch. */
export interface MergeLookup {
  base: string;
  merges: ReadonlyMap<string, BranchMerge>;
}

/** Merge evidence for the envs' branches (one batched git pass); undefined when git cannot say (no base). */
export async function mergeLookup(
  deps: Pick<Deps, 'git'>,
  records: Pick<EnvRecord, 'branch' | 'base'>[],
  base?: string,
): Promise<MergeLookup | undefined> {
  try {
    const ref = base ?? (await deps.git.defaultBranch());
    return {
      base: ref,
      merges: await deps.git.mergeStatus(
        ref,
        records.map((r) => ({ branch: r.branch, since: r.base.commit })),
      ),
    };
  } catch (error) {
    // An explicit --base that is no commit is the user's to fix; a repository without a default branch is not.
    if (base !== undefined) throw error;
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
