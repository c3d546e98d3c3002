import { defaultSnapshotName, isSnapshotName, type Snapshot, timestampSuffix } from '../db/snapshots.ts';
import { EnvsError } from '../errors.ts';
import { logFile } from './app.ts';
import type { Progress } from './converge.ts';
import {
  databaseSettings,
  envsUsing,
  findSnapshot,
  removeSnapshot,
  requireDatabase,
  resetDatabase,
  snapshotEnv,
  snapshots,
} from './database.ts';
import type { Deps } from './deps.ts';
import { envLock, reread } from './guards.ts';
import { printable } from './naming.ts';
import { allowedIn, defaultBranchConfig } from './plan.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import { pinnedRenderEnv } from './settings.ts';
import { dirTree, readSource } from './source.ts';

/** A snapshot as `envs db snapshots --json` prints it. */
export interface SnapshotView {
  name: string;
  service: string;
  image: string;
  pg_version: string;
  commit: string;
  from: string;
  created_at: string;
  bytes: number;
  volume: string;
  /** Envs of this repository cloned from it. */
  used_by: string[];
}

export interface DbOptions {
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
}

function view(snapshot: Snapshot, usedBy: string[]): SnapshotView {
  return {
    name: snapshot.name,
    service: snapshot.service,
    image: snapshot.image,
    pg_version: snapshot.pgVersion,
    commit: snapshot.commit,
    from: snapshot.from,
    created_at: snapshot.createdAt,
    bytes: snapshot.bytes,
    volume: snapshot.volume,
    used_by: usedBy,
  };
}

export async function listSnapshots(deps: Deps): Promise<SnapshotView[]> {
  await deps.engine.info();
  const [all, records] = await Promise.all([snapshots(deps), deps.records.list()]);
  return all
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((s) =>
      view(
        s,
        records.filter((r) => r.database?.snapshot === s.name).map((r) => r.branch),
      ),
    );
}

/** `envs db snapshot [<env>] [--name <n>]`: a consistent snapshot of the env's database (stopped for the copy). */
export async function takeSnapshot(deps: Deps, arg: string | undefined, options: DbOptions & { name?: string }): Promise<SnapshotView> {
  if (options.name !== undefined && !isSnapshotName(options.name)) {
    throw new EnvsError('USAGE', `"${printable(options.name)}" is not a snapshot name.`, {
      hint: 'Use lowercase letters, digits, ".", "_" and "-" (up to 63), starting with a letter or digit.',
    });
  }
  const resolved = await resolveEnv(deps, arg ?? '.', options.cwd);
  requireDatabase(resolved);
  await deps.engine.info();
  return deps.locks.with(envLock(deps.repoId, resolved.name), { what: `envs db snapshot ${resolved.branch}`, waitMs: 0 }, async () => {
    const record = running(await reread(deps, resolved));
    const head = (await deps.git.worktrees()).find((w) => w.path === record.worktree)?.head ?? record.base.commit;
    const snapshot = await snapshotEnv(deps, record, {
      name: options.name ?? defaultSnapshotName(record.name, timestampSuffix(deps.now())),
      commit: head,
      settings: await settingsFor(deps, record),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return view(snapshot, []);
  });
}

/** `envs db reset <env> [--from <snapshot>]`: the env's database back to its snapshot (or another one). */
export async function resetEnvDatabase(
  deps: Deps,
  arg: string,
  options: DbOptions & { from?: string },
): Promise<{ name: string; branch: string; snapshot: string | null; method: string | null }> {
  const resolved = await resolveEnv(deps, arg, options.cwd);
  requireDatabase(resolved);
  await deps.engine.info();
  const from = options.from ? await findSnapshot(deps, options.from) : undefined;
  return deps.locks.with(envLock(deps.repoId, resolved.name), { what: `envs db reset ${resolved.branch}`, waitMs: 0 }, async () => {
    // A stopped env too: its clone may be what keeps it from starting (a removed snapshot).
    const record = running(await reread(deps, resolved), ['running', 'stopped']);
    const { config, settings } = await configs(deps, record);
    const db = requireDatabase(record);
    await resetDatabase(deps, record, {
      ...(from ? { from } : {}),
      settings,
      config,
      logFile: logFile(deps, record, 'database'),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    record.updatedAt = deps.now().toISOString();
    await deps.records.put(record);
    return { name: record.name, branch: record.branch, snapshot: db.snapshot ?? null, method: db.method ?? null };
  });
}

/** `envs db url <env>`: the env's DATABASE_URL, password included (it is what tools need). */
export async function databaseUrl(deps: Deps, arg: string, cwd?: string): Promise<string> {
  const record = await resolveEnv(deps, arg, cwd);
  const url = record.env.DATABASE_URL;
  if (!url) {
    throw new EnvsError('DB_NOT_FOUND', `${printable(record.branch)}'s env has no DATABASE_URL.`, {
      hint: 'envs sets it for a Postgres service that publishes a port; name it with database.service in envs.yaml.',
    });
  }
  return url;
}

/**
 * `envs db rm-snapshot <name>`: refused while an env cloned from it exists (an overlay clone reads it for its
 * whole life); `--force` removes it anyway and names the envs whose databases it breaks.
 */
export async function removeSnapshotByName(
  deps: Deps,
  name: string,
  options: { force?: boolean },
): Promise<{ name: string; removed: true; broken: string[] }> {
  await deps.engine.info();
  return deps.locks.with(`db-snapshots-${deps.repoId}`, { what: `envs db rm-snapshot ${name}`, waitMs: 30_000 }, async () => {
    const snapshot = await findSnapshot(deps, name);
    const users = await envsUsing(deps, name);
    if (users.length > 0 && !options.force) {
      throw new EnvsError(
        'SNAPSHOT_IN_USE',
        `Snapshot ${printable(name)} is the base of ${users.map((u) => printable(u.branch)).join(', ')}'s database.`,
        {
          hint: `Destroy those envs first, or reset them onto another snapshot (\`envs db reset <env> --from <snapshot>\`). --force removes it anyway and breaks their databases. Nothing was changed.`,
          details: { used_by: users.map((u) => u.branch) },
        },
      );
    }
    const image = users[0]?.database?.image ?? snapshot.image;
    await removeSnapshot(deps, snapshot, image);
    return { name, removed: true, broken: users.map((u) => u.branch) };
  });
}

function running(record: EnvRecord, allowed: EnvRecord['status'][] = ['running']): EnvRecord {
  if (!allowed.includes(record.status)) {
    throw new EnvsError(
      'ENV_BUSY',
      `${printable(record.branch)}'s env is ${record.status}; its database can be copied or reset when it is running.`,
      {
        hint: `Start it with \`envs up ${printable(record.branch)}\`.`,
      },
    );
  }
  return record;
}

/** envs.yaml of the env's worktree and of the default branch (read once: its policy and its database settings). */
async function configs(deps: Deps, record: EnvRecord) {
  const base = await defaultBranchConfig(deps);
  const source = await readSource(deps, dirTree(deps, record.worktree), {
    env: { ...deps.env, ...pinnedRenderEnv(deps.env, record.renderEnv), ...record.secrets },
    allowPaths: allowedIn(base, deps.env),
  });
  return { config: source.config, settings: databaseSettings(source.config, base) };
}

async function settingsFor(deps: Deps, record: EnvRecord) {
  return (await configs(deps, record)).settings;
}
