/**
 * The composition root: builds the real adapters behind core's interfaces for one repository.
 * The CLI and the library API both start here; tests of core pass fakes instead.
 */
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { CliComposeClient } from './compose/cli.ts';
import type { Deps, Locks, RecordStore } from './core/deps.ts';
import { repoIdFor } from './core/naming.ts';
import { type EnvRecord, parseRecord } from './core/record.ts';
import { waitForPostgres } from './db/ready.ts';
import { composeEnvironment, resolveEngine } from './docker/endpoint.ts';
import { LazyEngine } from './docker/lazy.ts';
import { CliGitClient, openRepo } from './git/client.ts';
import { LoopbackProbe } from './ports/probe.ts';
import { PortRegistry } from './ports/registry.ts';
import { isLocked, withLock } from './state/lock.ts';
import { envsHome, StatePaths } from './state/paths.ts';
import { JsonRecords } from './state/records.ts';
import { type Cidr, parseCidr } from './subnets/cidr.ts';
import { SubnetRegistry } from './subnets/registry.ts';
import { hostRoutes } from './subnets/routes.ts';

export interface OpenOptions {
  /** A directory inside the repository (default: the current directory). */
  cwd?: string;
  /** Environment to read settings from and to run git/Compose with (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export async function openEnvs(options: OpenOptions = {}): Promise<Deps> {
  const env = options.env ?? process.env;
  const [repo, endpoint] = await Promise.all([openRepo(options.cwd ?? process.cwd()), resolveEngine(env)]);
  const paths = new StatePaths(envsHome(env));
  const repoId = repoIdFor(basename(repo.root), repo.commonDir);
  const engine = new LazyEngine(endpoint.host, endpoint.env);
  return {
    git: new CliGitClient(repo),
    // Compose gets the endpoint dockerode uses, said explicitly: the two can never reach different engines.
    compose: new CliComposeClient(composeEnvironment(env, endpoint)),
    engine,
    ports: new PortRegistry(paths.registry, paths.lock('ports'), new LoopbackProbe()),
    probes: { postgres: waitForPostgres },
    subnets: new SubnetRegistry(paths.subnets, paths.lock('subnets'), (project) => occupiedSubnets(engine, project)),
    records: recordStore(paths, repoId),
    locks: fileLocks(paths),
    repoId,
    env,
    now: () => new Date(),
  };
}

/** What env networks must not overlap: the engine's other networks and the host's routes. */
async function occupiedSubnets(engine: LazyEngine, project: string): Promise<Cidr[]> {
  const [networks, routes] = await Promise.all([engine.networkSubnets(project), hostRoutes()]);
  return [...networks.map((n) => parseCidr(n)).filter((c): c is Cidr => c !== undefined), ...routes];
}

function recordStore(paths: StatePaths, repoId: string): RecordStore {
  const records = new JsonRecords<EnvRecord>(paths.envsDir(repoId), parseRecord);
  return {
    list: () => records.list(),
    get: (name) => records.get(name),
    put: (record) => records.put(record),
    remove: async (name) => {
      await rm(paths.envFiles(repoId, name), { recursive: true, force: true });
      await records.remove(name);
    },
    composeFile: (name) => paths.composeFile(repoId, name),
    worktreesRoot: paths.worktreesRoot(repoId),
  };
}

function fileLocks(paths: StatePaths): Locks {
  return {
    with: (name, options, fn) => withLock(paths.lock(name), options, fn),
    isHeld: (name) => isLocked(paths.lock(name)),
  };
}
