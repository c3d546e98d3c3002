import { existsSync } from 'node:fs';
/**
 * The composition root: builds the real adapters behind core's interfaces for one repository.
 * The CLI and the library API both start here; tests of core pass fakes instead. The options given here
 * are the only source of the working directory and the environment: nothing below reads process.cwd()
 * or process.env.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CliComposeClient } from './compose/cli.ts';
import { corruptRecordError } from './core/corrupt.ts';
import type { AppRunner, Deps, Engine, Locks, RecordStore, RepoInfo } from './core/deps.ts';
import type { StateDoctor, StateProblem } from './core/doctor.ts';
import type { FleetDeps, FleetRepo } from './core/fleet.ts';
import type { GcDeps, GcRepo } from './core/gc.ts';
import { LABEL } from './core/labels.ts';
import { repoIdFor } from './core/naming.ts';
import { type CorruptRecord, type EnvRecord, parseRecord, salvage } from './core/record.ts';
import { rebuildLeases } from './core/repair.ts';
import { waitForPostgres } from './db/ready.ts';
import { composeEnvironment, resolveEngine } from './docker/endpoint.ts';
import { LazyEngine } from './docker/lazy.ts';
import { CliGitClient, openRepo } from './git/client.ts';
import { LoopbackProbe } from './ports/probe.ts';
import { checkRegistry, PortRegistry } from './ports/registry.ts';
import { isLocked, SETUP_GRACE_MS, withLock } from './state/lock.ts';
import { envsHome, StatePaths } from './state/paths.ts';
import { type DamagedFile, JsonRecords } from './state/records.ts';
import { damagedLocks, moveAside, repoEnvDirs } from './state/scan.ts';
import { clearStaleTemp } from './state/temp.ts';
import { stateError } from './state/unusable.ts';
import { type Cidr, parseCidr } from './subnets/cidr.ts';
import { SubnetRegistry } from './subnets/registry.ts';
import { hostRoutes } from './subnets/routes.ts';

export interface OpenOptions {
  /** A directory inside the repository (default: the current directory). */
  cwd?: string;
  /** Environment to read settings from and to run git/Compose with (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Ends engine calls and subprocesses of this session at once (they fail with CANCELLED). */
  signal?: AbortSignal;
  /** The command's first engine call is the ping: send it as soon as the engine's address is known. */
  pingEarly?: boolean;
  /** Leave $ENVS_HOME/tmp alone (gc --dry-run: it reports what it would remove there). */
  keepTemp?: boolean;
}

export async function openEnvs(options: OpenOptions = {}): Promise<Deps> {
  // The library's defaults; below this line only `env` and `cwd` are used.
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const paths = new StatePaths(envsHome(env, cwd));
  const engineReady = resolveEngine(env).then((endpoint) => {
    const engine = new LazyEngine(endpoint.host, {
      env: { ...env, ...endpoint.env },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (options.pingEarly) engine.askEarly();
    return { endpoint, engine };
  });
  const [repo, { endpoint, engine }] = await Promise.all([
    openRepo(cwd, env),
    engineReady,
    usableHome(paths.home),
    // What killed runs left in $ENVS_HOME/tmp (their secrets included) goes now: one readdir when empty.
    options.keepTemp ? undefined : clearStaleTemp(paths.tmp),
  ]);
  const repoId = repoIdFor(basename(repo.root), repo.commonDir);
  return {
    git: new CliGitClient(repo, env),
    // Compose gets the endpoint dockerode uses, said explicitly: the two can never reach different engines.
    compose: new CliComposeClient(composeEnvironment(env, endpoint), paths.tmp),
    engine,
    ports: new PortRegistry(paths.registry, paths.lock('ports'), new LoopbackProbe(), paths.tmp),
    probes: { postgres: waitForPostgres },
    app: lazyAppRunner(),
    subnets: new SubnetRegistry(paths.subnets, paths.lock('subnets'), (project) => occupiedSubnets(engine, project), paths.tmp),
    records: recordStore(paths, repoId),
    locks: fileLocks(paths),
    repoId,
    home: { path: paths.home, host: hostname() },
    env,
    cwd,
    now: () => new Date(),
  };
}

/**
 * src/bootstrap, loaded on first use: most commands (list, info, destroy of an env without processes…)
 * never need it, and every module loaded costs every start of the CLI.
 */
function lazyAppRunner(): AppRunner {
  const envFiles = () => import('./bootstrap/env-files.ts');
  const processes = () => import('./bootstrap/processes.ts');
  const agent = () => import('./bootstrap/agent.ts');
  return {
    writeEnvFiles: async (input) => (await envFiles()).applyEnvFiles(input),
    previewEnvFiles: async (input) => (await envFiles()).previewEnvFiles(input),
    collectEnvFiles: async (input) => (await envFiles()).collectSources(input.repo, input),
    install: async (options) => (await import('./bootstrap/install.ts')).installDependencies(options),
    bootstrap: async (options) => (await import('./bootstrap/bootstrap.ts')).runBootstrap(options),
    start: async (options) => (await processes()).startProcesses(options),
    // An env that never had host processes has no processes.json (see bootstrap/processes.ts): nothing to load.
    stop: async (options) =>
      existsSync(join(options.stateDir, 'processes.json')) ? (await processes()).stopProcesses(options) : undefined,
    states: async (stateDir) => (existsSync(join(stateDir, 'processes.json')) ? (await processes()).processStates(stateDir) : []),
    // Likewise agent.json: most envs never had an agent, and list asks for every env.
    agentsAvailable: async (baseEnv) => (await agent()).agentsAvailable(baseEnv),
    startAgent: async (options) => (await agent()).startAgent(options),
    agents: async (stateDir) => (existsSync(join(stateDir, 'agent.json')) ? (await agent()).agentStates(stateDir) : []),
    stopAgents: async (options) => (existsSync(join(options.stateDir, 'agent.json')) ? (await agent()).stopAgents(options) : undefined),
  };
}

/** What env networks must not overlap: the engine's other networks and the host's routes. */
async function occupiedSubnets(engine: LazyEngine, project: string): Promise<Cidr[]> {
  const [networks, routes] = await Promise.all([engine.networkSubnets(project), hostRoutes()]);
  return [...networks.map((n) => parseCidr(n)).filter((c): c is Cidr => c !== undefined), ...routes];
}

/** The state directory, when it exists, must be a directory (a missing one is made on the first write). */
async function usableHome(home: string): Promise<void> {
  const info = await stat(home).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw stateError(error, home);
  });
  if (info && !info.isDirectory()) throw stateError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), home);
}

function recordStore(paths: StatePaths, repoId: string): RecordStore {
  const records = new JsonRecords<EnvRecord>(paths.envsDir(repoId), parseRecord, paths.tmp);
  const store: RecordStore = {
    list: async () => (await records.scan()).records,
    scan: async () => {
      const { records: found, damaged } = await records.scan();
      return { records: found, corrupt: damaged.map(corruptOf) };
    },
    get: async (name) => {
      const read = await records.read(name);
      if (read.kind === 'damaged') throw corruptRecordError({ repoId, records: store }, corruptOf(read.damaged));
      return read.kind === 'ok' ? read.record : undefined;
    },
    put: (record) => records.put(record),
    remove: async (name) => {
      await rm(paths.envFiles(repoId, name), { recursive: true, force: true });
      await records.remove(name);
    },
    composeFile: (name) => paths.composeFile(repoId, name),
    envDir: (name) => paths.envFiles(repoId, name),
    worktreesRoot: paths.worktreesRoot(repoId),
  };
  return store;
}

function corruptOf(damaged: DamagedFile): CorruptRecord {
  const version = (damaged.data as { schemaVersion?: unknown } | undefined)?.schemaVersion;
  return {
    name: damaged.name,
    file: damaged.file,
    reason: damaged.reason,
    salvaged: salvage(damaged.data),
    newer: typeof version === 'number' && version > 1,
  };
}

function fileLocks(paths: StatePaths): Locks {
  return {
    with: (name, options, fn) => withLock(paths.lock(name), options, fn),
    isHeld: (name) => isLocked(paths.lock(name)),
  };
}

/**
 * `envs doctor`'s look at the whole state directory (every repository's records, the port registry, the
 * locks) and its repair: damaged files are moved aside, never deleted; the registry is rebuilt from the
 * readable records and the published ports of containers with our labels.
 */
export function stateDoctor(home: string, engine: Pick<Engine, 'containers'>, now: () => Date = () => new Date()): StateDoctor {
  const paths = new StatePaths(home);
  const allRecords = async () => {
    const repos = await repoEnvDirs(home);
    const scans = await Promise.all(repos.map(({ envsDir }) => new JsonRecords<EnvRecord>(envsDir, parseRecord).scan()));
    return {
      repoIds: new Set(repos.map((r) => r.repoId)),
      records: scans.flatMap((s) => s.records),
      corrupt: scans.flatMap((s) => s.damaged.map(corruptOf)),
    };
  };
  return {
    scan: async () => {
      const [{ corrupt }, registry, locks] = await Promise.all([
        allRecords(),
        checkRegistry(paths.registry),
        damagedLocks(paths.locks, SETUP_GRACE_MS),
      ]);
      const problems: StateProblem[] = corrupt.map((c) => ({ kind: 'record', file: c.file, reason: c.reason, fixable: !c.newer }));
      if (!registry.ok) problems.push({ kind: 'registry', file: paths.registry, reason: registry.reason, fixable: !registry.newer });
      for (const lock of locks) problems.push({ kind: 'lock', file: lock.file, reason: lock.reason, fixable: true });
      return problems;
    },
    fix: async (problems) => {
      const done: string[] = [];
      for (const problem of problems.filter((p) => p.fixable && p.kind !== 'registry')) {
        // A lock goes aside whole: its directory is the lock.
        const path = problem.kind === 'lock' ? dirname(problem.file) : problem.file;
        const movedTo = await moveAside(path, now());
        done.push(
          problem.kind === 'record'
            ? `moved the damaged record ${path} aside to ${movedTo}; the env's containers, volumes and worktree were left as they are`
            : `moved the damaged lock ${path} aside to ${movedTo}`,
        );
      }
      if (problems.some((p) => p.fixable && p.kind === 'registry')) {
        const registry = new PortRegistry(paths.registry, paths.lock('ports'), { isFree: async () => true }, paths.tmp);
        let note = '';
        const repaired = await registry.repair(async () => {
          const { records, repoIds } = await allRecords();
          const labelled = await engine.containers({ [LABEL.managed]: 'true' }).catch((error: unknown) => {
            note = ` (the engine did not answer, so envs whose record is unreadable got no lease: ${error instanceof Error ? error.message : String(error)})`;
            return [];
          });
          // Only repositories of this state directory: another ENVS_HOME (another user) on the same engine keeps its own.
          const containers = labelled.filter((c) => repoIds.has(c.labels[LABEL.repo] ?? ''));
          const leases = rebuildLeases(records, containers, now().toISOString());
          note = `${records.length} records and ${containers.length} labelled containers${note}`;
          return leases;
        });
        if (repaired) {
          done.push(
            `moved the damaged port registry aside to ${repaired.movedTo}; rebuilt ${paths.registry} with ${repaired.leases.length} leases from ${note}`,
          );
        }
      }
      return done;
    },
  };
}

/**
 * The fleet of one state directory (the dashboard): every repository under `<home>/repos`, each with the
 * git, records, locks and process states `describe` reads, and one engine for all. A repository's checkout
 * is found once (from its records) and remembered: the page asks every few seconds.
 */
export function fleetDeps(home: string, env: NodeJS.ProcessEnv): FleetDeps {
  const paths = new StatePaths(home);
  const engine = resolveEngine(env).then((endpoint) => new LazyEngine(endpoint.host, { env: { ...env, ...endpoint.env } }));
  engine.catch(() => {}); // a bad DOCKER_HOST fails each engine call (status unknown), not the process
  const opened = new Map<string, Promise<{ repo: RepoInfo; problem?: string }>>();
  const openAt = (root: string) => {
    let found = opened.get(root);
    if (!found) {
      found = openRepo(root, env).then(
        (repo) => ({ repo }),
        (error: unknown) => {
          opened.delete(root); // moved back, or cloned again: try again next time
          return {
            repo: { root, commonDir: join(root, '.git') },
            problem: `its repository ${root} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
          };
        },
      );
      opened.set(root, found);
    }
    return found;
  };
  const locks = fileLocks(paths);
  const app = lazyAppRunner();
  return {
    repos: async () =>
      Promise.all(
        (await repoEnvDirs(home)).map(async ({ repoId }): Promise<FleetRepo> => {
          const store = recordStore(paths, repoId);
          // Read once per fleet read: the fleet reads the same scan again.
          const scanned = store.scan();
          const records: RecordStore = { ...store, scan: () => scanned };
          const root = (await scanned).records[0]?.repo ?? '';
          const { repo, problem } = root ? await openAt(root) : { repo: { root: '', commonDir: '' }, problem: undefined };
          return {
            repoId,
            root,
            deps: { git: new CliGitClient(repo, env), records, locks, app, repoId, env },
            ...(problem ? { problem } : {}),
          };
        }),
      ),
    engine: {
      containers: async (labels) => (await engine).containers(labels),
      inspect: async (ids) => (await engine).inspect(ids),
    },
    now: () => new Date(),
  };
}

/**
 * `envs gc`'s view of one state directory: every repository with records in it (and the one `cwd` is in, for
 * its worktree entries), one engine and Compose for all, the machine-wide registries and locks.
 */
export async function gcDeps(options: { env: NodeJS.ProcessEnv; cwd: string; signal?: AbortSignal; dryRun?: boolean }): Promise<GcDeps> {
  const { env, cwd } = options;
  const paths = new StatePaths(envsHome(env, cwd));
  await usableHome(paths.home);
  const endpoint = await resolveEngine(env);
  const engine = new LazyEngine(endpoint.host, { env: { ...env, ...endpoint.env }, ...(options.signal ? { signal: options.signal } : {}) });
  engine.askEarly();
  const here = await openRepo(cwd, env).catch(() => undefined);
  const opened = new Map<string, Promise<Deps>>();
  const open = (root: string) => {
    let found = opened.get(root);
    if (!found) {
      found = openEnvs({ cwd: root, env, keepTemp: true, ...(options.signal ? { signal: options.signal } : {}) });
      opened.set(root, found);
    }
    return found;
  };
  const repos = async (): Promise<GcRepo[]> => {
    const dirs = await repoEnvDirs(paths.home);
    const found = await Promise.all(
      dirs.map(async ({ repoId, envsDir }): Promise<GcRepo> => {
        const store = recordStore(paths, repoId);
        const { records, corrupt } = await store.scan();
        const entries = await readdir(envsDir, { withFileTypes: true }).catch(() => []);
        const root = records[0]?.repo ?? '';
        return {
          repoId,
          root,
          records,
          corrupt,
          envDirs: entries.filter((e) => e.isDirectory()).map((e) => e.name),
          open: () => (root ? open(root) : Promise.reject(new Error(`no record of ${repoId} names its checkout`))),
        };
      }),
    );
    if (here) {
      const repoId = repoIdFor(basename(here.root), here.commonDir);
      if (!found.some((r) => r.repoId === repoId)) {
        found.push({ repoId, root: here.root, records: [], corrupt: [], envDirs: [], open: () => open(here.root) });
      }
    }
    return found;
  };
  return {
    home: { path: paths.home, host: hostname() },
    engine,
    compose: new CliComposeClient(composeEnvironment(env, endpoint), paths.tmp),
    ports: new PortRegistry(paths.registry, paths.lock('ports'), new LoopbackProbe(), paths.tmp),
    subnets: new SubnetRegistry(paths.subnets, paths.lock('subnets'), (project) => occupiedSubnets(engine, project), paths.tmp),
    locks: fileLocks(paths),
    repos,
    exists: (path) =>
      stat(path).then(
        () => true,
        (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : undefined),
      ),
    staleTemp: (dryRun) => clearStaleTemp(paths.tmp, { dryRun }),
    removeEnvDir: async (repoId, name) => {
      const dir = paths.envFiles(repoId, name);
      await lazyAppRunner().stop({ stateDir: dir });
      await rm(dir, { recursive: true, force: true });
    },
    env,
  };
}
