import { EnvsError } from '../errors.ts';
import type { Deps, EngineInfo } from './deps.ts';
import type { EnvRecord } from './record.ts';

/** The name of an env's lock: held by create, up, down and destroy of that env. */
export function envLock(name: string): string {
  return `env-${name}`;
}

/**
 * Runs a `git worktree` change of this repository under its lock: concurrent `worktree add -b` race on
 * `.git/config`, so every add and remove (create, its rollback, destroy) takes this one lock.
 */
export function withWorktreeLock<T>(deps: Deps, what: string, fn: () => Promise<T>): Promise<T> {
  return deps.locks.with(`repo-${deps.repoId}`, { what, waitMs: 120_000 }, fn);
}

/** Nothing is touched on another engine than the one that holds the env's containers. */
export function engineMismatch(record: EnvRecord, engine: EngineInfo): EnvsError {
  return new EnvsError(
    'ENGINE_MISMATCH',
    `${record.branch}'s containers live on another Docker engine (${record.engine.endpoint}) than the one envs reaches now (${engine.endpoint}).`,
    { hint: 'Switch back to that engine (DOCKER_HOST or `docker context use`) and run the command again. Nothing was changed.' },
  );
}
