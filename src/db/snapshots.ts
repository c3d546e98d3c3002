import { createHash } from 'node:crypto';
import type { VolumeInfo } from '../core/deps.ts';
import { LABEL } from '../core/labels.ts';

export { formatBytes } from './bytes.ts';

/** A database snapshot: a volume of envs's own whose labels say what it holds. */
export interface Snapshot {
  name: string;
  repoId: string;
  volume: string;
  /** The snapshot's data on the engine's host (an overlay's lower layer, or what a clone copies). */
  dataDir: string;
  service: string;
  /** The image the server ran on when the snapshot was taken, and its data's major version (PG_VERSION). */
  image: string;
  pgVersion: string;
  /** The role and database the server was made with (the shared server of strategy template uses them). */
  user: string;
  database: string;
  /** A digest of the role's password in the snapshot (passwordDigest): a clone whose env has the same one keeps it. */
  passwordDigest: string;
  /** The commit the database was made at, and from which env. */
  commit: string;
  from: string;
  createdAt: string;
  bytes: number;
  /** Owner and mode of the data's top directory: an overlay clone's upper layer gets them (older snapshots: absent). */
  root?: DirOwner;
}

export interface DirOwner {
  uid: number;
  gid: number;
  /** Permission bits (0o700). */
  mode: number;
}

export const SNAPSHOT_LABEL = {
  name: 'dev.envs.snapshot',
  service: 'dev.envs.snapshot.service',
  image: 'dev.envs.snapshot.image',
  pgVersion: 'dev.envs.snapshot.pg-version',
  user: 'dev.envs.snapshot.user',
  database: 'dev.envs.snapshot.database',
  passwordDigest: 'dev.envs.snapshot.password-digest',
  commit: 'dev.envs.snapshot.commit',
  from: 'dev.envs.snapshot.from',
  createdAt: 'dev.envs.snapshot.created',
  bytes: 'dev.envs.snapshot.bytes',
  root: 'dev.envs.snapshot.root',
} as const;

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function isSnapshotName(name: string): boolean {
  return NAME.test(name);
}

export function snapshotVolume(repoId: string, name: string): string {
  return `envs-snap-${repoId}-${name}`;
}

export function snapshotLabels(s: Omit<Snapshot, 'volume' | 'dataDir'>): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.repo]: s.repoId,
    [SNAPSHOT_LABEL.name]: s.name,
    [SNAPSHOT_LABEL.service]: s.service,
    [SNAPSHOT_LABEL.image]: s.image,
    [SNAPSHOT_LABEL.pgVersion]: s.pgVersion,
    [SNAPSHOT_LABEL.user]: s.user,
    [SNAPSHOT_LABEL.database]: s.database,
    [SNAPSHOT_LABEL.passwordDigest]: s.passwordDigest,
    [SNAPSHOT_LABEL.commit]: s.commit,
    [SNAPSHOT_LABEL.from]: s.from,
    [SNAPSHOT_LABEL.createdAt]: s.createdAt,
    [SNAPSHOT_LABEL.bytes]: String(s.bytes),
    ...(s.root ? { [SNAPSHOT_LABEL.root]: formatOwner(s.root) } : {}),
  };
}

/** `uid:gid:mode` (mode in octal), as `stat -c %u:%g:%a` prints it. */
export function formatOwner(owner: DirOwner): string {
  return `${owner.uid}:${owner.gid}:${owner.mode.toString(8)}`;
}

export function parseOwner(text: string | undefined): DirOwner | undefined {
  const match = /^(\d+):(\d+):([0-7]{3,4})$/.exec(text?.trim() ?? '');
  if (!match) return undefined;
  return { uid: Number(match[1]), gid: Number(match[2]), mode: Number.parseInt(match[3] as string, 8) };
}

export function snapshotOf(volume: VolumeInfo): Snapshot | undefined {
  const l = volume.labels;
  const name = l[SNAPSHOT_LABEL.name];
  const repoId = l[LABEL.repo];
  if (!name || !repoId) return undefined;
  const root = parseOwner(l[SNAPSHOT_LABEL.root]);
  return {
    name,
    repoId,
    volume: volume.name,
    dataDir: volume.dataDir,
    service: l[SNAPSHOT_LABEL.service] ?? '',
    image: l[SNAPSHOT_LABEL.image] ?? '',
    pgVersion: l[SNAPSHOT_LABEL.pgVersion] ?? '',
    user: l[SNAPSHOT_LABEL.user] ?? '',
    database: l[SNAPSHOT_LABEL.database] ?? '',
    passwordDigest: l[SNAPSHOT_LABEL.passwordDigest] ?? '',
    commit: l[SNAPSHOT_LABEL.commit] ?? '',
    from: l[SNAPSHOT_LABEL.from] ?? '',
    createdAt: l[SNAPSHOT_LABEL.createdAt] ?? '',
    bytes: Number(l[SNAPSHOT_LABEL.bytes] ?? 0),
    ...(root ? { root } : {}),
  };
}

/**
 * The snapshot a new env of `service` on `image` starts from: one taken on the same image (so its data is the
 * version the server expects), preferring the env's base commit, else the newest.
 */
export function pickSnapshot(snapshots: Snapshot[], wanted: { service: string; image: string; commit: string }): Snapshot | undefined {
  const usable = snapshots.filter((s) => s.service === wanted.service && s.image === wanted.image);
  return usable.find((s) => s.commit === wanted.commit) ?? newest(usable);
}

export function newest(snapshots: Snapshot[]): Snapshot | undefined {
  return [...snapshots].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

/** `main-1a2b3c4` for the first snapshot of a base; `<env>-<yyyymmdd-hhmmss>` for one taken by hand. */
export function defaultSnapshotName(prefix: string, suffix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 40);
  return `${clean || 'db'}-${suffix}`;
}

export function timestampSuffix(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** A salted digest (the snapshot's name) of a role's password: labels are readable by anyone on the engine. */
export function passwordDigest(snapshot: string, password: string): string {
  return createHash('sha256').update(`${snapshot}\0${password}`).digest('hex');
}
