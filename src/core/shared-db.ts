import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { ComposeModel } from '../compose/model.ts';
import type { Snapshot } from '../db/snapshots.ts';
import { EnvsError, lastLines } from '../errors.ts';
import { fnv1a, type PortRange } from '../ports/allocate.ts';
import type { Progress } from './converge.ts';
import { type DatabaseSettings, layClone, subpath } from './database.ts';
import type { Deps } from './deps.ts';
import { homeLabels, LABEL } from './labels.ts';
import { printable } from './naming.ts';
import { type PsqlTarget, psql, quoteIdent, quoteLiteral, setRolePassword } from './psql.ts';
import type { DatabaseRecord, EnvRecord } from './record.ts';
import { removeResources } from './teardown.ts';

/**
 * Strategy `template`: one Postgres per repository and snapshot, shared by the envs cloned from it, each env
 * with a database of its own made by `CREATE DATABASE … TEMPLATE` from the snapshot's database (the golden
 * one, closed to connections). It saves a server's memory per env; the envs share its roles, extensions and
 * settings. The server is a Compose project of envs's own (`envs-<repo>-shared-<id>`), its data an overlay
 * clone of the snapshot, its port leased like an env's; it goes when the last env using it is destroyed.
 */
export interface SharedServer {
  project: string;
  /** Its compose file and the directory Compose runs it from. */
  file: string;
  dir: string;
  port: number;
  user: string;
  password: string;
  /** The snapshot's database: the template of every env's. */
  golden: string;
  pgVersion: string;
}

const SERVICE = 'db';

/** The role and database the image's entrypoint made (POSTGRES_USER/PASSWORD/DB): the snapshot has them. */
export interface Credentials {
  user: string;
  password: string;
  golden: string;
}

export function credentialsOf(model: ComposeModel, service: string): Credentials {
  const environment = model.services[service]?.environment ?? {};
  const user = environment.POSTGRES_USER || 'postgres';
  return { user, password: environment.POSTGRES_PASSWORD ?? '', golden: environment.POSTGRES_DB || user };
}
const LOCK = (repoId: string) => `db-shared-${repoId}`;

export function sharedProject(repoId: string, snapshot: string): string {
  return `envs-${repoId}-shared-${fnv1a(snapshot).toString(36)}`;
}

/** The env's own database on the shared server: its name as an identifier (`env_feat_x_3f9a2c`). */
export function envDatabaseName(envName: string): string {
  return `env_${envName.replace(/[^a-z0-9]+/g, '_')}`.slice(0, 63);
}

/** The shared server of a snapshot, started when it is not running (under the repository's lock). */
export async function ensureSharedServer(
  deps: Deps,
  options: {
    snapshot: Snapshot;
    credentials: Credentials;
    db: DatabaseRecord;
    settings: DatabaseSettings;
    range: PortRange;
    onProgress?: Progress;
    signal?: AbortSignal;
  },
): Promise<SharedServer> {
  const { snapshot, db } = options;
  const project = sharedProject(deps.repoId, snapshot.name);
  const dir = deps.records.envDir(`.shared-${project}`);
  const file = `${dir}/compose.yaml`;
  // The role and database inside the snapshot are what the server has, whatever this branch's compose file says now.
  const user = snapshot.user || options.credentials.user;
  const golden = snapshot.database || options.credentials.golden;
  const { password } = options.credentials;
  const labels = { [LABEL.managed]: 'true', [LABEL.repo]: deps.repoId, [LABEL.project]: project, ...homeLabels(deps.home) };
  return deps.locks.with(LOCK(deps.repoId), { what: `start the shared database server ${project}`, waitMs: 120_000 }, async () => {
    const [lease] = await deps.ports.reserve({
      owner: { project, repo: deps.repoId, env: `.shared-${project}` },
      requests: [{ key: `${SERVICE}/5432/tcp`, protocol: 'tcp' }],
      range: options.range,
    });
    if (!lease) throw new Error('no port lease for the shared database server');
    const server: SharedServer = { project, file, dir, port: lease.port, user, password, golden, pgVersion: snapshot.pgVersion };
    const running = await isRunning(deps, project);
    // The role's password is the one the server was started with (kept beside its compose file), not this env's.
    const kept = await readFile(`${dir}/server.json`, 'utf8').then(
      (text) => (JSON.parse(text) as { password?: string }).password,
      () => undefined,
    );
    if (kept !== undefined) server.password = kept;
    if (running && kept !== undefined) return server;

    options.onProgress?.({ step: 'database', message: `starting the shared database server ${project} on snapshot ${snapshot.name}` });
    const existing = await deps.engine.volumes({ [LABEL.project]: project });
    const laid = existing.some((v) => v.name === `${project}-dbclone`)
      ? undefined // a stopped server's clone: its data (the envs' databases) is kept
      : await layClone(deps, { project, labels, image: db.image }, snapshot, options.settings, subpath(db));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (laid) {
      const model: ComposeModel = {
        name: project,
        services: {
          [SERVICE]: {
            image: db.image,
            environment: { POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: golden, PGDATA: db.dataPath },
            ports: [{ target: 5432, published: String(lease.port), host_ip: '127.0.0.1', protocol: 'tcp' }],
            volumes: [{ type: 'volume', source: 'data', target: db.mountPath ?? db.dataPath }],
            labels,
          },
        },
        volumes: { data: { driver: 'local', driver_opts: laid.volumeOptions, labels } },
      };
      await deps.compose.write(file, model);
    }
    const up = await deps.compose.up({
      project,
      file,
      projectDir: dir,
      timeoutSeconds: 120,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!up.ok) {
      throw new EnvsError('DB_FAILED', `The shared database server ${project} did not start:\n${lastLines(up.stderr, 5)}`, {
        hint: `See its log with \`docker compose -p ${project} logs\`.`,
      });
    }
    const ready = await deps.probes.postgres(
      { host: '127.0.0.1', port: lease.port, user, database: 'postgres' },
      Date.now() + 120_000,
      options.signal,
    );
    if (!ready) {
      throw new EnvsError('DB_FAILED', `The shared database server ${project} did not accept connections in time.`, {
        hint: `See its log with \`docker compose -p ${project} logs\`.`,
      });
    }
    // The golden database is a template nobody connects to: CREATE DATABASE … TEMPLATE needs it without sessions.
    if (laid) {
      await sql(deps, server, [`ALTER DATABASE ${quoteIdent(golden)} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`], options.signal);
      await setRolePassword(deps, targetOf(server, options.signal), server.password);
      await writeFile(`${dir}/server.json`, `${JSON.stringify({ password: server.password })}\n`, { mode: 0o600 });
    }
    return server;
  });
}

function sql(deps: Deps, server: SharedServer, statements: string[], signal?: AbortSignal): Promise<string> {
  return psql(deps, targetOf(server, signal), { statements });
}

function targetOf(server: SharedServer, signal?: AbortSignal): PsqlTarget {
  return {
    project: server.project,
    file: server.file,
    projectDir: server.dir,
    service: SERVICE,
    user: server.user,
    ...(signal ? { signal } : {}),
  };
}

/**
 * `CREATE DATABASE <name> TEMPLATE <from>`: sessions on the template are ended first (they would block it);
 * FILE_COPY on PostgreSQL 15+ (WAL_LOG, their default, is slower for big templates), and on 18+ with
 * `file_copy_method = clone`, O(1) on a copy-on-write file system.
 */
export async function createFromTemplate(
  deps: Deps,
  server: SharedServer,
  name: string,
  from: string,
  signal?: AbortSignal,
): Promise<void> {
  const major = Number.parseInt(server.pgVersion, 10) || 0;
  await sql(
    deps,
    server,
    [
      ...(major >= 18 ? ['SET file_copy_method = clone'] : []),
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${quoteLiteral(from)} AND pid <> pg_backend_pid()`,
      `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(from)}${major >= 15 ? ' STRATEGY FILE_COPY' : ''}`,
    ],
    signal,
  );
}

export async function dropEnvDatabase(deps: Deps, server: SharedServer, name: string, signal?: AbortSignal): Promise<void> {
  await sql(deps, server, [`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`], signal);
}

/** The shared server an env's record names (its files are under ENVS_HOME). */
export function serverOf(deps: Deps, shared: NonNullable<DatabaseRecord['shared']>): SharedServer {
  const dir = deps.records.envDir(`.shared-${shared.project}`);
  return { ...shared, file: `${dir}/compose.yaml`, dir };
}

async function isRunning(deps: Deps, project: string): Promise<boolean> {
  return (await deps.engine.containers({ 'com.docker.compose.project': project })).some((c) => c.state === 'running');
}

/** Starts the shared server again when something stopped it (a reboot, `docker stop`), and waits for it. */
export async function ensureSharedRunning(deps: Deps, server: SharedServer, signal?: AbortSignal, onProgress?: Progress): Promise<void> {
  if (await isRunning(deps, server.project)) return;
  onProgress?.({ step: 'database', message: `starting the shared database server ${server.project} again` });
  const up = await deps.compose.up({
    project: server.project,
    file: server.file,
    projectDir: server.dir,
    timeoutSeconds: 120,
    ...(signal ? { signal } : {}),
  });
  const ready =
    up.ok &&
    (await deps.probes.postgres(
      { host: '127.0.0.1', port: server.port, user: server.user, database: 'postgres' },
      Date.now() + 120_000,
      signal,
    ));
  if (!ready) {
    throw new EnvsError(
      'DB_FAILED',
      `The shared database server ${server.project} does not start${up.ok ? '' : `:\n${lastLines(up.stderr, 5)}`}.`,
      {
        hint: `See its log with \`docker compose -p ${server.project} logs\`.`,
      },
    );
  }
}

/** The variables of an env whose database is on the shared server. */
export function sharedDatabaseEnv(shared: NonNullable<DatabaseRecord['shared']>): Record<string, string> {
  const auth = shared.password
    ? `${encodeURIComponent(shared.user)}:${encodeURIComponent(shared.password)}`
    : encodeURIComponent(shared.user);
  return {
    DATABASE_URL: `postgres://${auth}@127.0.0.1:${shared.port}/${encodeURIComponent(shared.database)}`,
    PGHOST: '127.0.0.1',
    PGPORT: String(shared.port),
    PGUSER: shared.user,
    PGDATABASE: shared.database,
    ...(shared.password ? { PGPASSWORD: shared.password } : {}),
  };
}

/**
 * Drops the env's database; when no other env uses the shared server any more, the server goes too (its
 * containers, its clone, its port).
 */
export async function releaseShared(deps: Deps, record: EnvRecord, signal?: AbortSignal): Promise<void> {
  const shared = record.database?.shared;
  if (!shared) return;
  const server = serverOf(deps, shared);
  await deps.locks.with(LOCK(deps.repoId), { what: `drop ${printable(record.branch)}'s database`, waitMs: 120_000 }, async () => {
    const others = (await deps.records.list()).filter((r) => r.name !== record.name && r.database?.shared?.project === shared.project);
    if (others.length > 0) {
      await ensureSharedRunning(deps, server, signal);
      await dropEnvDatabase(deps, server, shared.database, signal);
      return;
    }
    await removeResources(deps, shared.project, signal);
    await deps.ports.release(shared.project);
    const { rm } = await import('node:fs/promises');
    await rm(server.dir, { recursive: true, force: true });
  });
}
