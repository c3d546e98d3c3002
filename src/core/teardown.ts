import { EnvsError } from '../errors.ts';
import type { Deps, LabeledResources } from './deps.ts';
import { LABEL } from './labels.ts';

/** Containers of a throwaway env get this long to stop: its volumes are deleted right after. */
const STOP_TIMEOUT_SECONDS = 3;

/**
 * Removes every engine resource of a project: `docker compose -p <project> down -v --remove-orphans`
 * (works from labels, without the compose file), then whatever still carries the project's labels
 * (one-off `run` containers, built images, resources Compose lost track of). Verifies nothing is left.
 */
export async function removeResources(deps: Deps, project: string, signal?: AbortSignal): Promise<void> {
  const downing = deps.compose.downVolumes(project, STOP_TIMEOUT_SECONDS, signal);
  deps.engine.prepare(); // the sweep below needs the engine client: load it while Compose works
  await downing;
  const left = await leftovers(deps, project);
  if (count(left) === 0) return;
  await deps.engine.remove(left);
  const still = await leftovers(deps, project);
  if (count(still) > 0) {
    throw new EnvsError('DESTROY_INCOMPLETE', `Some of ${project}'s resources could not be removed: ${describe(still)}.`, {
      hint: 'Run the command again; if they stay, remove them with `docker rm -f` / `docker volume rm` / `docker network rm`.',
      details: { left: still },
    });
  }
}

async function leftovers(deps: Deps, project: string): Promise<LabeledResources> {
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
