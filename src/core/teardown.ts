import { EnvsError } from '../errors.ts';
import type { Deps, LabeledResources } from './deps.ts';
import { LABEL } from './labels.ts';

/** Containers of a throwaway env get this long to stop: its volumes are deleted right after. */
const STOP_TIMEOUT_SECONDS = 3;

/**
 * Removes every engine resource of a project: `composeDown`, then `sweep` what is left. Throws
 * DESTROY_INCOMPLETE when something cannot be removed.
 */
export async function removeResources(deps: Deps, project: string, signal?: AbortSignal): Promise<void> {
  await composeDown(deps, project, signal);
  await sweep(deps, project);
}

/**
 * `docker compose -p <project> down -v`: works from labels, without the compose file,
 * so also when the worktree is gone.
 */
export async function composeDown(deps: Pick<Deps, 'compose' | 'engine'>, project: string, signal?: AbortSignal): Promise<void> {
  const downing = deps.compose.downVolumes(project, STOP_TIMEOUT_SECONDS, signal);
  deps.engine.prepare(); // the sweep after this needs the engine client: load it while Compose works
  await downing;
}

/**
 * What Compose does not remove — built images, one-off `run` containers, resources it lost track of —
 * removed by the project's labels. A removal that succeeds (or finds the resource gone) is the evidence;
 * anything that cannot be removed throws, and the env stays `destroying` for the next run.
 */
export async function sweep(deps: Pick<Deps, 'engine'>, project: string): Promise<void> {
  const left = await leftovers(deps, project);
  if (count(left) === 0) return;
  try {
    await deps.engine.remove(left);
  } catch (error) {
    throw new EnvsError('DESTROY_INCOMPLETE', `Some of ${project}'s resources could not be removed: ${describe(left)}.`, {
      hint: 'Run the command again; if they stay, remove them with `docker rm -f` / `docker volume rm` / `docker network rm`.',
      details: { left },
      cause: error,
    });
  }
}

async function leftovers(deps: Pick<Deps, 'engine'>, project: string): Promise<LabeledResources> {
  const [ours, compose] = await Promise.all([
    deps.engine.labeled({ [LABEL.project]: project }),
    deps.engine.labeled({ 'com.docker.compose.project': project }),
  ]);
  const merge = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return {
    containers: merge(ours.containers, compose.containers),
    volumes: merge(ours.volumes, compose.volumes),
    networks: merge(ours.networks, compose.networks),
    images: ours.images,
  };
}

function count(r: LabeledResources): number {
  return r.containers.length + r.volumes.length + r.networks.length + r.images.length;
}

function describe(r: LabeledResources): string {
  return (['containers', 'volumes', 'networks', 'images'] as const)
    .filter((k) => r[k].length > 0)
    .map((k) => `${r[k].length} ${k}`)
    .join(', ');
}

/**
 * Containers envs ran itself for an env (a clone's holder, a task) that an interrupted run left behind (Ctrl-C
 * exits at once, as a kill would): they carry the env's labels but not Compose's. Running ones are left alone
 * (a self-removing task still at work). create removes them when it resumes the env.
 */
export async function removeStaleTasks(deps: Pick<Deps, 'engine'>, project: string): Promise<void> {
  const left = (await deps.engine.containers({ [LABEL.project]: project })).filter(
    (c) => c.labels['com.docker.compose.project'] === undefined && c.state !== 'running',
  );
  if (left.length > 0) await deps.engine.remove({ containers: left.map((c) => c.id), volumes: [], networks: [], images: [] });
}

/**
 * The containers, volumes and networks the Supabase CLI made for an env (`supabase start` run through
 * `envs exec`): they carry `com.supabase.cli.project=<the env's own project id>`, unique to the env.
 */
export async function sweepSupabase(deps: Deps, projectId: string | undefined): Promise<void> {
  if (!projectId) return;
  const left = await deps.engine.labeled({ 'com.supabase.cli.project': projectId });
  if (left.containers.length + left.volumes.length + left.networks.length === 0) return;
  await deps.engine.remove({ ...left, images: [] });
}
