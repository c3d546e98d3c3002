/**
 * envs as a library: the same operations as the CLI, returning the CLI's JSON shapes.
 *
 *   const deps = await openEnvs({ cwd: '/path/to/repo' });
 *   const env = await createEnv(deps, { branch: 'feat/login', onEvent: (e) => console.error(e) });
 *   await destroyEnv(deps, 'feat/login');
 *
 * Failures the user can fix are `EnvsError`s with a stable `code` and a `hint` (README "Library API").
 */

export { type CreateRunOptions, createEnv } from './core/create.ts';
export type { Deps } from './core/deps.ts';
export { type DestroyOptions, type DestroyResult, destroyEnv } from './core/destroy.ts';
export { type Check, runDoctor } from './core/doctor.ts';
export type { EnvsEvent, ErrorEvent, EventCommand, OnEvent, PhaseEvent } from './core/events.ts';
export { type ExecTarget, execTarget } from './core/exec.ts';
export { infoEnv, type ListOptions, listEnvs } from './core/list.ts';
export { type PlanView, planEnv } from './core/preview.ts';
export { type PruneEntry, type PruneOptions, type PruneResult, pruneMerged } from './core/prune.ts';
export type { Binding, EnvRecord, EnvStatus } from './core/record.ts';
export { downEnv, type UpDownOptions, upEnv } from './core/updown.ts';
export type { EnvView } from './core/view.ts';
export { EnvsError, type ErrorCode } from './errors.ts';
export { type OpenOptions, openEnvs } from './wire.ts';
