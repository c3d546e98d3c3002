import { EnvsError } from '../errors.ts';
import type { EngineInfo } from './deps.ts';
import type { EnvRecord } from './record.ts';

/** The name of an env's lock: held by create, up, down and destroy of that env. */
export function envLock(name: string): string {
  return `env-${name}`;
}

/** Nothing is touched on another engine than the one that holds the env's containers. */
export function engineMismatch(record: EnvRecord, engine: EngineInfo): EnvsError {
  return new EnvsError(
    'ENGINE_MISMATCH',
    `${record.branch}'s containers live on another Docker engine (${record.engine.endpoint}) than the one envs reaches now (${engine.endpoint}).`,
    { hint: 'Switch back to that engine (DOCKER_HOST or `docker context use`) and run the command again. Nothing was changed.' },
  );
}
