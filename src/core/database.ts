import type { ComposeModel } from '../compose/model.ts';
import type { Config } from '../config/schema.ts';
import { ADDED_VOLUME, type DatabaseTarget, findDatabase, imageMajor } from '../db/detect.ts';
import {
  defaultSnapshotName,
  formatBytes,
  passwordDigest,
  pickSnapshot,
  SNAPSHOT_LABEL,
  type Snapshot,
  snapshotLabels,
  snapshotOf,
  snapshotVolume,
} from '../db/snapshots.ts';
import {
  type CloneMethod,
  copyFiles,
  discardLater,
  layOutClone,
  measure,
  type Place,
  removeDirs,
  storePlace,
  type TaskContext,
  volumePlace,
} from '../db/tasks.ts';
import { EnvsError, lastLines } from '../errors.ts';
import type { Progress } from './converge.ts';
import type { Deps } from './deps.ts';
import { homeLabels, LABEL, labelsFor } from './labels.ts';
import { printable } from './naming.ts';
import { setRolePassword } from './psql.ts';
import type { DatabaseRecord, EnvRecord } from './record.ts';
import { upSettings } from './settings.ts';
import {
  createFromTemplate,
  dropEnvDatabase,
  ensureSharedRunning,
  ensureSharedServer,
  releaseShared,
  serverOf,
  sharedDatabaseEnv,
} from './shared-db.ts';

/** Where `database.store` keeps things, relative to the store. */
const STORE_SNAPSHOTS = 'snapshots';
const STORE_CLONES = 'clones';

export interface DatabaseSettings {
  /** database.store as the default branch's envs.yaml has it (a branch cannot point envs's root tasks elsewhere). */
  store?: string;
  prefer: 'auto' | CloneMethod;
}

export function databaseSettings(config: Config, defaultBranchConfig: Config | undefined): DatabaseSettings {
  const store = defaultBranchConfig?.database?.store;
  return { ...(store ? { store: store.replace(/\/+$/, '') } : {}), prefer: config.database?.clone ?? 'auto' };
}

/** What create will do for the env's database (plan shows it; create does it). */
export interface DatabasePlan {
  target: DatabaseTarget;
  /** The snapshot the env is cloned from; absent with volume-clone: the env seeds itself and becomes the snapshot. */
  snapshot?: Snapshot;
  settings: DatabaseSettings;
  /** `--db-from`: the env whose data is copied (into a snapshot of its own) at create time. */
  fork?: string;
  describe: string;
}

export async function planDatabase(
  deps: Deps,
  model: ComposeModel,
  config: Config,
  settings: DatabaseSettings,
  options: { commit: string; from?: Snapshot },
): Promise<DatabasePlan | undefined> {
  const target = findDatabase(model, config);
  if (!target) return undefined;
  if (target.strategy !== 'volume-clone' && target.strategy !== 'template') {
    const describe =
      target.strategy === 'migrate'
        ? `${target.service}: an empty database, then database.migrate and database.seed`
        : `${target.service}: an empty database${target.note ? ` (${target.note})` : ''}`;
    return { target, settings, describe };
  }
  const snapshot =
    options.from ?? pickSnapshot(await snapshots(deps), { service: target.service, image: target.image, commit: options.commit });
  if (snapshot) checkCompatible(snapshot, target.image);
  const what =
    target.strategy === 'template'
      ? `a database of its own on the shared server of snapshot ${snapshot?.name} (CREATE DATABASE … TEMPLATE)`
      : `a clone of snapshot ${snapshot?.name}`;
  const describe = snapshot
    ? `${target.service}: ${what} (${formatBytes(snapshot.bytes)}, taken at ${snapshot.commit.slice(0, 8)} on ${snapshot.image})`
    : `${target.service}: no snapshot yet — the database starts empty, is seeded, and becomes this repository's first snapshot`;
  return { target, snapshot, settings, describe };
}

/** The label of a snapshot's data volume (the snapshot itself is a bind of its directory, made when the copy is whole). */
const SNAPSHOT_DATA_LABEL = 'dev.envs.snapshot-data';

function snapshotDataVolume(repoId: string, name: string): string {
  return `envs-snapdata-${repoId}-${name}`;
}

/** Data volumes whose snapshot was never made (a copy cut short): run under the repository's snapshot lock. */
async function removeUnpublished(deps: Deps): Promise<void> {
  const [data, published] = await Promise.all([
    deps.engine.volumes({ [LABEL.repo]: deps.repoId, [SNAPSHOT_DATA_LABEL]: '' }),
    snapshots(deps),
  ]);
  const names = new Set(published.map((s) => s.name));
  const orphans = data.filter((v) => !names.has(v.labels[SNAPSHOT_DATA_LABEL] ?? ''));
  // One still in use (a cut-short copy's container may still be running) goes next time.
  if (orphans.length > 0)
    await deps.engine.remove({ containers: [], volumes: orphans.map((v) => v.name), networks: [], images: [] }).catch(() => {});
}

/** Every snapshot of this repository. */
export async function snapshots(deps: Deps): Promise<Snapshot[]> {
  const volumes = await deps.engine.volumes({ [LABEL.repo]: deps.repoId, [SNAPSHOT_LABEL.name]: '' });
  return volumes.flatMap((v) => snapshotOf(v) ?? []).filter((s) => s.repoId === deps.repoId);
}

export async function findSnapshot(deps: Deps, name: string): Promise<Snapshot> {
  const found = (await snapshots(deps)).find((s) => s.name === name);
  if (!found) {
    throw new EnvsError('SNAPSHOT_NOT_FOUND', `No snapshot named ${printable(name)} in this repository.`, {
      hint: '`envs db snapshots` lists them.',
    });
  }
  return found;
}

/** Data of another major version than the image's server would not start (or worse): refused up front. */
export function checkCompatible(snapshot: Snapshot, image: string): void {
  const wanted = imageMajor(image);
  const have = Number.parseInt(snapshot.pgVersion, 10);
  if (wanted === undefined || Number.isNaN(have) || wanted === have) return;
  throw new EnvsError(
    'SNAPSHOT_INCOMPATIBLE',
    `Snapshot ${printable(snapshot.name)} holds PostgreSQL ${have} data, but the env's database runs ${printable(image)} (PostgreSQL ${wanted}).`,
    {
      hint: `Use a snapshot taken on PostgreSQL ${wanted} (\`envs db snapshots\`), or take one from an env on that image with \`envs db snapshot\`.`,
    },
  );
}

/** The record's part for a database, before anything is made. */
export function databaseRecord(plan: DatabasePlan): DatabaseRecord {
  const t = plan.target;
  return {
    service: t.service,
    strategy: t.strategy,
    image: t.image,
    dataPath: t.dataPath,
    ...(t.volume ? { volume: t.volume } : {}),
    ...(t.mountPath ? { mountPath: t.mountPath } : {}),
    ...(t.addVolume ? { addVolume: true } : {}),
    ...(t.note ? { note: t.note } : {}),
  };
}

export function subpath(db: Pick<DatabaseRecord, 'mountPath' | 'dataPath'>): string {
  const mount = (db.mountPath ?? db.dataPath).replace(/\/$/, '');
  return db.dataPath === mount ? '.' : db.dataPath.slice(mount.length + 1);
}

function taskContext(deps: Deps, record: EnvRecord, image: string): TaskContext {
  return { engine: deps.engine, image, labels: labelsFor(record, deps.home) };
}

/** The name a clone of the env is made under: its project's, with a reset's own id (both exist for a moment). */
function cloneProject(record: EnvRecord, id?: string): string {
  return id ? `${record.project}-${id}` : record.project;
}

/**
 * Lays out the env's clone of `snapshot` before its database first starts: a reflink copy where the store has
 * reflinks, else an overlay with the snapshot as its read-only lower layer (the env's writes go to its own
 * upper layer), else a full copy. Sets what the compose file's data volume needs (volumeOptions).
 */
export async function prepareClone(
  deps: Deps,
  record: EnvRecord,
  snapshot: Snapshot,
  settings: DatabaseSettings,
  onProgress?: Progress,
  /** Distinguishes a reset's new clone from the one it replaces (both exist for a moment). */
  id?: string,
): Promise<void> {
  const db = record.database;
  if (!db) return;
  const started = performance.now();
  const laid = await layClone(
    deps,
    { project: cloneProject(record, id), labels: labelsFor(record, deps.home), image: db.image },
    snapshot,
    settings,
    subpath(db),
  );
  Object.assign(db, { snapshot: snapshot.name, ...laid });
  const took = ((performance.now() - started) / 1000).toFixed(2);
  const how =
    laid.method === 'overlay'
      ? 'an overlay on it (copy-on-write)'
      : laid.method === 'reflink'
        ? 'a reflink copy (copy-on-write)'
        : `a full copy of ${formatBytes(snapshot.bytes)} (no reflinks on this file system, and overlay not chosen)`;
  onProgress?.({ step: 'database', message: `${db.service}: cloned snapshot ${snapshot.name} as ${how} in ${took} s` });
}

/** A clone's volume (engine volumes, no store) is named after its Compose project. */
const CLONE_VOLUME_SUFFIX = '-dbclone';

/** A clone's directory in a store, relative to it, named after its Compose project. */
function storeCloneRelative(project: string): string {
  return `${STORE_CLONES}/${project}`;
}

/** Where a task sees a clone directory of a store (undefined for a path that is not one of the store's clones). */
function storeClonePlace(store: string, dir: string): Place | undefined {
  const relative = dir.slice(store.length + 1);
  return dir.startsWith(`${store}/${STORE_CLONES}/`) ? storePlace(store, relative, '/store') : undefined;
}

/** A clone of `snapshot` for one Compose project (an env's, or a shared server's): its files and its volume's driver_opts. */
export async function layClone(
  deps: Deps,
  owner: { project: string; labels: Record<string, string>; image: string },
  snapshot: Snapshot,
  settings: DatabaseSettings,
  dataSubpath: string,
): Promise<{ method: CloneMethod; clone: NonNullable<DatabaseRecord['clone']>; volumeOptions: Record<string, string> }> {
  const ctx: TaskContext = { engine: deps.engine, image: owner.image, labels: owner.labels };
  let clone: Place;
  let info: NonNullable<DatabaseRecord['clone']>;
  let from: Place;
  if (settings.store) {
    const relative = storeCloneRelative(owner.project);
    clone = storePlace(settings.store, relative, '/store');
    info = { store: settings.store, dir: `${settings.store}/${relative}` };
    // A snapshot in the same store is reached through the same mount: a reflink cannot cross mounts on older kernels.
    from = snapshot.dataDir.startsWith(`${settings.store}/`)
      ? storePlace(settings.store, snapshot.dataDir.slice(settings.store.length + 1), '/store')
      : volumePlace(snapshot.volume, '/snapshot');
  } else {
    const volume = await deps.engine.createVolume({ name: `${owner.project}${CLONE_VOLUME_SUFFIX}`, labels: owner.labels });
    clone = volumePlace(volume.name, '/clone');
    info = { volume: volume.name, dir: volume.dataDir };
    from = volumePlace(snapshot.volume, '/snapshot');
  }
  // The snapshot read-only where it has a mount of its own: nothing a clone does may change it.
  if (from.mount.target === '/snapshot') from = { ...from, mount: { ...from.mount, readOnly: true } };
  const method = await layOutClone(ctx, from, clone, {
    prefer: settings.prefer,
    subpath: dataSubpath,
    root: snapshot.root,
  });
  const volumeOptions =
    method === 'overlay'
      ? { type: 'overlay', device: 'overlay', o: `lowerdir=${snapshot.dataDir},upperdir=${info.dir}/upper,workdir=${info.dir}/work` }
      : { type: 'none', o: 'bind', device: `${info.dir}/data` };
  return { method, clone: info, volumeOptions };
}

/** The compose model with the env's data volume as the record says: added where the image had none, cloned. */
export function withDatabaseVolume(model: ComposeModel, db: DatabaseRecord | undefined): ComposeModel {
  if (db?.shared) return withoutService(model, db.service);
  if (!db?.volume || (!db.addVolume && !db.volumeOptions)) return model;
  const volumes = { ...(model.volumes ?? {}) };
  const services = { ...model.services };
  if (db.addVolume) {
    const service = services[db.service];
    if (service) {
      const mounts = Array.isArray(service.volumes) ? [...service.volumes] : [];
      mounts.push({ type: 'volume', source: ADDED_VOLUME, target: db.mountPath ?? db.dataPath });
      services[db.service] = { ...service, volumes: mounts };
    }
    volumes[db.volume] = {};
  }
  if (db.volumeOptions) volumes[db.volume] = { ...(volumes[db.volume] ?? {}), driver: 'local', driver_opts: db.volumeOptions };
  return { ...model, services, volumes };
}

/** Strategy template: the env runs no database server of its own; nothing waits for one. */
function withoutService(model: ComposeModel, name: string): ComposeModel {
  const services = Object.fromEntries(
    Object.entries(model.services)
      .filter(([key]) => key !== name)
      .map(([key, service]) => {
        const dependsOn = service.depends_on;
        if (!dependsOn || typeof dependsOn !== 'object') return [key, service];
        const kept = Array.isArray(dependsOn)
          ? dependsOn.filter((d) => d !== name)
          : Object.fromEntries(Object.entries(dependsOn as Record<string, unknown>).filter(([d]) => d !== name));
        return [key, { ...service, depends_on: kept }];
      }),
  );
  return { ...model, services };
}

/** The env's data volume on the engine (Compose's labels name its project and key). */
async function dataVolume(deps: Deps, record: EnvRecord): Promise<string> {
  const db = record.database;
  const found = db?.volume
    ? await deps.engine.volumes({ 'com.docker.compose.project': record.project, 'com.docker.compose.volume': db.volume })
    : [];
  const volume = found[0];
  if (!db || !volume) {
    throw new EnvsError('DB_NOT_FOUND', `${printable(record.branch)}'s database has no data volume envs can copy.`, {
      hint: db?.note ? `It is not cloned: ${db.note}.` : `Start it with \`envs up ${printable(record.branch)}\` first.`,
    });
  }
  return volume.name;
}

/**
 * An overlay clone reads its snapshot for its whole life: when the snapshot was removed (`rm-snapshot
 * --force`), starting it would fail on a mount error; this says what happened and the way out instead.
 */
export async function checkCloneBase(deps: Deps, record: EnvRecord): Promise<void> {
  const db = record.database;
  if (db?.method !== 'overlay' || !db.snapshot) return;
  if ((await snapshots(deps)).some((s) => s.name === db.snapshot)) return;
  throw new EnvsError(
    'SNAPSHOT_NOT_FOUND',
    `${printable(record.branch)}'s database is a clone of snapshot ${printable(db.snapshot)}, which was removed: its data cannot be mounted.`,
    {
      hint: `Reset it onto another snapshot with \`envs db reset ${printable(record.branch)} --from <snapshot>\` (\`envs db snapshots\` lists them), or destroy the env.`,
    },
  );
}

/** Needs a database whose data envs manages. */
export function requireDatabase(record: EnvRecord): DatabaseRecord {
  const db = record.database;
  if (!db || db.strategy === 'none' || !db.volume) {
    throw new EnvsError('DB_NOT_FOUND', `${printable(record.branch)}'s env has no database whose data envs manages.`, {
      hint: db?.note
        ? `${db.note}; set database.strategy in envs.yaml or move its data to a named volume.`
        : 'envs finds a service with a Postgres image (postgres, postgis, pgvector, timescale, supabase/postgres), or the one database.service names in envs.yaml.',
    });
  }
  return db;
}

/**
 * A consistent snapshot of an env's database: the server is stopped (a clean shutdown writes a checkpoint),
 * its files are copied as they are at rest, then it is started again and waited for. Never a copy of
 * files a running server is writing.
 */
export async function snapshotEnv(
  deps: Deps,
  record: EnvRecord,
  options: { name: string; commit: string; settings: DatabaseSettings; onProgress?: Progress; signal?: AbortSignal },
): Promise<Snapshot> {
  const db = requireDatabase(record);
  if (db.shared) {
    throw new EnvsError(
      'DB_NOT_FOUND',
      `${printable(record.branch)}'s database is one of many on a shared server (strategy template): it has no server of its own to snapshot.`,
      {
        hint: 'Snapshot an env with a server of its own (strategy volume-clone), or fork this one with `envs create <branch> --db-from <env>`.',
      },
    );
  }
  const progress = (message: string) => options.onProgress?.({ step: 'snapshot', message });
  return deps.locks.with(`db-snapshots-${deps.repoId}`, { what: `envs db snapshot ${options.name}`, waitMs: 120_000 }, async () => {
    if ((await snapshots(deps)).some((s) => s.name === options.name)) {
      throw new EnvsError('SNAPSHOT_EXISTS', `A snapshot named ${printable(options.name)} exists already.`, {
        hint: 'Choose another --name, or remove it first with `envs db rm-snapshot`.',
      });
    }
    const volume = await dataVolume(deps, record);
    await removeUnpublished(deps);
    const dataLabels = {
      [LABEL.managed]: 'true',
      [LABEL.repo]: deps.repoId,
      [SNAPSHOT_DATA_LABEL]: options.name,
      ...homeLabels(deps.home),
    };
    const run = runOf(record, [db.service], options.signal);
    progress(`stopping ${db.service} for a consistent copy`);
    await deps.compose.stop(run);
    try {
      const ctx = taskContext(deps, record, db.image);
      const from = volumePlace(volume, '/from');
      const { bytes, pgVersion, root } = await measure(ctx, from, subpath(db));
      if (!pgVersion) {
        throw new EnvsError(
          'DB_FAILED',
          `${db.service}'s data has no PG_VERSION at ${db.dataPath}: it is not a PostgreSQL data directory.`,
          {
            hint: 'Set database.dataPath in envs.yaml to where the server keeps its data (its PGDATA).',
          },
        );
      }
      const createdAt = deps.now().toISOString();
      const meta = {
        name: options.name,
        repoId: deps.repoId,
        service: db.service,
        image: db.image,
        pgVersion,
        user: record.env.PGUSER ?? '',
        passwordDigest: record.env.PGPASSWORD ? passwordDigest(options.name, record.env.PGPASSWORD) : '',
        database: record.env.PGDATABASE ?? '',
        commit: options.commit,
        from: record.name,
        createdAt,
        bytes,
        ...(root ? { root } : {}),
      };
      const labels = snapshotLabels(meta);
      const volumeName = snapshotVolume(deps.repoId, options.name);
      progress(`copying ${formatBytes(bytes)} of ${db.service}'s data into snapshot ${options.name}`);
      const started = performance.now();
      let target: Place;
      let snap: { dataDir: string; labels: Record<string, string> };
      if (options.settings.store) {
        const relative = `${STORE_SNAPSHOTS}/${deps.repoId}/${options.name}`;
        target = storePlace(options.settings.store, relative, '/store');
        await copyFiles(ctx, from, target);
        snap = await deps.engine.createVolume({
          name: volumeName,
          labels,
          options: { type: 'none', o: 'bind', device: `${options.settings.store}/${relative}` },
        });
      } else {
        // The files go into a data volume first; the snapshot (its labels, what envs lists and clones) is made
        // only once they are all there, as a bind of that volume's directory: a copy cut short by Ctrl-C or a
        // kill is never taken for a snapshot (its data volume is removed by the next snapshot of the repository).
        const data = await deps.engine.createVolume({ name: snapshotDataVolume(deps.repoId, options.name), labels: dataLabels });
        target = volumePlace(data.name, '/to');
        await copyFiles(ctx, from, target);
        snap = await deps.engine.createVolume({ name: volumeName, labels, options: { type: 'none', o: 'bind', device: data.dataDir } });
        // The engine hands back a volume of that name if one exists: never take someone else's for ours.
        if (snap.labels[SNAPSHOT_LABEL.createdAt] !== createdAt) {
          throw new EnvsError('SNAPSHOT_EXISTS', `A volume named ${volumeName} exists already.`, {
            hint: `Choose another --name, or remove that volume (\`docker volume rm ${volumeName}\`) if it is not needed.`,
          });
        }
      }
      const seconds = (performance.now() - started) / 1000;
      progress(`copied ${formatBytes(bytes)} in ${seconds.toFixed(1)} s (${formatBytes(bytes / Math.max(seconds, 0.001))}/s)`);
      return { ...meta, volume: volumeName, dataDir: snap.dataDir };
    } finally {
      progress(`starting ${db.service} again`);
      await deps.compose.up({ ...run, timeoutSeconds: 120 });
      await waitForDatabase(deps, record, options.signal);
    }
  });
}

function runOf(record: EnvRecord, services: string[], signal?: AbortSignal) {
  return { project: record.project, file: record.composeFile, projectDir: record.projectDir, services, ...(signal ? { signal } : {}) };
}

/** A clone's role has the password of the env the snapshot came from: it gets this env's (core/psql.ts). */
async function alignPassword(deps: Deps, record: EnvRecord, signal?: AbortSignal): Promise<void> {
  const db = record.database;
  const password = record.env.PGPASSWORD;
  if (!db?.snapshot || db.shared || !password || !record.env.PGUSER) return;
  // Most compose files fix the password: the clone has it already, and the exec (~0.3 s) is skipped.
  const snapshot = (await snapshots(deps)).find((s) => s.name === db.snapshot);
  if (snapshot && snapshot.passwordDigest === passwordDigest(snapshot.name, password)) return;
  await setRolePassword(deps, { ...runOf(record, [], signal), service: db.service, user: record.env.PGUSER }, password);
}

/** Waits until the env's Postgres accepts connections again. */
export async function waitForDatabase(deps: Deps, record: EnvRecord, signal?: AbortSignal): Promise<void> {
  const db = record.database;
  const port =
    record.ports.find((p) => p.service === db?.service && p.target === 5432) ?? record.ports.find((p) => p.service === db?.service);
  if (!db || !port) return;
  const user = record.env.PGUSER ?? 'postgres';
  const database = record.env.PGDATABASE ?? user;
  const ok = await deps.probes.postgres({ host: port.host_ip, port: port.published, user, database }, Date.now() + 120_000, signal);
  if (!ok) {
    throw new EnvsError('SERVICE_FAILED', `The database ${printable(db.service)} did not accept connections again in time.`, {
      hint: `See its log with \`docker compose -p ${record.project} logs ${db.service}\`.`,
    });
  }
}

/**
 * After the env's containers are up: `database.migrate` (every new database), `database.seed` (databases made
 * from nothing), and for the first env of a repository with volume-clone, the snapshot the next envs clone.
 */
export async function seedDatabase(
  deps: Deps,
  record: EnvRecord,
  config: Config,
  options: { settings: DatabaseSettings; logFile: string; onProgress?: Progress; signal?: AbortSignal },
): Promise<void> {
  const db = record.database;
  if (!db) return;
  const fresh = !db.snapshot;
  if (!fresh) await alignPassword(deps, record, options.signal);
  await runDatabaseCommands(deps, record, databaseCommands(config, fresh), options);
  if ((db.strategy !== 'volume-clone' && db.strategy !== 'template') || !fresh || db.madeSnapshot) return;
  const existing = await snapshots(deps);
  const base = defaultSnapshotName(record.base.ref.replace(/^origin\//, ''), record.base.commit.slice(0, 7));
  let name = base;
  for (let n = 2; existing.some((s) => s.name === name); n++) name = `${base}-${n}`;
  options.onProgress?.({ step: 'snapshot', message: `no snapshot of ${db.service} yet: taking ${name} from this env for the next ones` });
  try {
    const snap = await snapshotEnv(deps, record, {
      name,
      commit: record.base.commit,
      settings: options.settings,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    db.madeSnapshot = snap.name;
  } catch (error) {
    // Envs created side by side in a new repository all seed themselves; the first to finish gives the snapshot.
    if (!(EnvsError.is(error) && error.code === 'SNAPSHOT_EXISTS')) throw error;
    options.onProgress?.({ step: 'snapshot', message: `${name} was taken meanwhile by another env; keeping that one` });
  }
}

/** Files of the env's clone that live outside the engine's volumes (a store directory); volumes go with the env's labels. */
export async function removeCloneFiles(deps: Deps, record: EnvRecord): Promise<void> {
  const clone = record.database?.clone;
  if (!clone?.store || !record.database) return;
  const store = clone.store;
  const places = [clone.dir, ...discardedDirs(record.database)]
    .map((dir) => storeClonePlace(store, dir))
    .filter((p): p is Place => p !== undefined);
  if (places.length > 0) await removeDirs(taskContext(deps, record, record.database.image), places);
}

/**
 * Starts the deletion of a clone a reset replaced, to run once the new server is up (its volume stays,
 * emptied, until the env's next reset or destroy removes it with the env's labels).
 */
async function discardClone(deps: Deps, record: EnvRecord, clone: DatabaseRecord['clone']): Promise<void> {
  if (!clone || !record.database) return;
  const ctx = taskContext(deps, record, record.database.image);
  const place = clone.volume ? volumePlace(clone.volume, '/clone') : clone.store ? storeClonePlace(clone.store, clone.dir) : undefined;
  if (place) await discardLater(ctx, place, DISCARD_AFTER_S);
}

/** The replaced store directories a record keeps (older ones' deletion ran long ago). */
const DISCARDED_KEPT = 5;

function discardedDirs(db: DatabaseRecord): string[] {
  return Array.isArray(db.discarded) ? db.discarded.filter((dir) => typeof dir === 'string') : [];
}

/** How long a replaced clone waits before it is deleted: a reset's compose up and Postgres's start take ~1 s. */
const DISCARD_AFTER_S = 3;

/**
 * What destroy removes of the env's database beyond its volumes (which go with its labels): clone files in a
 * store, and the snapshot `--db-from` took for this env when no other env was cloned from it. Snapshots of the
 * repository stay.
 */
export async function dropDatabase(deps: Deps, record: EnvRecord): Promise<void> {
  const db = record.database;
  if (!db) return;
  await Promise.all([removeCloneFiles(deps, record), releaseShared(deps, record)]);
  const name = db.snapshot;
  if (!name?.startsWith(FORK_PREFIX)) return;
  const others = (await envsUsing(deps, name)).filter((r) => r.name !== record.name);
  const snapshot = (await snapshots(deps)).find((s) => s.name === name);
  if (others.length === 0 && snapshot) await removeSnapshot(deps, snapshot, db.image);
}

/** Snapshots `--db-from` takes: one env's, removed with it. */
export const FORK_PREFIX = 'fork-';

/** Envs of this repository whose data was cloned from the snapshot (an overlay clone reads it for its whole life). */
export async function envsUsing(deps: Deps, name: string): Promise<EnvRecord[]> {
  return (await deps.records.list()).filter((r) => r.database?.snapshot === name);
}

/** Removes a snapshot: its volume, and its directory when it lives in a store. */
export async function removeSnapshot(deps: Deps, snapshot: Snapshot, image: string): Promise<void> {
  await deps.engine.remove({ containers: [], volumes: [snapshot.volume], networks: [], images: [] });
  const data = await deps.engine.volumes({ [LABEL.repo]: deps.repoId, [SNAPSHOT_DATA_LABEL]: snapshot.name });
  if (data.length > 0) await deps.engine.remove({ containers: [], volumes: data.map((v) => v.name), networks: [], images: [] });
  const storeRoot = snapshot.dataDir.endsWith(`/${STORE_SNAPSHOTS}/${deps.repoId}/${snapshot.name}`)
    ? snapshot.dataDir.slice(0, -`/${STORE_SNAPSHOTS}/${deps.repoId}/${snapshot.name}`.length)
    : undefined;
  if (storeRoot) {
    await removeDirs({ engine: deps.engine, image, labels: { [LABEL.managed]: 'true', [LABEL.repo]: deps.repoId } }, [
      storePlace(storeRoot, `${STORE_SNAPSHOTS}/${deps.repoId}/${snapshot.name}`, '/store'),
    ]);
  }
}

/**
 * `envs db reset`: the env's database back to a snapshot (its own, or `from`). The server is killed and its
 * container removed, the data volume and the clone's files go, a new clone is laid out, the server starts on it.
 * With strategy migrate, the database is emptied and migrate + seed run again.
 */
export async function resetDatabase(
  deps: Deps,
  record: EnvRecord,
  options: { from?: Snapshot; settings: DatabaseSettings; config: Config; logFile: string; onProgress?: Progress; signal?: AbortSignal },
): Promise<void> {
  const db = requireDatabase(record);
  if (db.shared) return resetShared(deps, record, db, db.shared, options);
  const run = runOf(record, [db.service], options.signal);
  const snapshot =
    db.strategy === 'volume-clone'
      ? (options.from ??
        (db.snapshot || db.madeSnapshot ? await findSnapshot(deps, (db.snapshot ?? db.madeSnapshot) as string) : undefined))
      : undefined;
  if (db.strategy === 'volume-clone' && !snapshot) {
    throw new EnvsError('SNAPSHOT_NOT_FOUND', `${printable(record.branch)}'s database was not made from a snapshot.`, {
      hint: 'Name one with --from (`envs db snapshots` lists them).',
    });
  }
  if (snapshot) checkCompatible(snapshot, db.image);
  options.onProgress?.({ step: 'reset', message: `removing ${db.service}'s container and data` });
  const [volume, ours] = await Promise.all([
    dataVolume(deps, record).catch(() => undefined),
    deps.engine.volumes({ [LABEL.project]: record.project }),
  ]);
  const oldClone = db.clone;
  const id = deps.now().getTime().toString(36);
  // A store's new clone directory is named before it is made: a reset stopped halfway leaves it where destroy looks.
  const newDir =
    snapshot && options.settings.store ? `${options.settings.store}/${storeCloneRelative(cloneProject(record, id))}` : undefined;
  if (newDir) {
    db.discarded = [...discardedDirs(db), newDir].slice(-DISCARDED_KEPT);
    await deps.records.put(record);
  }
  // Clone volumes earlier resets emptied go too (listed before the new one exists; one still being emptied is
  // in use, and goes next time).
  const stale = ours.map((v) => v.name).filter((name) => name.endsWith(CLONE_VOLUME_SUFFIX) && name !== oldClone?.volume);
  // The old server and its data go while the new clone is laid out beside them (under a name of its own).
  const removingServer = (async () => {
    // Killed, not stopped: its data goes, so a clean shutdown (~0.4 s of Postgres's) would only be waited for.
    const old = await deps.engine.containers({ 'com.docker.compose.project': record.project, 'com.docker.compose.service': db.service });
    const containers = old.filter((c) => c.labels['com.docker.compose.oneoff'] !== 'True').map((c) => c.id);
    // Then the data volume (the engine removes containers first), whose name is the new one's too (a mount
    // point: nothing to delete in it).
    await deps.engine.remove({ containers, volumes: volume ? [volume] : [], networks: [], images: [] });
    await deps.engine.remove({ containers: [], volumes: stale, networks: [], images: [] }).catch(() => {});
  })();
  let removingFiles: Promise<void> = Promise.resolve();
  try {
    delete db.clone;
    delete db.volumeOptions;
    delete db.method;
    if (snapshot) {
      await prepareClone(deps, record, snapshot, options.settings, options.onProgress, id);
    } else {
      delete db.snapshot;
    }
    // From here the record names the new clone (a reset stopped now leaves an env `up` starts on it), and only
    // then does the old one go: its files are apart from the new one's and can be big (what an overlay copied
    // up are whole table segments), so a task nobody waits for deletes them a few seconds on.
    db.discarded = [...discardedDirs(db).filter((dir) => dir !== db.clone?.dir), ...(oldClone?.store ? [oldClone.dir] : [])].slice(
      -DISCARDED_KEPT,
    );
    if (db.discarded.length === 0) delete db.discarded;
    await deps.records.put(record);
    removingFiles = removingServer.then(() =>
      discardClone(deps, record, oldClone).catch((error: unknown) => {
        options.onProgress?.({
          step: 'reset',
          message: `the replaced clone was not deleted (${(error as Error).message}); destroy removes it`,
        });
      }),
    );
    removingFiles.catch(() => {}); // awaited below
    await removingServer;
    // The compose file carries the new clone's layers.
    if (db.volume && db.volumeOptions) await deps.compose.setVolumeOptions(record.composeFile, db.volume, db.volumeOptions);
    options.onProgress?.({ step: 'reset', message: `starting ${db.service}` });
    const up = await deps.compose.up({ ...run, timeoutSeconds: 120 });
    if (!up.ok) throw new EnvsError('COMPOSE_FAILED', `docker compose up ${db.service} failed:\n${lastLines(up.stderr, 5)}`);
    await waitForDatabase(deps, record, options.signal);
  } finally {
    await removingFiles.catch(() => {});
  }
  if (snapshot) await alignPassword(deps, record, options.signal);
  // A clone gets the branch's newer migrations; a database made from nothing is migrated and seeded.
  await runDatabaseCommands(deps, record, databaseCommands(options.config, !snapshot), options);
}

/**
 * Strategy template: the env's database is dropped and made again from the golden one; `--from` another
 * snapshot moves it to that snapshot's shared server (the old one goes when no env uses it any more).
 */
async function resetShared(
  deps: Deps,
  record: EnvRecord,
  db: DatabaseRecord,
  shared: NonNullable<DatabaseRecord['shared']>,
  options: { from?: Snapshot; settings: DatabaseSettings; config: Config; logFile: string; onProgress?: Progress; signal?: AbortSignal },
): Promise<void> {
  if (options.from && options.from.name !== db.snapshot) {
    checkCompatible(options.from, db.image);
    const server = await ensureSharedServer(deps, {
      snapshot: options.from,
      credentials: { user: shared.user, password: shared.password, golden: shared.golden },
      db,
      settings: options.settings,
      range: upSettings(deps.env, options.config).range,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await createFromTemplate(deps, server, shared.database, server.golden, options.signal);
    await releaseShared(deps, record, options.signal);
    const { file: _file, dir: _dir, ...moved } = server;
    db.shared = { ...moved, database: shared.database };
    db.snapshot = options.from.name;
    Object.assign(record.env, sharedDatabaseEnv(db.shared));
  } else {
    const server = serverOf(deps, shared);
    await ensureSharedRunning(deps, server, options.signal, options.onProgress);
    options.onProgress?.({
      step: 'reset',
      message: `DROP DATABASE ${shared.database}; CREATE DATABASE ${shared.database} TEMPLATE ${shared.golden}`,
    });
    await dropEnvDatabase(deps, server, shared.database, options.signal);
    await createFromTemplate(deps, server, shared.database, shared.golden, options.signal);
  }
  await runDatabaseCommands(deps, record, databaseCommands(options.config, false), options);
}

/** `database.migrate`, then on a fresh database `database.seed`, with the key they have in envs.yaml (for messages). */
function databaseCommands(config: Config, fresh: boolean) {
  const migrate = config.database?.migrate;
  const seed = fresh ? config.database?.seed : undefined;
  return {
    commands: [...(migrate ? [migrate] : []), ...(seed ? [seed] : [])],
    key: migrate && seed ? 'database.migrate/seed' : migrate ? 'database.migrate' : 'database.seed',
  };
}

async function runDatabaseCommands(
  deps: Deps,
  record: EnvRecord,
  commands: ReturnType<typeof databaseCommands>,
  options: { logFile: string; onProgress?: Progress; signal?: AbortSignal },
): Promise<void> {
  if (commands.commands.length === 0) return;
  options.onProgress?.({ step: 'database', message: `running ${commands.key} for ${record.database?.service ?? 'the database'}` });
  await deps.app.bootstrap({
    key: commands.key,
    step: 'database',
    worktree: record.worktree,
    baseEnv: deps.env,
    redact: Object.values(record.secrets),
    commands: commands.commands,
    env: record.env,
    logFile: options.logFile,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
