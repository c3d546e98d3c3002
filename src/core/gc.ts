import { SNAPSHOT_LABEL } from '../db/snapshots.ts';
import { EnvsError } from '../errors.ts';
import type { Deps, Engine, EngineInfo, LabeledItem, Locks, PortLeases, SubnetLeases, WorktreeEntry } from './deps.ts';
import { destroyEnv } from './destroy.ts';
import { envLock, withWorktreeLock } from './guards.ts';
import { type HomeMark, LABEL } from './labels.ts';
import { printable } from './naming.ts';
import type { CorruptRecord, EnvRecord } from './record.ts';
import { composeDown, sweep } from './teardown.ts';

/**
 * `envs gc`: what crashes, deleted worktrees and deleted state directories left behind, removed on positive
 * evidence only. Everything is judged against THIS state directory (ENVS_HOME) and the engine it reaches:
 *
 * - envs of this state directory whose create or destroy was killed (nobody holds their lock), or whose
 *   worktree was deleted: finished through `destroy` itself (its safety rules included: a worktree with work
 *   in it is kept). A `failed` env was kept on purpose (--keep-on-failure) and is only listed.
 * - engine resources with envs's labels whose Compose project no env record of this state directory names:
 *   removed when their `dev.envs.home` label is this state directory, or one that is gone from this host.
 *   Another existing state directory's, another host's and unlabelled (older) resources are listed, never removed.
 *   Snapshots are kept on purpose; the data volume of a snapshot copy that was cut short goes.
 * - port and subnet leases of projects no record names; git's entries of worktrees whose directory is gone;
 *   what killed runs left in $ENVS_HOME/tmp; env state directories (process pid files, logs) without a record.
 *
 * The engine must answer, and be the engine this state directory's envs were made on: otherwise nothing is
 * removed at all. Each removal runs under the lock create and destroy take, so gc never races them.
 */

export type GcKind =
  | 'env'
  | 'container'
  | 'volume'
  | 'network'
  | 'image'
  | 'port-lease'
  | 'subnet-lease'
  | 'worktree-entry'
  | 'temp'
  | 'env-dir';

export interface GcItem {
  kind: GcKind;
  name: string;
  /** The env or Compose project it belongs to. */
  project?: string;
  /** Why it looks left behind (or, when kept, what it is). */
  reason: string;
  action: 'removed' | 'would remove' | 'kept';
  /** Why it was not removed. */
  kept_because?: string;
}

export interface GcResult {
  dry_run: boolean;
  home: string;
  engine: { id: string; endpoint: string };
  items: GcItem[];
  removed: number;
  kept: number;
}

/** One repository with records in this state directory. */
export interface GcRepo {
  repoId: string;
  /** The main checkout, from its records ('' when none says). */
  root: string;
  records: EnvRecord[];
  corrupt: CorruptRecord[];
  /** Names of the env state directories (`repos/<repoId>/envs/<name>/`), `.shared-*` included. */
  envDirs: string[];
  /** The repository's Deps (git, records, app…) for the destroy path; throws when its checkout cannot be opened. */
  open(): Promise<Deps>;
}

export interface GcDeps {
  home: HomeMark;
  engine: Engine;
  compose: Deps['compose'];
  ports: PortLeases;
  subnets: SubnetLeases;
  locks: Locks;
  repos(): Promise<GcRepo[]>;
  /** true: the path exists; false: it positively does not (ENOENT); undefined: cannot tell (permissions…). */
  exists(path: string): Promise<boolean | undefined>;
  /** What killed runs left in $ENVS_HOME/tmp: listed, and removed unless dryRun. */
  staleTemp(dryRun: boolean): Promise<string[]>;
  /** Stops the host processes recorded in an env state directory and removes the directory. */
  removeEnvDir(repoId: string, name: string): Promise<void>;
  env: NodeJS.ProcessEnv;
}

export interface GcOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
}

const SNAPSHOT_DATA = 'dev.envs.snapshot-data';
const SHARED_DIR = '.shared-';

export async function runGc(deps: GcDeps, options: GcOptions = {}): Promise<GcResult> {
  const dryRun = Boolean(options.dryRun);
  const engine = await deps.engine.info().catch((error: unknown) => {
    if (!EnvsError.is(error)) throw error;
    throw new EnvsError(error.code, `${error.message} gc removed nothing.`, { ...(error.hint ? { hint: error.hint } : {}) });
  });
  const repos = await deps.repos();
  refuseOtherEngine(repos, engine, deps.env);

  const items: GcItem[] = [];
  const act = async (item: Omit<GcItem, 'action'>, remove: () => Promise<void>): Promise<void> => {
    if (dryRun) {
      items.push({ ...item, action: 'would remove' });
      return;
    }
    try {
      await remove();
      items.push({ ...item, action: 'removed' });
    } catch (error) {
      items.push({ ...item, action: 'kept', kept_because: because(error) });
    }
  };
  const keep = (item: Omit<GcItem, 'action' | 'kept_because'>, why: string) => items.push({ ...item, action: 'kept', kept_because: why });

  // 1. Envs this state directory has records of: interrupted, or their worktree deleted.
  for (const repo of repos) await envsOf(deps, repo, { act, keep });
  for (const repo of repos) {
    for (const corrupt of repo.corrupt) {
      keep(
        {
          kind: 'env',
          name: corrupt.name,
          ...(corrupt.salvaged.project ? { project: corrupt.salvaged.project } : {}),
          reason: `its record ${corrupt.file} cannot be read`,
        },
        'without its record envs cannot tell which worktree and resources are its own; `envs doctor` says how to fix it',
      );
    }
  }

  // 2. Engine resources no record names.
  const known = await knownProjects(deps);
  const inventory = await deps.engine.inventory({ [LABEL.managed]: 'true' });
  const orphanProjects = await engineOrphans(deps, inventory, known, { act, keep });

  // 3. Leases no record names.
  await staleLeases(deps, orphanProjects, { act, keep });

  // 4. Files: env state directories without a record, git's entries of vanished worktrees, temp files.
  for (const repo of repos) await envDirsOf(deps, repo, { act, keep });
  for (const repo of repos) await worktreeEntries(repo, { act, keep });
  for (const path of await deps.staleTemp(dryRun)) {
    items.push({
      kind: 'temp',
      name: path,
      reason: 'left in $ENVS_HOME/tmp by an envs process that is gone',
      action: dryRun ? 'would remove' : 'removed',
    });
  }

  return {
    dry_run: dryRun,
    home: deps.home.path,
    engine: { id: engine.id, endpoint: engine.endpoint },
    items,
    removed: items.filter((i) => i.action !== 'kept').length,
    kept: items.filter((i) => i.action === 'kept').length,
  };
}

interface Acts {
  act(item: Omit<GcItem, 'action'>, remove: () => Promise<void>): Promise<void>;
  keep(item: Omit<GcItem, 'action' | 'kept_because'>, why: string): void;
}

/**
 * The envs of this state directory were made on one engine (records say which): gc on another one (another
 * context, DOCKER_HOST elsewhere) knows nothing about theirs, so it does nothing at all.
 */
function refuseOtherEngine(repos: GcRepo[], engine: EngineInfo, env: NodeJS.ProcessEnv): void {
  const other = repos.flatMap((r) => r.records).find((r) => r.engine.id && r.engine.id !== engine.id);
  if (!other) return;
  const chosen = env.DOCKER_HOST
    ? 'chosen by DOCKER_HOST'
    : env.DOCKER_CONTEXT
      ? `chosen by DOCKER_CONTEXT=${env.DOCKER_CONTEXT}`
      : 'the active docker context';
  throw new EnvsError(
    'ENGINE_MISMATCH',
    `This state directory's envs live on another Docker engine (${other.engine.endpoint}) than the one envs reaches now (${engine.endpoint}, ${chosen}): gc removed nothing.`,
    { hint: 'Switch back to that engine (DOCKER_HOST, DOCKER_CONTEXT or `docker context use`) and run `envs gc` again.' },
  );
}

/** Interrupted envs and envs whose worktree was deleted go through destroy (which keeps work it would lose). */
async function envsOf(deps: GcDeps, repo: GcRepo, { act, keep }: Acts): Promise<void> {
  let opened: Promise<Deps> | undefined;
  for (const record of repo.records) {
    const item = { kind: 'env' as const, name: record.name, project: record.project };
    const reason = await leftBehind(deps, record);
    if (!reason) continue;
    if (reason.keep) {
      keep({ ...item, reason: reason.why }, reason.keep);
      continue;
    }
    if (reason.gone) {
      // A worktree moved with `git worktree move` is missing at the recorded path too, with its work and the
      // env's database in use: its branch checked out elsewhere is evidence it lives on.
      opened ??= repo.open();
      const live = await opened
        .then((d) => d.git.worktrees())
        .then((all) => all.find((w) => w.branch === record.branch && !w.prunable && w.path !== record.worktree))
        .catch(() => undefined);
      if (live) {
        keep(
          { ...item, reason: reason.why },
          `its branch ${printable(record.branch)} is checked out in ${printable(live.path)} (a worktree moved by hand?): \`envs destroy ${printable(record.branch)}\` removes the env if it may go`,
        );
        continue;
      }
    }
    if (await deps.locks.isHeld(envLock(record.repoId, record.name))) {
      keep({ ...item, reason: reason.why }, 'an envs process holds its lock (a create or destroy of it is running)');
      continue;
    }
    await act({ ...item, reason: reason.why }, async () => {
      opened ??= repo.open();
      await destroyEnv(await opened, `name:${record.name}`);
    });
  }
}

async function leftBehind(deps: GcDeps, record: EnvRecord): Promise<{ why: string; keep?: string; gone?: true } | undefined> {
  const branch = printable(record.branch);
  if (record.status === 'creating') return { why: `${branch}: create was interrupted at "${record.phase}"` };
  if (record.status === 'destroying') return { why: `${branch}: destroy was interrupted` };
  if (record.status === 'failed') {
    return {
      why: `${branch}: create failed (${record.error ?? 'no error recorded'})`,
      keep: `it is kept for inspection; \`envs destroy ${branch}\` removes it`,
    };
  }
  if ((await deps.exists(record.worktree)) === false) return { why: `${branch}: its worktree ${record.worktree} was deleted`, gone: true };
  return undefined;
}

/** Compose projects a record of this state directory names: envs' own and the shared database servers they use. */
async function knownProjects(deps: GcDeps): Promise<Set<string>> {
  const repos = await deps.repos();
  const known = new Set<string>();
  for (const repo of repos) {
    for (const r of repo.records) {
      known.add(r.project);
      if (r.database?.shared?.project) known.add(r.database.shared.project);
    }
    for (const c of repo.corrupt) if (c.salvaged.project) known.add(c.salvaged.project);
  }
  return known;
}

/**
 * Resources by Compose project. A project no record names is removed (compose down, then whatever still
 * carries its labels) when its home label proves it this state directory's, or its state directory gone.
 * Returns the projects removed (their leases go with them).
 */
async function engineOrphans(deps: GcDeps, inventory: LabeledItem[], known: Set<string>, { act, keep }: Acts): Promise<Set<string>> {
  const published = new Set(
    inventory
      .filter((i) => i.kind === 'volume' && i.labels[SNAPSHOT_LABEL.name])
      .map((i) => `${i.labels[LABEL.repo]}/${i.labels[SNAPSHOT_LABEL.name]}`),
  );
  const projects = new Map<string, LabeledItem[]>();
  for (const item of inventory) {
    if (item.labels[SNAPSHOT_LABEL.name] !== undefined) continue; // snapshots are kept on purpose
    const data = item.labels[SNAPSHOT_DATA];
    if (data !== undefined) {
      if (!published.has(`${item.labels[LABEL.repo]}/${data}`)) await unpublishedData(deps, item, { act, keep });
      continue;
    }
    const project = item.labels[LABEL.project] ?? item.labels['com.docker.compose.project'];
    if (!project || known.has(project)) continue;
    projects.set(project, [...(projects.get(project) ?? []), item]);
  }
  const removed = new Set<string>();
  for (const [project, members] of projects) {
    const owner = await ownerOf(deps, members);
    const describe = (i: LabeledItem) => ({ kind: i.kind, name: i.name, project });
    if (!owner.ours) {
      for (const member of members)
        keep({ ...describe(member), reason: `no env record in this state directory names ${project}` }, owner.why);
      continue;
    }
    const repo = members.find((m) => m.labels[LABEL.repo])?.labels[LABEL.repo] ?? '';
    const env = members.find((m) => m.labels[LABEL.env])?.labels[LABEL.env];
    const lock = env ? envLock(repo, env) : `db-shared-${repo}`;
    let done = false;
    let failure: unknown;
    const remove = async () => {
      if (done) return;
      if (failure) throw failure;
      try {
        await deps.locks.with(lock, { what: `envs gc of ${project}`, waitMs: 0 }, async () => {
          // A create may have written its record meanwhile: look again under the lock.
          if ((await knownProjects(deps)).has(project)) throw new EnvsError('ENV_BUSY', `an env record names ${project} now`);
          await composeDown(deps, project);
          await sweep(deps, project);
          if (owner.here) await Promise.all([deps.ports.release(project), deps.subnets.release(project)]);
        });
        done = true;
        removed.add(project);
      } catch (error) {
        failure = error;
        throw error;
      }
    };
    for (const member of members) await act({ ...describe(member), reason: owner.why }, remove);
  }
  return removed;
}

/** Whose a project's resources are, by their home label: only this state directory's, or a gone one's, are removable. */
async function ownerOf(deps: GcDeps, members: LabeledItem[]): Promise<{ ours: boolean; here?: boolean; why: string }> {
  const labelled = members.find((m) => m.labels[LABEL.home]);
  const home = labelled?.labels[LABEL.home];
  const host = labelled?.labels[LABEL.host];
  if (!home) {
    return {
      ours: false,
      why: 'it has no dev.envs.home label (made by an older envs), so which state directory owns it cannot be told; remove it with `docker compose -p <project> down --volumes` if it is yours',
    };
  }
  if (host && host !== deps.home.host) return { ours: false, why: `it was made on another host (${host}) by the state directory ${home}` };
  if (home === deps.home.path) return { ours: true, here: true, why: 'no env record in this state directory names it' };
  const exists = await deps.exists(home);
  if (exists === false) return { ours: true, here: false, why: `the state directory that made it (${home}) is gone` };
  if (exists === undefined) return { ours: false, why: `it belongs to the state directory ${home}, which cannot be checked from here` };
  return { ours: false, why: `it belongs to another state directory (${home}), which still exists` };
}

/** The data volume of a snapshot copy cut short (its snapshot was never published): removed under the snapshot lock. */
async function unpublishedData(deps: GcDeps, item: LabeledItem, { act, keep }: Acts): Promise<void> {
  const base = {
    kind: item.kind,
    name: item.name,
    reason: `data of snapshot ${item.labels[SNAPSHOT_DATA]}, which was never published (its copy was cut short)`,
  };
  const owner = await ownerOf(deps, [item]);
  if (!owner.ours) {
    keep(base, owner.why);
    return;
  }
  const repo = item.labels[LABEL.repo] ?? '';
  await act(base, () =>
    deps.locks.with(`db-snapshots-${repo}`, { what: 'envs gc of an unpublished snapshot copy', waitMs: 0 }, () =>
      deps.engine.remove({ containers: [], volumes: [item.id], networks: [], images: [] }),
    ),
  );
}

/** Port and subnet leases of projects no record names (and not removed with their resources just now). */
async function staleLeases(deps: GcDeps, removedWithResources: Set<string>, { act, keep }: Acts): Promise<void> {
  const [ports, subnets] = await Promise.all([deps.ports.leases(), deps.subnets.leases()]);
  const known = await knownProjects(deps);
  const owners = new Map<string, { repo: string; env: string }>();
  for (const lease of [...ports, ...subnets]) {
    if (!known.has(lease.project) && !removedWithResources.has(lease.project))
      owners.set(lease.project, { repo: lease.repo, env: lease.env });
  }
  for (const [project, owner] of owners) {
    const lock = owner.env.startsWith(SHARED_DIR) ? `db-shared-${owner.repo}` : envLock(owner.repo, owner.env);
    let released: Promise<void> | undefined;
    const release = () => {
      released ??= deps.locks.with(lock, { what: `envs gc of ${project}'s leases`, waitMs: 0 }, async () => {
        if ((await knownProjects(deps)).has(project)) throw new EnvsError('ENV_BUSY', `an env record names ${project} now`);
        await Promise.all([deps.ports.release(project), deps.subnets.release(project)]);
      });
      return released;
    };
    const reason = 'no env record in this state directory names its project';
    if (await deps.locks.isHeld(lock)) {
      for (const l of ports.filter((l) => l.project === project))
        keep({ kind: 'port-lease', name: `${l.port}/${l.protocol}`, project, reason }, 'its env is being created');
      continue;
    }
    for (const l of ports.filter((l) => l.project === project))
      await act({ kind: 'port-lease', name: `${l.port}/${l.protocol} (${l.key})`, project, reason }, release);
    for (const l of subnets.filter((l) => l.project === project))
      await act({ kind: 'subnet-lease', name: `${l.cidr} (${l.key})`, project, reason }, release);
  }
}

/**
 * Env state directories (host process pid files, logs, compose file) that no record owns: a record moved aside
 * or deleted by hand. Their host processes are stopped (whole process groups) and the directory removed.
 * A shared server's directory goes once no record uses the server and its project is gone.
 */
async function envDirsOf(deps: GcDeps, repo: GcRepo, { act }: Acts): Promise<void> {
  const known = await knownProjects(deps);
  const names = new Set([...repo.records.map((r) => r.name), ...repo.corrupt.map((c) => c.name)]);
  for (const name of repo.envDirs) {
    if (names.has(name)) continue;
    const shared = name.startsWith(SHARED_DIR) ? name.slice(SHARED_DIR.length) : undefined;
    if (shared && known.has(shared)) continue;
    if (shared && (await deps.engine.inventory({ [LABEL.project]: shared })).length > 0) continue; // kept above, with why
    const lock = shared ? `db-shared-${repo.repoId}` : envLock(repo.repoId, name);
    await act(
      {
        kind: 'env-dir',
        name,
        reason: shared
          ? `state of the shared database server ${shared}, which no env uses and which is gone`
          : 'env state (process pid files, logs) without an env record',
      },
      () =>
        deps.locks.with(lock, { what: `envs gc of ${name}`, waitMs: 0 }, async () => {
          const now = await deps.repos();
          if (now.some((r) => r.repoId === repo.repoId && r.records.some((e) => e.name === name)))
            throw new EnvsError('ENV_BUSY', 'its env has a record now');
          await deps.removeEnvDir(repo.repoId, name);
        }),
    );
  }
}

/** `git worktree prune`, entry by entry: git's entries of worktrees whose directory is gone (locked ones are kept, as git keeps them). */
async function worktreeEntries(repo: GcRepo, { act }: Acts): Promise<void> {
  let opened: Deps;
  let entries: WorktreeEntry[];
  try {
    opened = await repo.open();
    entries = await opened.git.worktrees();
  } catch {
    return; // its records were judged above; a checkout that cannot be opened has no entries to prune
  }
  for (const entry of entries.filter((e) => e.prunable && e.locked === undefined)) {
    const reason = `git's entry of the worktree ${entry.path}${entry.branch ? ` (${printable(entry.branch)})` : ''}, whose directory is gone`;
    await act({ kind: 'worktree-entry', name: entry.path, reason }, () =>
      withWorktreeLock(opened, 'envs gc: git worktree prune', () => opened.git.forgetWorktree(entry.path)),
    );
  }
}

function because(error: unknown): string {
  if (EnvsError.is(error)) return error.code === 'ENV_BUSY' ? `busy: ${error.message}` : `${error.code}: ${error.message.split('\n')[0]}`;
  return error instanceof Error ? error.message : String(error);
}
