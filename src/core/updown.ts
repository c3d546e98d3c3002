import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvsError } from '../errors.ts';
import { proxyPortFrom } from '../proxy/targets.ts';
import { planApp } from './app.ts';
import { startApp } from './app-run.ts';
import { converge, type Progress } from './converge.ts';
import { checkCloneBase } from './database.ts';
import type { Deps } from './deps.ts';
import { type OnEvent, Phases } from './events.ts';
import { engineMismatch, envLock, reread } from './guards.ts';
import { LABEL } from './labels.ts';
import { printable } from './naming.ts';
import { defaultBranchConfig, upSettings } from './plan.ts';
import { enforcePolicy } from './policy.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import type { Source } from './source.ts';
import { agentView, type EnvView, viewOf } from './view.ts';
import { readWorktree, renderWorktree } from './worktree-source.ts';

export interface UpDownOptions {
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
  /**
   * `up` only: the env may change what it is made of (other compose files, or the embedded template instead
   * of compose files or back), and containers of services that are gone are removed — only those envs made
   * for this env.
   */
  reconfigure?: boolean;
  /** Each phase as it starts and ends: up's check, ports, compose-file, compose-up, processes; down's check, processes, containers. */
  onEvent?: OnEvent;
}

/**
 * `envs up`: render the worktree's compose files as they are now, keep the env's ports (a port someone
 * took meanwhile is moved), `compose up --wait`. Data volumes are kept. What the env is made of (its
 * compose files, or the embedded template) changes only with `reconfigure`; containers no longer in the
 * model are left alone unless then.
 */
export async function upEnv(deps: Deps, arg: string, options: UpDownOptions = {}): Promise<EnvView> {
  const started = performance.now();
  const resolved = await usable(deps, arg, options.cwd);
  const phases = new Phases('up', resolved.name, options.onEvent);
  phases.enter('check', started);
  return phases.around(async () => {
    if (!(await isDir(resolved.worktree))) {
      throw new EnvsError('ENV_NOT_FOUND', `${resolved.branch}'s worktree ${resolved.worktree} is gone.`, {
        hint: `Remove the rest of the env with \`envs destroy ${resolved.branch}\`.`,
      });
    }
    return deps.locks.with(envLock(deps.repoId, resolved.name), { what: `envs up ${resolved.branch}`, waitMs: 0 }, async () => {
      const record = checkStatus(await reread(deps, resolved));
      const source = await readWorktree(deps, record);
      const change = compositionChange(record, source);
      if (change && !options.reconfigure) {
        throw new EnvsError('COMPOSITION_CHANGED', `${printable(record.branch)}'s env ${change}.`, {
          hint: `Restore what it was made from, or run \`envs up ${printable(record.branch)} --reconfigure\` to rebuild it from what the worktree has now (volumes are kept; containers of services that are gone are removed). Nothing was changed.`,
          details: { recorded: composition(record), worktree: composition(source) },
        });
      }
      await checkCloneBase(deps, record);
      const head = (await deps.git.worktrees()).find((w) => w.path === record.worktree)?.head ?? record.base.commit;
      const [rendered, app, baseConfig] = await Promise.all([
        renderWorktree(deps, record, source),
        planApp(deps, head, source.config),
        defaultBranchConfig(deps),
      ]);
      // The worktree's compose files may have changed since create: the policy holds for what runs now.
      await enforcePolicy(deps, rendered.model, { branch: record.branch, worktree: record.worktree, baseConfig, files: { onDisk: true } });
      await converge(deps, record, rendered, {
        ...upSettings(deps.env, rendered.config),
        app,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        enter: async (phase) => phases.enter(phase),
      });
      if (!source.template) delete record.template;
      if (options.reconfigure) await removeOrphans(deps, record, options.onProgress);
      await startApp(deps, record, app, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        enter: async (phase) => phases.enter(phase),
      });
      record.status = 'running';
      record.updatedAt = deps.now().toISOString();
      await deps.records.put(record);
      return viewOf(record, { status: 'running', problems: [] }, { proxyPort: proxyPortFrom(deps.env) });
    });
  });
}

/** `envs down`: stop the env's containers; containers, volumes and ports are kept for `envs up`. */
export async function downEnv(deps: Deps, arg: string, options: UpDownOptions = {}): Promise<EnvView> {
  const started = performance.now();
  const resolved = await usable(deps, arg, options.cwd);
  const phases = new Phases('down', resolved.name, options.onEvent);
  phases.enter('check', started);
  return phases.around(() =>
    deps.locks.with(envLock(deps.repoId, resolved.name), { what: `envs down ${resolved.branch}`, waitMs: 0 }, async () => {
      const record = checkStatus(await reread(deps, resolved));
      const stateDir = deps.records.envDir(record.name);
      phases.enter('processes');
      await deps.app.stop({ stateDir, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      // An agent is someone's work in progress: down never ends it; it is told, and destroy stops it.
      const agents = (await deps.app.agents(stateDir)).filter((a) => a.running);
      for (const agent of agents) {
        options.onProgress?.({
          step: 'agent',
          message: `agent ${agent.window} (${agent.command}) keeps running in tmux ${agent.session}: \`envs attach ${printable(record.branch)}\` to see it`,
        });
      }
      phases.enter('containers');
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
      return viewOf(record, { status: 'stopped', problems: [], agents: agents.map(agentView) }, { proxyPort: proxyPortFrom(deps.env) });
    }),
  );
}

/** What an env (or a worktree's source) is made of, in words: its compose files, or the embedded template. */
function composition(of: { sourceFiles: string[]; template?: string }): string {
  return of.sourceFiles.length > 0 ? of.sourceFiles.join(' + ') : `the embedded ${of.template ?? 'postgres'} template`;
}

/** How the worktree's source differs from what the env was made of, or undefined when it does not. */
export function compositionChange(record: EnvRecord, source: Source): string | undefined {
  const same =
    record.sourceFiles.length === source.sourceFiles.length &&
    record.sourceFiles.every((file, i) => file === source.sourceFiles[i]) &&
    (record.sourceFiles.length > 0 || (record.template ?? 'postgres') === (source.template ?? 'postgres'));
  if (same) return undefined;
  const before = composition(record);
  const after = composition(source);
  if (source.sourceFiles.length === 0) {
    return `was made from ${before}, but its worktree has no compose file now: up would replace it with ${after}`;
  }
  return `was made from ${before}, but its worktree now gives ${after}`;
}

/**
 * Containers of services no longer in the env's model — only those carrying this env's labels, never
 * one-off `compose run` containers — are removed. Compose's `--remove-orphans` would remove any container
 * of the project, whoever made it.
 */
async function removeOrphans(deps: Deps, record: EnvRecord, onProgress?: Progress): Promise<void> {
  const containers = await deps.engine.containers({
    [LABEL.managed]: 'true',
    [LABEL.repo]: record.repoId,
    [LABEL.env]: record.name,
    [LABEL.project]: record.project,
  });
  const orphans = containers.filter(
    (c) => c.project === record.project && !record.services.includes(c.service) && c.labels['com.docker.compose.oneoff'] !== 'True',
  );
  if (orphans.length === 0) return;
  onProgress?.({
    step: 'orphans',
    message: `removing containers of services that are gone: ${[...new Set(orphans.map((c) => c.service))].join(', ')}`,
  });
  await deps.engine.remove({ containers: orphans.map((c) => c.id), volumes: [], networks: [], images: [] });
}

/** The env, provided it is complete and on the engine we reach. */
async function usable(deps: Deps, arg: string, cwd?: string): Promise<EnvRecord> {
  const record = checkStatus(await resolveEnv(deps, arg, cwd));
  const [engine] = await Promise.all([deps.engine.info(), deps.compose.ensureRunnable()]);
  if (record.engine.id && engine.id !== record.engine.id) throw engineMismatch(record, engine, deps.env);
  return record;
}

/** up and down work on a complete env only. */
function checkStatus(record: EnvRecord): EnvRecord {
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
  return record;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
