import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvsError } from '../errors.ts';
import { converge, type Progress } from './converge.ts';
import type { Deps } from './deps.ts';
import { engineMismatch, envLock } from './guards.ts';
import { upSettings } from './plan.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import { type EnvView, viewOf } from './view.ts';
import { renderWorktree } from './worktree-source.ts';

export interface UpDownOptions {
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
}

/**
 * `envs up`: render the worktree's compose files as they are now, keep the env's ports (a port someone
 * took meanwhile is moved), `compose up --wait`. Data volumes are kept.
 */
export async function upEnv(deps: Deps, arg: string, options: UpDownOptions = {}): Promise<EnvView> {
  const record = await usable(deps, arg, options.cwd);
  if (!(await isDir(record.worktree))) {
    throw new EnvsError('ENV_NOT_FOUND', `${record.branch}'s worktree ${record.worktree} is gone.`, {
      hint: `Remove the rest of the env with \`envs destroy ${record.branch}\`.`,
    });
  }
  return deps.locks.with(envLock(record.name), { what: `envs up ${record.branch}`, waitMs: 0 }, async () => {
    const rendered = await renderWorktree(deps, record);
    await converge(deps, record, rendered, {
      ...upSettings(deps.env, rendered.config),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    record.status = 'running';
    record.updatedAt = deps.now().toISOString();
    await deps.records.put(record);
    return viewOf(record, { status: 'running', problems: [] });
  });
}

/** `envs down`: stop the env's containers; containers, volumes and ports are kept for `envs up`. */
export async function downEnv(deps: Deps, arg: string, options: UpDownOptions = {}): Promise<EnvView> {
  const record = await usable(deps, arg, options.cwd);
  return deps.locks.with(envLock(record.name), { what: `envs down ${record.branch}`, waitMs: 0 }, async () => {
    options.onProgress?.({ step: 'stop', message: `docker compose -p ${record.project} stop` });
    await deps.compose.stop({
      project: record.project,
      file: record.composeFile,
      projectDir: (await isDir(record.projectDir)) ? record.projectDir : dirname(record.composeFile),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    record.status = 'stopped';
    record.updatedAt = deps.now().toISOString();
    await deps.records.put(record);
    return viewOf(record, { status: 'stopped', problems: [] });
  });
}

/** The env, provided it is complete and on the engine we reach. */
async function usable(deps: Deps, arg: string, cwd?: string): Promise<EnvRecord> {
  const record = await resolveEnv(deps, arg, cwd);
  if (record.status === 'creating' || record.status === 'destroying' || record.status === 'failed') {
    throw new EnvsError(
      'ENV_BUSY',
      `${record.branch}'s env is ${record.status === 'failed' ? 'failed' : `half ${record.status === 'creating' ? 'created' : 'destroyed'}`}.`,
      {
        hint:
          record.status === 'destroying'
            ? `Finish with \`envs destroy ${record.branch}\`.`
            : `Finish it with \`envs create ${record.branch}\`, or remove it with \`envs destroy ${record.branch}\`.`,
      },
    );
  }
  const engine = await deps.engine.info();
  if (record.engine.id && engine.id !== record.engine.id) throw engineMismatch(record, engine);
  return record;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
