import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { AddressMap } from '../bootstrap/addresses.ts';
import type { CollectedSources, EnvFilesPlan } from '../bootstrap/env-files.ts';
import { processLeaseKey } from '../bootstrap/processes.ts';
import { subnetNeeds } from '../compose/networks.ts';
import { collectPortRequests, type PortRequest } from '../compose/transform.ts';
import { CONFIG_FILES } from '../config/files.ts';
import { preloadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EnvsError } from '../errors.ts';
import type { Lease } from '../ports/allocate.ts';
import type { SubnetLease } from '../subnets/allocate.ts';
import { type AppPlan, addressMapFor, appVariables, collectAppFiles, planApp, previewAppFiles, supabaseRequests } from './app.ts';
import { dataPathCandidates, worktreeMounts } from './data-paths.ts';
import { type DatabasePlan, databaseSettings, planDatabase, requireDatabase } from './database.ts';
import type { Deps, EngineInfo, WorktreeEntry } from './deps.ts';
import { envVarsFor } from './env-vars.ts';
import { engineMismatch, envLock } from './guards.ts';
import { checkBranchShape, type EnvNames, namesFor, printable } from './naming.ts';
import { enforcePolicy } from './policy.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import { pinnedRenderEnv, type UpSettings, upSettings } from './settings.ts';
import { settledInOrder } from './settled.ts';
import { commitTree, configFrom, type RenderedSource, readSource, renderSource } from './source.ts';

export interface CreateOptions {
  branch: string;
  /** Start point of a new branch; default: the repository's default branch. */
  from?: string;
  /** `--db-from <env>`: the new env's database starts from a copy of that env's data as it is now. */
  dbFrom?: string;
  /**
   * `envs adopt`: the branch's existing worktree (not the main checkout) gets the env, its files left as
   * they are. `create` of a branch another worktree holds adopts that worktree too.
   */
  adopt?: string;
}

/** How the worktree gets its branch. */
export type Checkout =
  | { kind: 'existing'; ref: string; commit: string }
  | { kind: 'new'; ref: string; commit: string }
  | { kind: 'track'; ref: string; commit: string };

export interface EnvPlan {
  branch: string;
  names: EnvNames;
  worktree: string;
  checkout: Checkout;
  /** A record left by an interrupted or failed create of this env: create resumes it. */
  resume?: EnvRecord;
  /** The worktree was made by someone else (git worktree add, Claude Code…): envs leaves it in place. */
  adopted?: boolean;
  source: RenderedSource;
  requests: PortRequest[];
  settings: UpSettings;
  /** The leases create would get now (another process may take them first; create leases for real). */
  preview: { ports: Lease[]; subnets: SubnetLease[]; processPorts: Record<string, number>; map: AddressMap; files: EnvFilesPlan };
  secrets: Record<string, string>;
  /** Variables pinned for the env's life (the embedded Postgres image). */
  renderEnv: Record<string, string>;
  /** The app part: stack detected at the commit, host processes. */
  app: AppPlan;
  /** The main checkout's env files as the plan read them: create writes these, not a second reading. */
  envSources: CollectedSources;
  /** Bind-mount sources in the worktree that will hold the env's data, if they do not exist before. */
  dataPaths: string[];
  engine: EngineInfo;
  /** The env's database and how its data is made (absent: no Postgres found). */
  database?: DatabasePlan;
  warnings: string[];
}

/**
 * Everything `create` checks before its first side effect: the branch name, the env's state, where the
 * branch comes from, the worktree path, envs.yaml, the engine, and the compose model rendered from the
 * commit the worktree will hold (with the gitignored files the main checkout has for it). Reads only; a
 * bad input fails here and nothing has changed.
 */
export async function planCreate(deps: Deps, options: CreateOptions): Promise<EnvPlan> {
  const { branch } = options;
  checkBranchShape(branch);
  const names = namesFor(deps.repoId, branch);
  // Every lookup below only reads: they run at once, and git's verdict on the name is still the first error.
  const lookups = Promise.all([
    deps.records.get(names.name),
    deps.locks.isHeld(envLock(deps.repoId, names.name)),
    deps.git.branchState(branch),
    deps.git.worktrees(),
  ]);
  const base = defaultBranchCommit(deps);
  lookups.catch(() => {});
  if (CONFIG_FILES.some((name) => existsSync(join(deps.git.repo.root, name)))) preloadConfig();
  const normalised = await deps.git.checkBranchName(branch);
  if (normalised !== branch) {
    throw new EnvsError('INVALID_BRANCH', `"${printable(branch)}" is not a valid branch name.`, {
      hint: 'Branch names cannot contain spaces, "..", "~", "^", ":", "?", "*", "[", "\\\\" or "@{" (see `git check-ref-format --help`).',
    });
  }
  const [existing, busy, state, worktrees] = await lookups;
  if (busy) throw busyError(branch);
  const resume = existing && (existing.status === 'creating' || existing.status === 'failed') ? existing : undefined;
  if (existing && !resume) {
    throw existsError(branch, existing.status, existing.name);
  }

  const holder = worktrees.find((w) => w.branch === branch);
  const adopted = await adoptedWorktree(deps, branch, holder, worktrees[0], resume);
  if (options.adopt !== undefined && adopted !== options.adopt) {
    throw new EnvsError('NOT_A_WORKTREE', `${printable(options.adopt)} does not hold branch ${printable(branch)}.`, {
      hint: 'Run `git worktree list` to see which branch each worktree holds.',
    });
  }

  // The branch's files are read as soon as its commit is known; the default branch's envs.yaml (what it
  // allows) is read meanwhile, and awaited where a reference leads outside the repository.
  const reading = defaultBranchConfig(deps, base);
  const allowPaths = reading.then((config) => allowedIn(config, deps.env));
  allowPaths.catch(() => {}); // a failed read is thrown below, where the config is awaited
  const checkout = await resolveCheckout(deps, options, state, resume, base);
  const secrets = resume?.secrets ?? { ENVS_DB_PASSWORD: randomBytes(18).toString('base64url') };
  const renderEnv = pinnedRenderEnv(deps.env, resume?.renderEnv);
  const sourceEnv = { ...deps.env, ...renderEnv, ...secrets };
  const source = await readSource(deps, commitTree(deps, checkout.commit), {
    env: sourceEnv,
    allowPaths,
  });
  const baseConfig = await reading;
  const worktree = resume?.worktree ?? adopted ?? worktreePath(deps, source.config, names.name);
  if (!resume && !adopted && !(await isFreePath(worktree))) {
    // Another create of this branch may have got there between our first look and now: say that.
    if (await deps.locks.isHeld(envLock(deps.repoId, names.name))) throw busyError(branch);
    const other = await deps.records.get(names.name);
    if (other) throw existsError(branch, other.status, other.name);
    throw new EnvsError('WORKTREE_PATH_TAKEN', `${printable(worktree)} already exists and is not empty.`, {
      hint: 'Move or remove it, or set worktrees.dir in envs.yaml to put worktrees elsewhere.',
    });
  }

  const settings = upSettings(deps.env, source.config);
  const [engine, rendered, app] = await Promise.all([
    deps.engine.info(),
    renderSource(deps, source, { project: names.project, worktree, onDisk: false, env: { ...renderEnv, ...secrets } }),
    planApp(deps, checkout.commit, source.config),
  ]);
  if (resume?.engine.id && engine.id !== resume.engine.id) throw engineMismatch(resume, engine);
  await enforcePolicy(deps, rendered.model, { branch, worktree, baseConfig, files: { commit: checkout.commit } });
  checkDatabaseService(rendered);

  // The main checkout's env files (git ls-files walks the checkout) are read beside the lease previews and the
  // database's plan — after the refusals a broken branch gets, which must not wait for that walk.
  const collecting = collectAppFiles(deps, source.config);
  collecting.catch(() => {}); // awaited in the previews
  // Three independent reads at once; their refusals keep the order of a sequential run (settled, below).
  const previews = previewLeasesAndFiles(deps, {
    rendered,
    app,
    settings,
    names,
    branch,
    worktree,
    commit: checkout.commit,
    collecting,
  });
  const databasePlan = planEnvDatabase(deps, rendered, baseConfig, { commit: checkout.commit, resume, dbFrom: options.dbFrom });
  const mounts = worktreeMounts(rendered.model, worktree);
  const tracked = mounts.length > 0 ? deps.git.listFiles(checkout.commit) : Promise.resolve([]);
  const [{ ports, subnets, processPorts, map, files }, database, trackedFiles] = await settledInOrder([
    previews,
    databasePlan,
    tracked,
  ] as const);
  const dataPaths = dataPathCandidates(mounts, trackedFiles, rendered.copies);
  const envSources = await collecting; // read by now: the previews awaited it

  return {
    branch,
    names,
    worktree,
    checkout,
    ...(resume ? { resume } : {}),
    ...(adopted ? { adopted: true } : {}),
    source: rendered,
    requests: collectPortRequests(rendered.model),
    settings,
    preview: { ports, subnets, processPorts, map, files },
    secrets,
    renderEnv,
    app,
    envSources,
    dataPaths,
    engine,
    ...(database ? { database } : {}),
    warnings: [...rendered.notes, ...app.warnings, ...(database?.target.note ? [`Database: ${database.target.note}.`] : [])],
  };
}

/**
 * Lease previews (a port or subnet range that is full refuses here, before anything is made), then the app's
 * files previewed with those ports: a tracked env file is refused now (ENV_FILE_TRACKED), and plan can show
 * every rewrite.
 */
async function previewLeasesAndFiles(
  deps: Deps,
  input: {
    rendered: RenderedSource;
    app: AppPlan;
    settings: UpSettings;
    names: EnvNames;
    branch: string;
    worktree: string;
    commit: string;
    collecting: Promise<CollectedSources>;
  },
) {
  const { rendered, app, settings, names } = input;
  const owner = { project: names.project, repo: deps.repoId, env: names.name };
  const [ports, subnets] = await Promise.all([
    deps.ports.preview({ owner, requests: [...collectPortRequests(rendered.model), ...supabaseRequests(app)], range: settings.range }),
    deps.subnets.preview({ owner, requests: subnetNeeds(rendered.model, settings.subnets.size), range: settings.subnets }),
  ]);
  const processLeases = app.processes.some((p) => p.port !== undefined)
    ? await deps.ports.preview({
        owner,
        kind: 'process',
        requests: app.processes
          .filter((p) => p.port !== undefined)
          .map((p) => ({ key: processLeaseKey(p.name), protocol: 'tcp' as const })),
        range: settings.range,
      })
    : [];
  const processPorts = Object.fromEntries(
    app.processes.flatMap((p) => {
      const lease = processLeases.find((l) => l.key === processLeaseKey(p.name));
      return lease ? [[p.name, lease.port]] : [];
    }),
  );
  const leased = new Map(ports.map((l) => [l.key, l.port]));
  const map = addressMapFor(collectPortRequests(rendered.model), leased, app, processPorts);
  checkTemplates(rendered, { ...names, branch: input.branch, worktree: input.worktree }, app, { map, leased, processPorts });
  const collected = await input.collecting;
  const files = await previewAppFiles(deps, rendered.config, app, { commit: input.commit, map, name: names.name, collected });
  return { ports, subnets, processPorts, map, files };
}

/**
 * The env's database: the snapshot it will be cloned from (checked against its image now), or — with
 * `--db-from` — the env whose data it copies (which must exist and run the same image).
 */
async function planEnvDatabase(
  deps: Deps,
  rendered: RenderedSource,
  baseConfig: Config | undefined,
  options: { commit: string; resume: EnvRecord | undefined; dbFrom: string | undefined },
): Promise<DatabasePlan | undefined> {
  const settings = databaseSettings(rendered.config, baseConfig);
  if (!options.dbFrom) return planDatabase(deps, rendered.model, rendered.config, settings, { commit: options.commit });
  const source = await resolveEnv(deps, options.dbFrom);
  const db = requireDatabase(source);
  const plan = await planDatabase(deps, rendered.model, rendered.config, settings, { commit: options.commit });
  if (plan?.target.strategy !== 'volume-clone' && plan?.target.strategy !== 'template') {
    throw new EnvsError(
      'DB_NOT_FOUND',
      `--db-from needs a database envs clones in the new env; ${plan ? (plan.target.note ?? `its strategy is ${plan.target.strategy}`) : 'no Postgres service was found'}.`,
      {
        hint: 'Drop --db-from, or set database.strategy: volume-clone in envs.yaml.',
      },
    );
  }
  if (db.service !== plan.target.service || db.image !== plan.target.image) {
    throw new EnvsError(
      'SNAPSHOT_INCOMPATIBLE',
      `${printable(source.branch)}'s database (${printable(db.service)} on ${printable(db.image)}) is not the one this env runs (${printable(plan.target.service)} on ${printable(plan.target.image)}).`,
      {
        hint: 'Fork from an env of the same stack, or drop --db-from.',
      },
    );
  }
  const { snapshot: _ignored, ...rest } = plan;
  return {
    ...rest,
    fork: source.name,
    describe: `${plan.target.service}: a copy of ${source.branch}'s data as it is at create time (stopped for the copy, restarted after)`,
  };
}

/**
 * The env: templates of envs.yaml, resolved against the previewed ports: an unknown reference or a missing
 * database is CONFIG_INVALID now, not after the worktree and containers exist.
 */
function checkTemplates(
  rendered: RenderedSource,
  env: EnvNames & { branch: string; worktree: string },
  app: AppPlan,
  input: { map: AddressMap; leased: ReadonlyMap<string, number>; processPorts: Record<string, number> },
): void {
  if (Object.keys(rendered.config.env ?? {}).length === 0) return;
  const bindings = collectPortRequests(rendered.model).flatMap((r) => {
    const published = input.leased.get(r.key);
    return published === undefined ? [] : [{ service: r.service, target: r.target, published, host_ip: '127.0.0.1', protocol: r.protocol }];
  });
  const vars = envVarsFor({
    name: env.name,
    branch: env.branch,
    project: env.project,
    worktree: env.worktree,
    composeFile: '',
    model: rendered.model,
    bindings,
    ...(rendered.config.database?.service ? { databaseService: rendered.config.database.service } : {}),
  });
  appVariables({ ...env }, rendered.config, app, { ...input, bindings, vars });
}

/** `database.service` must name a service of the model. */
function checkDatabaseService(rendered: RenderedSource): void {
  const wanted = rendered.config.database?.service;
  if (!wanted || wanted in rendered.model.services) return;
  throw new EnvsError('CONFIG_INVALID', `database.service "${printable(wanted)}" in envs.yaml is not a service of the compose model.`, {
    hint: `Name one of: ${Object.keys(rendered.model.services).map(printable).join(', ')}.`,
  });
}

/**
 * Paths outside the repository compose files may name: `policy.allowPaths` in envs.yaml as it is on the
 * default branch, so a branch cannot allow itself. `~/` is the user's home.
 */
export async function allowedPaths(deps: Deps): Promise<string[]> {
  return allowedIn(await defaultBranchConfig(deps), deps.env);
}

export function allowedIn(config: Config | undefined, env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? '';
  return (config?.policy?.allowPaths ?? []).map((p) => (p.startsWith('~/') ? `${home}/${p.slice(2)}` : p));
}

/** The default branch and its commit, asked once for everything a plan needs of them. */
export interface BaseLookup {
  /** Rejects as `git.defaultBranch()` does when the repository has none. */
  ref: Promise<string>;
  commit: Promise<string | undefined>;
}

export function defaultBranchCommit(deps: Deps): BaseLookup {
  const base = deps.git.defaultBase();
  const ref = base.then((b) => b.ref);
  const commit = base.then((b) => b.commit ?? deps.git.resolveCommit(b.ref));
  // A repository without a default branch is fine until a caller needs it (`--from`, an existing branch):
  // each caller sees the failure when it awaits, and none may surface as an unhandled rejection.
  ref.catch(() => {});
  commit.catch(() => {});
  return { ref, commit };
}

/** envs.yaml as it is on the default branch (settings a branch must not choose for itself); undefined when none. */
export async function defaultBranchConfig(deps: Deps, base = defaultBranchCommit(deps)): Promise<Config | undefined> {
  let commit: string | undefined;
  try {
    commit = await base.commit;
  } catch {
    return undefined;
  }
  if (!commit) return undefined;
  const files = await deps.git.readTree(commit, CONFIG_FILES);
  const name = CONFIG_FILES.find((n) => files.get(n)?.kind === 'blob');
  const entry = name ? files.get(name) : undefined;
  if (entry?.kind !== 'blob') return undefined;
  return configFrom(new Map([[name as string, entry.content]])).catch(() => undefined);
}

async function resolveCheckout(
  deps: Deps,
  options: CreateOptions,
  state: { local?: string; remote?: string },
  resume: EnvRecord | undefined,
  base: BaseLookup,
): Promise<Checkout> {
  if (state.local) {
    const commit = await deps.git.resolveCommit(`refs/heads/${options.branch}`);
    if (!commit) throw new Error(`refs/heads/${options.branch} vanished`);
    // A resumed create made the branch itself: --from was honoured then.
    if (options.from && !resume?.createdBranch) {
      throw new EnvsError(
        'BRANCH_EXISTS',
        `Branch ${printable(options.branch)} already exists (at ${commit.slice(0, 8)}): --from ${printable(options.from)} would be ignored.`,
        {
          hint: `Drop --from to make the env on the existing branch, or choose a new branch name.`,
        },
      );
    }
    return { kind: 'existing', ref: options.branch, commit };
  }
  if (state.remote && !options.from) {
    const commit = await deps.git.resolveCommit(`refs/remotes/${state.remote}`);
    if (commit) return { kind: 'track', ref: state.remote, commit };
  }
  const from = options.from ?? (await base.ref);
  const commit = options.from === undefined ? await base.commit : await deps.git.resolveCommit(from);
  if (!commit) {
    throw new EnvsError('UNKNOWN_REF', `--from ${printable(from)}: no such branch, tag or commit in ${deps.git.repo.root}.`, {
      hint: 'Check the spelling (`git branch -a`), or `git fetch` if it exists only on the remote.',
    });
  }
  return { kind: 'new', ref: from, commit };
}

/**
 * The worktree an env adopts: a branch another worktree holds (someone's `git worktree add`, Claude Code,
 * Conductor) gets its env there, files left alone; the main checkout's branch is refused (an env has a
 * worktree of its own). A resumed create keeps what it did the first time.
 */
async function adoptedWorktree(
  deps: Deps,
  branch: string,
  holder: WorktreeEntry | undefined,
  main: WorktreeEntry | undefined,
  resume: EnvRecord | undefined,
): Promise<string | undefined> {
  if (resume?.adopted) return resume.worktree;
  if (!holder || holder.path === resume?.worktree) return undefined;
  if (resume || holder.path === main?.path || holder.path === deps.git.repo.root || holder.prunable) {
    const where = holder.prunable ? `a worktree whose directory is gone (${printable(holder.path)})` : printable(holder.path);
    throw new EnvsError('BRANCH_CHECKED_OUT', `Branch ${printable(branch)} is already checked out at ${where}.`, {
      hint: holder.prunable
        ? "Run `git worktree prune` to drop git's entry for it, then run the command again."
        : 'Git allows a branch in one worktree only: switch that checkout to another branch, or create the env for a new branch.',
    });
  }
  // Another env's worktree switched to this branch: one worktree cannot hold two envs.
  const owner = (await deps.records.list()).find((r) => r.worktree === holder.path);
  if (owner) {
    throw new EnvsError(
      'BRANCH_CHECKED_OUT',
      `Branch ${printable(branch)} is checked out in ${printable(holder.path)}, the worktree of env ${owner.name} (${printable(owner.branch)}).`,
      { hint: `Switch that worktree back to ${printable(owner.branch)}, or destroy its env first.` },
    );
  }
  return holder.path;
}

function worktreePath(deps: Deps, config: Config, name: string): string {
  const dir = config.worktrees?.dir;
  if (!dir) return join(deps.records.worktreesRoot, name);
  return join(isAbsolute(dir) ? dir : resolve(deps.git.repo.root, dir), name);
}

async function isFreePath(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTDIR') return false;
    throw error;
  }
}

function busyError(branch: string): EnvsError {
  return new EnvsError('ENV_BUSY', `Another envs process is working on ${branch} right now.`, {
    hint: 'Wait for it to finish (`envs list` shows its progress) and run the command again.',
  });
}

function existsError(branch: string, status: string, name?: string): EnvsError {
  const shown = status === 'destroying' ? 'half destroyed' : status;
  return new EnvsError('ENV_EXISTS', `${branch} already has an env${name ? ` (${name}, ${shown})` : ''}.`, {
    hint:
      status === 'destroying'
        ? `Finish removing it with \`envs destroy ${branch}\` first.`
        : `Use it (\`envs info ${branch}\`, \`envs up ${branch}\`), or remove it with \`envs destroy ${branch}\`.`,
  });
}

export { upSettings } from './settings.ts';
