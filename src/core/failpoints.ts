import { EnvsError } from '../errors.ts';

/**
 * Named places in the lifecycle where tests make a run die (`ENVS_FAILPOINT=after-ports`, SIGKILL: no
 * cleanup runs) or fail (`ENVS_FAILPOINT=after-ports:error`, an ordinary error: rollback runs).
 */
export const FAILPOINTS = [
  // create, in the order it passes them
  'after-worktree',
  'after-database',
  'after-ports',
  'after-compose-file',
  'after-compose-up',
  'after-seed',
  'after-processes',
  // destroy
  'destroy-after-processes',
  'destroy-after-down',
  'destroy-after-volumes',
  'destroy-after-worktree',
  'destroy-before-record',
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

export function failpoint(env: NodeJS.ProcessEnv, name: Failpoint): void {
  const wanted = env.ENVS_FAILPOINT;
  if (!wanted) return;
  const [point, action] = wanted.split(':');
  if (point !== name) return;
  if (action === 'error') throw new EnvsError('COMPOSE_FAILED', `failpoint ${name} (ENVS_FAILPOINT)`);
  process.kill(process.pid, 'SIGKILL');
}
