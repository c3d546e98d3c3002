/**
 * envs as a library: the same operations as the CLI, returning the CLI's JSON shapes.
 *
 *   const deps = await openEnvs({ cwd: '/path/to/repo' });
 *   const env = await createEnv(deps, { branch: 'feat/login' });
 *   await destroyEnv(deps, 'feat/login');
 */
export { openEnvs, type OpenOptions } from './wire.ts';
export { createEnv, type CreateRunOptions } from './core/create.ts';
export { planEnv, type PlanView } from './core/preview.ts';
export { listEnvs, infoEnv } from './core/list.ts';
export { destroyEnv, type DestroyOptions, type DestroyResult } from './core/destroy.ts';
export { upEnv, downEnv, type UpDownOptions } from './core/updown.ts';
export { runDoctor, type Check } from './core/doctor.ts';
export type { EnvView } from './core/view.ts';
export type { EnvStatus, EnvRecord, Binding } from './core/record.ts';
export type { Deps } from './core/deps.ts';
export { EnvsError, type ErrorCode } from './errors.ts';
