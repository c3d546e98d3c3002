import type { ContainerSummary, Engine, WorktreeEntry } from './deps.ts';
import { LABEL } from './labels.ts';
import { corruptView, type DescribeDeps, describe, mergeLookup } from './list.ts';
import { type EnvView, viewOf } from './view.ts';

/**
 * The fleet: every env of every repository under one ENVS_HOME, for the dashboard. Built like `envs list`
 * (one engine query, one `git worktree list` per repository) but for all repositories at once, with the
 * git reads of each env (dirty) through a small pool: the machine is shared and the page polls.
 */

/** One repository of the state directory: its records and the git, locks and processes `describe` reads. */
export interface FleetRepo {
  repoId: string;
  /** The main checkout (from its records); empty when only damaged records say anything. */
  root: string;
  deps: DescribeDeps;
  /** Why its git cannot be read (the checkout moved or is gone): shown on each of its envs. */
  problem?: string;
}

export interface FleetDeps {
  /** Every repository with a records directory. */
  repos(): Promise<FleetRepo[]>;
  engine: Pick<Engine, 'containers' | 'inspect'>;
  now(): Date;
}

/** An env as the dashboard shows it: the JSON of `envs list` plus where it lives and how recently it moved. */
export interface FleetEnv extends EnvView {
  repo_id: string;
  /** Seconds since the env was created (absent when its record does not say). */
  age_seconds?: number;
  /** The latest of: the worktree's HEAD commit, the record's last write, a container's start (ISO time). */
  last_activity?: string;
  last_activity_from?: 'commit' | 'record' | 'container';
}

export interface Fleet {
  envs: FleetEnv[];
  /** False when the engine did not answer: every status is then `unknown`. */
  engine_reachable: boolean;
  generated_at: string;
}

/** Git reads (status of a worktree and its index) at once, at most; the machine has few cores and others on it. */
const GIT_POOL = 4;

export async function readFleet(deps: FleetDeps, options: { concurrency?: number } = {}): Promise<Fleet> {
  const [repos, containers] = await Promise.all([deps.repos(), allContainers(deps.engine)]);
  const started = await startTimes(deps.engine, containers);
  const now = deps.now();
  const perRepo = await Promise.all(
    repos.map(async (repo) => {
      const [{ records, corrupt }, worktrees] = await Promise.all([
        repo.deps.records.scan(),
        repo.deps.git.worktrees().catch((): WorktreeEntry[] => []),
      ]);
      const merged = await mergeLookup(repo.deps, records);
      const mine = containers?.filter((c) => c.labels[LABEL.repo] === repo.repoId);
      const heads = worktrees.flatMap((w) => (w.head && records.some((r) => r.worktree === w.path) ? [w.head] : []));
      const commitTimes = await repo.deps.git.commitTimes(heads).catch(() => new Map<string, number>());
      return { repo, records, corrupt, worktrees, merged, mine, commitTimes };
    }),
  );
  const jobs = perRepo.flatMap(({ repo, records, corrupt, worktrees, merged, mine, commitTimes }) => [
    ...records.map((record) => async (): Promise<FleetEnv> => {
      // One env that cannot be read (a lock directory gone bad…) must not take the page down with it.
      const view = await describe(repo.deps, record, mine, worktrees, merged).catch((error: unknown) =>
        viewOf(record, { status: 'unknown', problems: [`could not be read: ${error instanceof Error ? error.message : String(error)}`] }),
      );
      const head = worktrees.find((w) => w.path === record.worktree)?.head;
      const activity = latest([
        ['commit', head ? commitTimes.get(head) : undefined],
        ['record', Date.parse(record.updatedAt)],
        ['container', Math.max(-1, ...(mine ?? []).filter((c) => c.project === record.project).map((c) => started.get(c.id) ?? -1))],
      ]);
      const created = Date.parse(record.createdAt);
      return {
        ...withProblem(view, repo.problem),
        repo_id: repo.repoId,
        ...(Number.isFinite(created) ? { age_seconds: Math.max(0, Math.round((now.getTime() - created) / 1000)) } : {}),
        ...(activity ? { last_activity: new Date(activity.at).toISOString(), last_activity_from: activity.from } : {}),
      };
    }),
    ...corrupt.map((c) => async (): Promise<FleetEnv> => ({ ...corruptView(repo.deps, c, mine, repo.root), repo_id: repo.repoId })),
  ]);
  const envs = await pool(jobs, options.concurrency ?? GIT_POOL);
  envs.sort((a, b) => (a.repo === b.repo ? (a.name < b.name ? -1 : 1) : a.repo < b.repo ? -1 : 1));
  return { envs, engine_reachable: containers !== undefined, generated_at: now.toISOString() };
}

/**
 * The fleet read at most once per `ttlMs`: a page polling every 2 s (or several pages) costs one read per
 * period; callers during a read share it. `invalidate` after an action so the next poll shows its effect.
 */
export function fleetCache(load: () => Promise<Fleet>, ttlMs: number, clock: () => number = Date.now) {
  let cached: { at: number; value: Promise<Fleet> } | undefined;
  return {
    get(): Promise<Fleet> {
      if (cached && clock() - cached.at < ttlMs) return cached.value;
      const value = load();
      const entry = { at: clock(), value };
      cached = entry;
      // A failed read is not kept: the next request tries again.
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return value;
    },
    invalidate(): void {
      cached = undefined;
    },
  };
}

/** Every container with our labels, in one query; undefined when the engine does not answer (the page still shows the records). */
async function allContainers(engine: FleetDeps['engine']): Promise<ContainerSummary[] | undefined> {
  try {
    return await engine.containers({ [LABEL.managed]: 'true' });
  } catch {
    return undefined;
  }
}

/** When each running container started (ms); the list query does not say, an inspect does. */
async function startTimes(engine: FleetDeps['engine'], containers: ContainerSummary[] | undefined): Promise<Map<string, number>> {
  const running = (containers ?? []).filter((c) => c.state === 'running').map((c) => c.id);
  if (running.length === 0) return new Map();
  const details = await engine.inspect(running).catch(() => []);
  return new Map(details.map((d) => [d.id, Date.parse(d.startedAt)] as const).filter(([, at]) => Number.isFinite(at) && at > 0));
}

function latest(
  candidates: [NonNullable<FleetEnv['last_activity_from']>, number | undefined][],
): { from: NonNullable<FleetEnv['last_activity_from']>; at: number } | undefined {
  let best: { from: NonNullable<FleetEnv['last_activity_from']>; at: number } | undefined;
  for (const [from, at] of candidates) {
    if (at !== undefined && Number.isFinite(at) && at > 0 && (!best || at > best.at)) best = { from, at };
  }
  return best;
}

function withProblem(view: EnvView, problem: string | undefined): EnvView {
  return problem ? { ...view, problems: [...view.problems, problem] } : view;
}

/** Runs the jobs with at most `limit` at once; results in the jobs' order. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const at = next++;
      results[at] = await (jobs[at] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
