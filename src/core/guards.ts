import { EnvsError } from '../errors.ts';
import type { Deps, EngineInfo } from './deps.ts';
import type { EnvRecord } from './record.ts';

/**
 * The name of an env's lock: held by create, up, down and destroy of that env. It names the repository
 * too: the same branch in two clones has the same env name, and must not share a lock.
 */
export function envLock(repoId: string, name: string): string {
  return `env-${repoId}-${name}`;
}

/**
 * The env's record as it is now, read under its lock: between resolving the argument and taking the lock
 * another envs process may have changed the env (or removed it), and writing back the earlier copy would
 * undo that.
 */
export async function reread(deps: Deps, record: EnvRecord): Promise<EnvRecord> {
  const now = await deps.records.get(record.name);
  if (!now) {
    throw new EnvsError('ENV_NOT_FOUND', `${record.branch}'s env was removed by another envs process meanwhile.`, {
      hint: '`envs list` shows the envs that are left.',
    });
  }
  return now;
}

/**
 * Runs a `git worktree` change of this repository under its lock: concurrent `worktree add -b` race on
 * `.git/config`, so every add and remove (create, its rollback, destroy) takes this one lock.
 */
export function withWorktreeLock<T>(deps: Deps, what: string, fn: () => Promise<T>): Promise<T> {
  return deps.locks.with(`repo-${deps.repoId}`, { what, waitMs: 120_000 }, fn);
}

/** Nothing is touched on another engine than the one that holds the env's containers. */
export function engineMismatch(record: EnvRecord, engine: EngineInfo, env: NodeJS.ProcessEnv = {}): EnvsError {
  return new EnvsError(
    'ENGINE_MISMATCH',
    `${record.branch}'s containers live on another Docker engine (${record.engine.endpoint}) than the one envs reaches now (${engine.endpoint}, ${engineChoice(env)}).`,
    {
      hint: 'Switch back to that engine (DOCKER_HOST, DOCKER_CONTEXT or `docker context use`) and run the command again. Nothing was changed.',
    },
  );
}

/** Which setting chose the engine, for a person. */
function engineChoice(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_HOST) return 'chosen by DOCKER_HOST';
  if (env.DOCKER_CONTEXT) return `chosen by DOCKER_CONTEXT=${env.DOCKER_CONTEXT}`;
  return 'chosen by the active docker context';
}
