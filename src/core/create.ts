import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSnapshotName, timestampSuffix } from '../db/snapshots.ts';
import { EnvsError } from '../errors.ts';
import { proxyPortFrom } from '../proxy/targets.ts';
import { logFile } from './app.ts';
import { finishApp, startInstall, stopApp } from './app-run.ts';
import { converge, type Leased, leaseFor, type Progress } from './converge.ts';
import { absentPaths, copyFromMain } from './copies.ts';
import { databaseRecord, dropDatabase, FORK_PREFIX, prepareClone, seedDatabase, snapshotEnv } from './database.ts';
import type { Deps } from './deps.ts';
import { type OnEvent, Phases } from './events.ts';
import { failpoint } from './failpoints.ts';
import { envLock, withWorktreeLock } from './guards.ts';
import { namesFor } from './naming.ts';
import { type CreateOptions, type EnvPlan, planCreate } from './plan.ts';
import type { EnvRecord, Phase } from './record.ts';
import { settledInOrder } from './settled.ts';
import { createFromTemplate, credentialsOf, ensureSharedRunning, ensureSharedServer, envDatabaseName, serverOf } from './shared-db.ts';
import { removeResources, removeStaleTasks } from './teardown.ts';
import { type EnvView, viewOf } from './view.ts';

export interface CreateRunOptions extends CreateOptions {
  /** On failure keep what was made and record the env as `failed` (default: roll back). */
  keepOnFailure?: boolean;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** A plan made moments ago for these options (`envs agent` reads it before creating); default: plan now. */
  plan?: EnvPlan;
  /** Each phase as it starts and ends (`plan`, then the record's phases, `rollback` after a failure). */
  onEvent?: OnEvent;
}

/**
 * `envs create`: plan (all checks, no side effects), then under the env's lock: worktree, ports, compose
 * file, `compose up`, each phase recorded before it runs. A failure rolls back what this run made (or, with
 * keepOnFailure or when resuming, leaves the env `failed` for `destroy`); a killed run leaves a record that
 * `list` shows as `partial` and that `create` resumes or `destroy` removes.
 */
export async function createEnv(deps: Deps, options: CreateRunOptions): Promise<EnvView> {
  // The env's name is a pure function of the branch: known before the plan (a bad branch fails `plan`).
  const phases = new Phases('create', namesFor(deps.repoId, options.branch).name, options.onEvent);
  phases.enter('plan');
  return phases.around(async () => {
    const plan = options.plan ?? (await planCreate(deps, options));
    return lockedCreate(deps, plan, options, phases);
  });
}

function lockedCreate(deps: Deps, plan: EnvPlan, options: CreateRunOptions, phases: Phases): Promise<EnvView> {
  return deps.locks.with(envLock(deps.repoId, plan.names.name), { what: `envs create ${plan.branch}`, waitMs: 0 }, async () => {
    // Under the lock, read before the first change (at once; the first error in this order):
    // - between planning and locking another process may have made (or finished) this env;
    // - a damaged registry stops create here (STATE_CORRUPT), not in its rollback;
    // - the worktree's path, as it is now (refuses a path someone filled meanwhile).
    const [, , worktree] = await settledInOrder([
      deps.records.get(plan.names.name).then((now) => {
        if (now && now.updatedAt !== plan.resume?.updatedAt) {
          throw new EnvsError('ENV_EXISTS', `${plan.branch} got an env from another envs process meanwhile.`, {
            hint: `See it with \`envs info ${plan.branch}\`.`,
          });
        }
      }),
      deps.ports.leases(plan.names.project),
      worktreeStep(deps, plan),
    ] as const);
    return applyCreate(deps, plan, options, phases, worktree);
  });
}

async function applyCreate(deps: Deps, plan: EnvPlan, options: CreateRunOptions, phases: Phases, worktree: WorktreeStep): Promise<EnvView> {
  const record = plan.resume ? { ...plan.resume, status: 'creating' as const, error: undefined } : newRecord(deps, plan);
  const made = { worktree: false, branchAt: undefined as string | undefined, resources: false };
  const enter = async (phase: Phase) => {
    phases.enter(phase);
    record.phase = phase;
    record.updatedAt = deps.now().toISOString();
    await deps.records.put(record);
  };
  const progress = (step: string, message: string) => options.onProgress?.({ step, message });
  const installAbort = new AbortController();
  let installing: Promise<unknown> | undefined;

  let preparing: Promise<void> | undefined;
  let leasing: Promise<Leased> | undefined;
  try {
    await enter('worktree');
    if (plan.resume) await removeStaleTasks(deps, record.project);
    // The database's clone, the leases and a look at which images the engine has need no worktree: they are
    // made while git adds one (rollback removes and releases them too). A pull waits for converge.
    made.resources = true;
    const events = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    preparing = prepareEnvDatabase(deps, record, plan, options);
    preparing.catch(() => {}); // awaited below; a failure of the worktree comes first
    leasing = leaseFor(deps, record, plan.source, { ...plan.settings, app: plan.app });
    leasing.catch(() => {}); // awaited by converge
    if (worktree === 'reuse' && plan.adopted && !plan.resume)
      progress('worktree', `adopting ${plan.worktree} (${plan.branch}); its files are left as they are`);
    if (worktree !== 'reuse') {
      progress('worktree', `git worktree add ${plan.worktree} (${describeCheckout(plan)})`);
      await withWorktreeLock(deps, `git worktree add for ${plan.branch}`, async () => {
        // git refuses to add over its own entry for a directory that is gone: drop that entry first.
        if (worktree === 'add-over-stale-entry') await deps.git.forgetWorktree(plan.worktree);
        await deps.git.addWorktree({
          path: plan.worktree,
          branch: plan.branch,
          // A new branch starts at the commit whose compose model was validated, even if its ref moved since;
          // a tracking branch needs the remote ref itself to record the upstream.
          ...(plan.checkout.kind === 'new' ? { newBranchFrom: plan.checkout.commit } : {}),
          ...(plan.checkout.kind === 'track' ? { newBranchFrom: plan.checkout.ref, track: true } : {}),
        });
      });
      made.worktree = true;
      if (plan.checkout.kind !== 'existing') made.branchAt = plan.checkout.commit;
      record.createdBranch ||= plan.checkout.kind !== 'existing';
    }
    failpoint(deps.env, 'after-worktree');

    await enter('env-files');
    if (plan.source.copies.length > 0) progress('env-files', `copy ${plan.source.copies.join(', ')} from the main checkout`);
    record.copiedFiles = await copyFromMain(deps.git.repo.root, plan.worktree, plan.source.copies, record.copiedFiles ?? []);
    record.dataPaths = await absentPaths(plan.worktree, plan.dataPaths, record.dataPaths ?? []);

    await enter('database');
    await preparing;
    failpoint(deps.env, 'after-database');
    // Dependencies need only the worktree: they install while the containers come up.
    const installSignal = options.signal ? AbortSignal.any([options.signal, installAbort.signal]) : installAbort.signal;
    const started = startInstall(deps, record, plan.source.config, {
      signal: installSignal,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    installing = started;
    started.catch(() => {}); // awaited below; a failure of compose up comes first
    await converge(deps, record, plan.source, {
      ...plan.settings,
      app: plan.app,
      envSources: plan.envSources,
      leased: leasing,
      ...events,
      enter: async (phase) => {
        if (phase === 'compose-file') failpoint(deps.env, 'after-ports');
        if (phase === 'compose-up') failpoint(deps.env, 'after-compose-file');
        await enter(phase);
      },
    });
    failpoint(deps.env, 'after-compose-up');
    await finishApp(deps, record, plan.source.config, plan.app, started, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      enter,
      beforeBootstrap: async () => {
        if (plan.database) {
          await enter('seed');
          await seedDatabase(deps, record, plan.source.config, {
            settings: plan.database.settings,
            logFile: logFile(deps, record, 'database'),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          });
        }
        failpoint(deps.env, 'after-seed');
      },
    });
    // Bootstrap commands have run and the host processes answer; only the record's `ready` is left.
    failpoint(deps.env, 'after-processes');

    record.status = 'running';
    record.warnings = [...new Set([...plan.warnings, ...record.warnings])];
    await enter('ready');
    return viewOf(record, { status: 'running', problems: [] }, { proxyPort: proxyPortFrom(deps.env) });
  } catch (error) {
    // An install still running must not write into what the rollback removes.
    installAbort.abort();
    await Promise.all([installing?.catch(() => {}), preparing?.catch(() => {}), leasing?.catch(() => {})]);
    // Cancelled (Ctrl-C ends the CLI at once; an MCP client's cancel reaches here, the server living on): left as
    // the CLI leaves it, an interrupted create that `create` resumes or `destroy` removes. A rollback would run
    // on clients bound to the aborted signal and fail half-way.
    if (options.signal?.aborted) throw error;
    if (options.keepOnFailure || plan.resume) {
      record.status = 'failed';
      record.error = EnvsError.is(error) ? error.message : String(error);
      record.updatedAt = deps.now().toISOString();
      await deps.records.put(record).catch(() => {});
      throw error;
    }
    progress('rollback', 'create failed; removing what it made');
    phases.fail(error);
    phases.enter('rollback');
    try {
      await rollback(deps, record, made);
    } catch (rollbackError) {
      phases.fail(rollbackError);
      record.status = 'failed';
      record.error = `${EnvsError.is(error) ? error.message : String(error)} (rollback failed too: ${String(rollbackError)})`;
      await deps.records.put(record).catch(() => {});
    }
    phases.done(); // the rollback's own outcome; the error is create's
    throw error;
  }
}

/**
 * The env's database before its first start: with volume-clone, a clone of the snapshot the plan chose (or,
 * with --db-from, of a snapshot taken from that env now, under its lock). Without a snapshot the database
 * starts empty and `seed` makes one later.
 */
async function prepareEnvDatabase(deps: Deps, record: EnvRecord, plan: EnvPlan, options: CreateRunOptions): Promise<void> {
  const dbPlan = plan.database;
  if (!dbPlan) return;
  record.database ??= databaseRecord(dbPlan);
  const db = record.database;
  if ((db.strategy !== 'volume-clone' && db.strategy !== 'template') || db.clone || db.shared) return; // resumed: it is there
  const events = {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let snapshot = dbPlan.snapshot;
  if (dbPlan.fork) {
    const fork = dbPlan.fork;
    const source = await deps.records.get(fork);
    if (!source) throw new EnvsError('ENV_NOT_FOUND', `The env ${fork} given to --db-from is gone.`);
    if (db.strategy === 'template' && source.database?.shared) {
      // Both on the shared server: the source's database is the template (its sessions are ended for the copy).
      const server = serverOf(deps, source.database.shared);
      await ensureSharedRunning(deps, server, options.signal, options.onProgress);
      const name = envDatabaseName(record.name);
      options.onProgress?.({ step: 'database', message: `CREATE DATABASE ${name} TEMPLATE ${source.database.shared.database}` });
      await createFromTemplate(deps, server, name, source.database.shared.database, options.signal);
      db.snapshot = source.database.snapshot ?? '';
      db.shared = { ...source.database.shared, database: name };
      return;
    }
    snapshot = await deps.locks.with(envLock(deps.repoId, fork), { what: `envs create --db-from ${fork}`, waitMs: 30_000 }, async () => {
      const head = (await deps.git.worktrees()).find((w) => w.path === source.worktree)?.head ?? source.base.commit;
      return snapshotEnv(deps, source, {
        name: defaultSnapshotName(`${FORK_PREFIX}${source.name}`, timestampSuffix(deps.now())),
        commit: head,
        settings: dbPlan.settings,
        ...events,
      });
    });
  }
  if (!snapshot) return;
  if (db.strategy === 'volume-clone') {
    await prepareClone(deps, record, snapshot, dbPlan.settings, options.onProgress);
    return;
  }
  const server = await ensureSharedServer(deps, {
    snapshot,
    credentials: credentialsOf(plan.source.model, db.service),
    db,
    settings: dbPlan.settings,
    range: plan.settings.range,
    ...events,
  });
  const name = envDatabaseName(record.name);
  const started = performance.now();
  await createFromTemplate(deps, server, name, server.golden, options.signal);
  db.snapshot = snapshot.name;
  const { file: _file, dir: _dir, ...shared } = server;
  db.shared = { ...shared, database: name };
  options.onProgress?.({
    step: 'database',
    message: `${db.service}: database ${name} made from template ${server.golden} on ${server.project} in ${((performance.now() - started) / 1000).toFixed(2)} s`,
  });
}

/** Undoes what one create run made, and only that; the worktree goes only if it holds no work. */
async function rollback(
  deps: Deps,
  record: EnvRecord,
  made: { worktree: boolean; branchAt: string | undefined; resources: boolean },
): Promise<void> {
  if (made.resources) await stopApp(deps, record);
  if (made.resources) await removeResources(deps, record.project);
  if (made.resources) await dropDatabase(deps, record);
  await Promise.all([deps.ports.release(record.project), deps.subnets.release(record.project)]);
  if (made.worktree) {
    await withWorktreeLock(deps, `git worktree remove for ${record.branch} (rollback)`, () =>
      deps.git.removeWorktree(record.worktree, false),
    );
    if (made.branchAt) await deps.git.deleteBranchIfAt(record.branch, made.branchAt);
  }
  await deps.records.remove(record.name);
}

function newRecord(deps: Deps, plan: EnvPlan): EnvRecord {
  const now = deps.now().toISOString();
  return {
    schemaVersion: 1,
    name: plan.names.name,
    branch: plan.branch,
    repo: deps.git.repo.root,
    repoId: deps.repoId,
    worktree: plan.worktree,
    project: plan.names.project,
    host: plan.names.host,
    projectDir: plan.source.projectDir,
    composeFile: deps.records.composeFile(plan.names.name),
    sourceFiles: plan.source.sourceFiles,
    ...(plan.source.template ? { template: plan.source.template } : {}),
    renderEnv: plan.renderEnv,
    status: 'creating',
    phase: 'planned',
    createdBranch: false,
    ...(plan.adopted ? { adopted: true } : {}),
    base: { ref: plan.checkout.ref, commit: plan.checkout.commit },
    services: [],
    ports: [],
    env: {},
    secrets: plan.secrets,
    engine: { id: plan.engine.id, endpoint: plan.engine.endpoint },
    warnings: [],
    createdAt: now,
    updatedAt: now,
  };
}

function describeCheckout(plan: EnvPlan): string {
  const at = plan.checkout.commit.slice(0, 8);
  if (plan.checkout.kind === 'existing') return `existing branch ${plan.branch} at ${at}`;
  if (plan.checkout.kind === 'track') return `new branch ${plan.branch} tracking ${plan.checkout.ref}`;
  return `new branch ${plan.branch} from ${plan.checkout.ref} at ${at}`;
}

/**
 * `add` when the path is free (absent, or an empty directory: git adds into it); `reuse` only for this
 * repository's registered worktree of this branch (a resumed create). Anything else at the path is
 * someone's and stops create before it changes anything there.
 */
type WorktreeStep = 'add' | 'add-over-stale-entry' | 'reuse';

async function worktreeStep(deps: Deps, plan: EnvPlan): Promise<WorktreeStep> {
  const entry = (await deps.git.worktrees()).find((w) => w.path === plan.worktree);
  const dotGit = await stat(join(plan.worktree, '.git')).catch(() => undefined);
  if (entry && !entry.prunable && entry.branch === plan.branch && dotGit?.isFile()) return 'reuse';
  const free = await readdir(plan.worktree).then(
    (names) => names.length === 0,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
  if (!free) {
    throw new EnvsError('WORKTREE_PATH_TAKEN', `${plan.worktree} already exists and is not ${plan.branch}'s worktree.`, {
      hint: 'Move or remove it, or set worktrees.dir in envs.yaml to put worktrees elsewhere.',
    });
  }
  return entry ? 'add-over-stale-entry' : 'add';
}
