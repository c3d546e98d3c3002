import { type AddressMap, rewriteServiceEnvironments } from '../bootstrap/addresses.ts';
import type { CollectedSources } from '../bootstrap/env-files.ts';
import { leaseProcessPorts } from '../bootstrap/processes.ts';
import { conflictingPorts, networkFailure } from '../compose/conflicts.ts';
import type { ComposeModel } from '../compose/model.ts';
import { subnetNeeds } from '../compose/networks.ts';
import { buildAndImageServices, collectPortRequests, LOOPBACK, transformModel } from '../compose/transform.ts';
import { EnvsError, lastLines } from '../errors.ts';
import type { Lease, PortRange } from '../ports/allocate.ts';
import type { SubnetLease, SubnetRangeSetting } from '../subnets/allocate.ts';
import { type AppPlan, addressMapFor, appVariables, supabaseRequests, turboAdvice, writeAppFiles } from './app.ts';
import { withDatabaseVolume } from './database.ts';
import type { Deps } from './deps.ts';
import { envVarsFor } from './env-vars.ts';
import { labelsFor } from './labels.ts';
import { printable } from './naming.ts';
import type { Binding, EnvRecord, Phase } from './record.ts';
import { createRedactor } from './redact.ts';
import { settledInOrder } from './settled.ts';
import { ensureSharedRunning, serverOf, sharedDatabaseEnv } from './shared-db.ts';
import type { RenderedSource } from './source.ts';
import { diagnoseServices, oneShotServices, waitForServices } from './wait.ts';

/** Bind conflicts (someone took a leased port) and pool overlaps are moved around this many times before giving up. */
const MAX_MOVES = 3;

export type Progress = (event: { step: string; message: string }) => void;

export interface ConvergeOptions {
  /** The app part of the env (processes, Supabase, env files); absent: containers only. */
  app?: AppPlan;
  /** The main checkout's env files as the plan read them (create); absent: read them now (up). */
  envSources?: CollectedSources;
  range: PortRange;
  subnets: SubnetRangeSetting & { size: number };
  waitTimeout: number;
  signal?: AbortSignal;
  /** Called before each step so the caller can record the phase. */
  enter?: (phase: Phase) => Promise<void>;
  onProgress?: Progress;
  /** The first attempt's leases and the images found, begun by the caller (create: beside `git worktree add`). */
  leased?: Promise<Leased>;
}

/** What converge needs before it writes the compose file: the images the engine has, ports and subnets leased. */
export interface Leased {
  /** The stack's images the engine has (a pull of the others waits for converge: Compose reads the worktree's .env). */
  present: Set<string>;
  leases: Lease[];
  subnets: SubnetLease[];
  processPorts: Record<string, number>;
}

type LeaseOptions = Pick<ConvergeOptions, 'app' | 'range' | 'subnets'>;

/**
 * The env's ports and subnets leased (keeping its own) and the images the engine has: needs no worktree, so
 * create runs it while git adds one; converge runs it itself otherwise. Every part has ended when it settles
 * (a rollback releases after it), and its first error in this order is thrown.
 */
export async function leaseFor(deps: Deps, record: EnvRecord, rendered: RenderedSource, options: LeaseOptions): Promise<Leased> {
  const [present, leased] = await settledInOrder([
    imagesPresent(deps, rendered.model),
    reserve(deps, record, rendered, options, new Set()),
  ] as const);
  return { present, ...leased };
}

async function reserve(
  deps: Deps,
  record: EnvRecord,
  rendered: RenderedSource,
  options: LeaseOptions,
  avoid: Set<number>,
): Promise<Omit<Leased, 'present'>> {
  const owner = { project: record.project, repo: record.repoId, env: record.name };
  const requests = [
    ...collectPortRequests(rendered.model).map(({ key, protocol }) => ({ key, protocol })),
    ...supabaseRequests(options.app),
  ];
  const networks = subnetNeeds(rendered.model, options.subnets.size).map(({ key, prefix }) => ({ key, prefix }));
  const [leases, subnets] = await settledInOrder([
    deps.ports.reserve({ owner, requests, range: options.range, avoid }),
    deps.subnets.reserve({ owner, requests: networks, range: options.subnets }),
  ] as const);
  const processPorts = options.app?.processes.length
    ? await leaseProcessPorts({
        ports: deps.ports,
        owner,
        processes: options.app.processes,
        range: options.range,
        stateDir: deps.records.envDir(record.name),
      })
    : {};
  return { leases, subnets, processPorts };
}

/**
 * Brings an env's containers to its rendered model: lease ports and subnets (keeping the env's own), make
 * sure the images are there (pulling what Compose would pull; a service that builds its image gets a
 * per-env tag only when the env really builds it), write the transformed compose file, `docker compose up
 * --detach`, then wait until the stack really is up (wait.ts) and its database answers. A leased port
 * someone took, or a subnet someone else created meanwhile, is leased again and `up` retried. Then the
 * real bindings are read back from the engine and the env's variables derived. Updates `record` in place.
 */
export async function converge(deps: Deps, record: EnvRecord, rendered: RenderedSource, options: ConvergeOptions): Promise<void> {
  const composeRequests = collectPortRequests(rendered.model);
  const labels = labelsFor(record, deps.home);
  const secrets = Object.values(record.secrets);
  const redactor = createRedactor({ secretValues: secrets });
  const deadline = Date.now() + options.waitTimeout * 1000;
  const avoid = new Set<number>();
  const progress = (step: string, message: string) => options.onProgress?.({ step, message });
  let warnings: string[] = [];
  let services: string[] = [];
  let leased = new Map<string, number>();
  let processPorts: Record<string, number> = {};
  let map: AddressMap | undefined;
  const oneShots = oneShotServices(rendered.model.services, record.database?.service);

  await options.enter?.('ports');
  const first = await (options.leased ?? leaseFor(deps, record, rendered, options));
  const images = await ensureImages(deps, record, rendered, options, first.present);
  const buildPerEnv = images.buildPerEnv;
  // The env files the plan read are written as read unless a pull made them old (read again then).
  const envSources = images.pulled ? undefined : options.envSources;

  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) await options.enter?.('ports'); // back from compose-up: recorded again
    const { leases, subnets, processPorts: ports } = attempt === 0 ? first : await reserve(deps, record, rendered, options, avoid);
    leased = new Map(leases.map((l) => [l.key, l.port]));
    processPorts = ports;
    map = addressMapFor(composeRequests, leased, options.app, processPorts);
    const rewrite = rewriteServiceEnvironments(map, rendered.model.services);
    await options.enter?.('compose-file');
    const transformed = transformModel({
      // The database's data volume as the env has it: added where the image had only an anonymous one, cloned.
      model: withDatabaseVolume(rendered.model, record.database),
      project: record.project,
      labels,
      ports: leased,
      subnets: new Map(subnets.map((s) => [s.key, s.cidr])),
      buildPerEnv,
      environments: rewrite.environments,
      ...(rendered.originalName ? { originalName: rendered.originalName } : {}),
    });
    warnings = [...transformed.warnings, ...map.warnings];
    services = transformed.services;
    await deps.compose.write(record.composeFile, transformed.model);
    if (options.app) {
      const files = await writeAppFiles(deps, record, rendered.config, options.app, map, envSources);
      record.envFiles = files.written;
      warnings.push(...files.warnings);
    }

    await options.enter?.('compose-up');
    // Nothing to run (strategy template took the only service, the database, to the shared server).
    if (services.length === 0) break;
    progress('compose-up', `docker compose up (${services.join(', ') || 'no services'})`);
    const upping = deps.compose.up({
      project: record.project,
      file: record.composeFile,
      projectDir: rendered.projectDir,
      timeoutSeconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    deps.engine.prepare(); // the wait after `up` needs the engine client: load it while Compose works
    const result = await upping;
    if (result.ok) break;

    const ours = new Set(leases.map((l) => l.port));
    const taken = conflictingPorts(result.stderr).filter((port) => ours.has(port));
    const network = networkFailure(result.stderr);
    if (attempt < MAX_MOVES && taken.length > 0) {
      for (const port of taken) avoid.add(port);
      progress('ports', `port ${taken.join(', ')} is taken by another program; moving to another`);
      continue;
    }
    if (attempt < MAX_MOVES && network === 'overlap') {
      // Someone created a network in one of our subnets since we leased it: lease again (the registry skips
      // subnets in use on the engine) and retry.
      await deps.subnets.release(record.project);
      progress('subnets', 'a subnet of this env was taken meanwhile; moving to another');
      continue;
    }
    const failedService =
      taken.length === 0 && !network
        ? await diagnoseServices(deps, {
            project: record.project,
            services: rendered.model.services,
            oneShots,
            scrub: (text) => redactor.text(text),
          })
        : undefined;
    throw failedService ?? upFailed(record, result.stderr, taken.length > 0 ? 'ports' : network, (text) => redactor.text(text));
  }

  // Postgres on a cloned data directory accepts connections ~0.12 s after its container starts: it is asked
  // beside the wait, and a database that answers has shown it is up, so the wait does not hold it for the
  // 250 ms it asks of a container that gives no other sign (wait.ts). After the wait it is asked once more,
  // on the port the engine shows then.
  const stopEarly = new AbortController();
  const proven = new Set<string>();
  const proving = record.database?.shared
    ? undefined
    : answeringDatabase(deps, record, rendered, {
        deadline,
        signal: options.signal ? AbortSignal.any([options.signal, stopEarly.signal]) : stopEarly.signal,
      }).then((service) => {
        if (service) proven.add(service);
      });
  let vars: ReturnType<typeof varsOf>;
  try {
    await waitForServices(deps, {
      project: record.project,
      services: rendered.model.services,
      oneShots,
      deadline,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      scrub: (text) => redactor.text(text),
      ...(proving ? { proven: { services: proven, settled: proving } } : {}),
    });
    stopEarly.abort();
    record.ports = orderBindings(await readBindings(deps, record.project), rendered.serviceOrder);
    vars = varsOf(record, rendered);
    const shared = record.database?.shared;
    if (shared) {
      // Strategy template: the env's database is its own, on the shared server (core/shared-db.ts).
      await ensureSharedRunning(deps, serverOf(deps, shared), options.signal, options.onProgress);
      Object.assign(vars.env, sharedDatabaseEnv(shared));
      vars.database = {
        service: record.database?.service ?? 'db',
        host: '127.0.0.1',
        port: shared.port,
        user: shared.user,
        database: shared.database,
      };
    }
    if (vars.database) {
      progress('database', `waiting for Postgres (${vars.database.service}) to accept connections`);
      const { host, port, user, database } = vars.database;
      if (!(await deps.probes.postgres({ host, port, user, database }, deadline, options.signal))) {
        throw new EnvsError(
          'SERVICE_FAILED',
          `The database ${printable(vars.database.service)} did not accept connections on ${host}:${port} in time.`,
          {
            hint: `See its log with \`docker compose -p ${record.project} logs ${vars.database.service}\`; raise up.waitTimeout in envs.yaml if it only needs longer.`,
          },
        );
      }
    }
  } finally {
    stopEarly.abort(); // a probe left polling would keep the process alive until the deadline
  }
  const app = appVariables(record, rendered.config, options.app, {
    map: map ?? addressMapFor([], leased, undefined, {}),
    leased,
    processPorts,
    bindings: record.ports,
    vars,
  });
  record.env = { ...vars.env, ...app.env };
  if (app.supabase) record.supabase = app.supabase;
  else delete record.supabase;
  record.processPorts = processPorts;
  if (rendered.config.preview) {
    record.preview = rendered.config.preview;
    const published = record.ports.some((b) => b.service === record.preview && b.protocol === 'tcp');
    if (!published && !processPorts?.[rendered.config.preview]) {
      warnings.push(
        `preview: ${rendered.config.preview} in envs.yaml is not a service with a published TCP port nor a host process with a port; the preview URL is detected instead.`,
      );
    }
  } else delete record.preview;
  warnings.push(...app.warnings, ...turboAdvice(options.app, Object.keys(record.env)));
  record.services = services;
  record.serviceOrder = rendered.serviceOrder;
  record.appProtocols = Object.fromEntries(
    Object.entries(rendered.model.services).flatMap(([name, s]) =>
      (s.ports ?? []).flatMap((p) => (p.app_protocol ? [[`${name}/${p.target}`, String(p.app_protocol)]] : [])),
    ),
  );
  // Jobs (oneShotServices): an exited one of the others is down, whatever its exit code.
  record.oneShots = [...oneShots].sort();
  record.warnings = [...new Set([...warnings, ...vars.warnings])];
  record.sourceFiles = rendered.sourceFiles;
  record.projectDir = rendered.projectDir;
  if (rendered.template) record.template = rendered.template;
}

/** The env's variables from its bindings (`record.ports`) and its rendered model. */
function varsOf(record: EnvRecord, rendered: RenderedSource, bindings: Binding[] = record.ports) {
  return envVarsFor({
    name: record.name,
    branch: record.branch,
    project: record.project,
    worktree: record.worktree,
    composeFile: record.composeFile,
    model: rendered.model,
    bindings,
    ...(rendered.config.database?.service ? { databaseService: rendered.config.database.service } : {}),
  });
}

/**
 * The database's service once it accepts connections on the port the engine shows right after `up`;
 * undefined when no database shows yet, or it did not answer before the deadline or the signal.
 */
async function answeringDatabase(
  deps: Deps,
  record: EnvRecord,
  rendered: RenderedSource,
  options: { deadline: number; signal: AbortSignal },
): Promise<string | undefined> {
  const db = varsOf(record, rendered, await readBindings(deps, record.project)).database;
  if (!db) return undefined;
  const { host, port, user, database } = db;
  return (await deps.probes.postgres({ host, port, user, database }, options.deadline, options.signal)) ? db.service : undefined;
}

/**
 * Makes sure every image the stack runs is on the engine before `up`, so a registry that cannot be reached
 * is reported as that, naming the image. Images of services that also build are pulled when Compose would
 * pull them; when they cannot be had, the env builds them under a per-env tag (returned), so one env's
 * build never replaces the image another env runs.
 */
async function ensureImages(
  deps: Deps,
  record: EnvRecord,
  rendered: RenderedSource,
  options: Pick<ConvergeOptions, 'signal' | 'onProgress'>,
  found: ReadonlySet<string>,
): Promise<{ buildPerEnv: Set<string>; pulled: boolean }> {
  const model = rendered.model;
  const { builders, pulled, refs } = imageServices(model);
  if (refs.length === 0) return { buildPerEnv: new Set(builders), pulled: false };
  const present = new Set(found);

  const missing = pulled.filter(([, s]) => !present.has(s.image as string) && s.pull_policy !== 'never');
  const tryPull = builders.filter((name) => {
    const s = model.services[name] as ComposeModel['services'][string];
    return !present.has(s.image as string) && s.pull_policy !== 'build' && s.pull_policy !== 'never';
  });
  if (missing.length + tryPull.length > 0) {
    const names = [...missing.map(([name]) => name), ...tryPull];
    options.onProgress?.({ step: 'images', message: `pulling ${[...new Set(names.map((n) => model.services[n]?.image))].join(', ')}` });
    const result = await deps.compose.pull({
      project: record.project,
      model,
      projectDir: rendered.projectDir,
      services: names,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const after = await deps.engine.imagesPresent(refs);
    const failed = missing.filter(([, s]) => !after.has(s.image as string));
    if (failed.length > 0)
      throw pullFailed(
        record,
        failed.map(([, s]) => s.image as string),
        result.stderr,
      );
    for (const ref of after) present.add(ref);
  }
  const buildPerEnv = new Set(
    builders.filter((name) => model.services[name]?.pull_policy === 'build' || !present.has(model.services[name]?.image as string)),
  );
  return { buildPerEnv, pulled: missing.length + tryPull.length > 0 };
}

/** Services that build and name an image, services that only pull one, and every image they name. */
function imageServices(model: ComposeModel) {
  const builders = buildAndImageServices(model);
  const pulled = Object.entries(model.services).filter(([, s]) => s.image && !s.build && s.pull_policy !== 'build');
  const refs = [
    ...new Set([...builders.map((name) => model.services[name]?.image as string), ...pulled.map(([, s]) => s.image as string)]),
  ];
  return { builders, pulled, refs };
}

/** Which of the stack's images the engine has. */
async function imagesPresent(deps: Deps, model: ComposeModel): Promise<Set<string>> {
  const { refs } = imageServices(model);
  return refs.length === 0 ? new Set() : deps.engine.imagesPresent(refs);
}

function pullFailed(record: EnvRecord, images: string[], stderr: string): EnvsError {
  const unreachable =
    /no such host|dial tcp|i\/o timeout|connection refused|TLS handshake|network is unreachable|temporary failure in name resolution/i.test(
      stderr,
    );
  const list = [...new Set(images)].map(printable).join(', ');
  const why = unreachable ? 'the registry is unreachable' : lastLines(stderr, 3);
  return new EnvsError('IMAGE_PULL_FAILED', `Could not pull ${list}: ${why}.`, {
    hint: record.template
      ? `Pull it once while online (\`docker pull ${images[0]}\`), or point ENVS_POSTGRES_IMAGE at a Postgres image you have (\`docker images\`).`
      : `Pull it once while online (\`docker pull ${images[0]}\`), or build/tag it locally; \`docker images\` lists what the engine has.`,
    details: { images },
  });
}

function upFailed(
  record: EnvRecord,
  stderr: string,
  kind: 'ports' | 'overlap' | 'pools' | undefined,
  redact: (text: string) => string,
): EnvsError {
  const said = redact(lastLines(stderr, 10));
  if (kind === 'ports') {
    return new EnvsError('COMPOSE_FAILED', `docker compose up failed for ${printable(record.branch)}:\n${said}`, {
      hint: 'Ports kept being taken by other programs while envs retried; free some ports or widen ENVS_PORT_RANGE.',
    });
  }
  if (kind) {
    return new EnvsError('NETWORK_FAILED', `The engine could not create ${printable(record.branch)}'s networks:\n${said}`, {
      hint:
        kind === 'pools'
          ? "The engine ran out of address pools. envs gives its own networks subnets from ENVS_SUBNET_RANGE; a network the compose file makes outside that (or another tool's) may need `docker network prune`, or more `default-address-pools` in daemon.json."
          : 'A subnet kept being taken by other networks while envs retried; `docker network ls` shows them. Change ENVS_SUBNET_RANGE (or networks.range in envs.yaml) to a free block.',
    });
  }
  return new EnvsError('COMPOSE_FAILED', `docker compose up failed for ${printable(record.branch)}:\n${said}`, {
    hint: `See the containers' logs: docker compose -p ${record.project} logs`,
  });
}

/** The ports the engine really published for a project (the truth, whatever the file says). */
export async function readBindings(deps: Deps, project: string): Promise<Binding[]> {
  const containers = await deps.engine.containers({ 'com.docker.compose.project': project });
  const seen = new Set<string>();
  return containers
    .flatMap((c) => c.ports)
    .filter((p) => p.host_ip === LOOPBACK)
    .filter((p) => {
      const key = `${p.service}/${p.target}/${p.protocol}/${p.published}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.service === b.service ? a.target - b.target : a.service < b.service ? -1 : 1));
}

/** Bindings in the order the compose files list their services (the first HTTP one is the env's preview). */
export function orderBindings(bindings: Binding[], serviceOrder: readonly string[]): Binding[] {
  const rank = (service: string) => {
    const index = serviceOrder.indexOf(service);
    return index === -1 ? serviceOrder.length : index;
  };
  return [...bindings].sort((a, b) => rank(a.service) - rank(b.service) || a.service.localeCompare(b.service) || a.target - b.target);
}
