import type { InstallResult } from '../bootstrap/install.ts';
import type { Config } from '../config/schema.ts';
import { type AppPlan, logFile, processesToStart } from './app.ts';
import type { Progress } from './converge.ts';
import type { Deps } from './deps.ts';
import type { EnvRecord, Phase } from './record.ts';

/** How long a host process may take to answer on its port before create says it failed. */
const PROCESS_READY_MS = 60_000;

export interface AppRunOptions {
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Called before each step so the caller can record the phase. */
  enter?: (phase: Phase) => Promise<void>;
  /** Runs once the dependencies are installed, before the `bootstrap:` commands (the database's seed). */
  beforeBootstrap?: () => Promise<void>;
}

/**
 * Starts the dependency install (the fast way: a copy of the main checkout's node_modules when the lockfile
 * is the same, else pnpm's store or a real install). It needs only the worktree, so create runs it while
 * the containers come up; `finishApp` waits for it.
 */
export function startInstall(deps: Deps, record: EnvRecord, config: Config, options: AppRunOptions): Promise<InstallResult> {
  return deps.app.install({
    worktree: record.worktree,
    baseEnv: deps.env,
    redact: Object.values(record.secrets),
    main: deps.git.repo.root,
    ...(config.install !== undefined ? { config: config.install } : {}),
    env: record.env,
    logFile: logFile(deps, record, 'install'),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/**
 * The steps of create after the containers are up: the install started earlier is waited for, then the
 * `bootstrap:` commands run (migrations, seeds: the database is up), then the host processes start on their
 * leased ports. Each is recorded before it runs; a failing one stops create with its output's tail and
 * leaves the env resumable.
 */
export async function finishApp(
  deps: Deps,
  record: EnvRecord,
  config: Config,
  app: AppPlan,
  installing: Promise<InstallResult>,
  options: AppRunOptions,
): Promise<void> {
  await options.enter?.('deps');
  const installed = await installing;
  // pnpm with a store of its own: later `pnpm add` in the worktree needs to know it.
  Object.assign(record.env, installed.env);
  record.warnings = [...new Set([...record.warnings, ...installed.warnings])];
  // The database's migrate/seed (and a first snapshot) need the dependencies and come before bootstrap:.
  await options.beforeBootstrap?.();

  if ((config.bootstrap ?? []).length > 0) {
    await options.enter?.('bootstrap');
    await deps.app.bootstrap({
      worktree: record.worktree,
      baseEnv: deps.env,
      redact: Object.values(record.secrets),
      commands: config.bootstrap ?? [],
      env: record.env,
      logFile: logFile(deps, record, 'bootstrap'),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  await startApp(deps, record, app, options);
}

/** Starts (or restarts) the env's host processes on their leased ports, with the env's variables. */
export async function startApp(deps: Deps, record: EnvRecord, app: AppPlan, options: AppRunOptions): Promise<void> {
  if (app.processes.length === 0) return;
  await options.enter?.('processes');
  const ports = record.processPorts ?? {};
  await deps.app.start({
    stateDir: deps.records.envDir(record.name),
    session: record.project,
    worktree: record.worktree,
    processes: processesToStart(app, ports),
    ports,
    env: record.env,
    baseEnv: deps.env,
    readyTimeoutMs: PROCESS_READY_MS,
    redact: Object.values(record.secrets),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** Stops every host process of the env, whole process groups (nothing survives); a no-op when none run. */
export async function stopApp(deps: Deps, record: EnvRecord, onProgress?: Progress): Promise<void> {
  await deps.app.stop({ stateDir: deps.records.envDir(record.name), ...(onProgress ? { onProgress } : {}) });
}
