import { EnvsError } from '../errors.ts';

/**
 * Named places in the lifecycle where tests make a run die (`ENVS_FAILPOINT=after-ports`, SIGKILL: no
 * cleanup runs) or fail (`ENVS_FAILPOINT=after-ports:error`, an ordinary error: rollback runs).
 */
export type Failpoint = 'after-worktree' | 'after-ports' | 'after-compose-file' | 'after-compose-up' | 'destroy-after-down';

export function failpoint(env: NodeJS.ProcessEnv, name: Failpoint): void {
  const wanted = env.ENVS_FAILPOINT;
  if (!wanted) return;
  const [point, action] = wanted.split(':');
  if (point !== name) return;
  if (action === 'error') throw new EnvsError('COMPOSE_FAILED', `failpoint ${name} (ENVS_FAILPOINT)`);
  process.kill(process.pid, 'SIGKILL');
}
