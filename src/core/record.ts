/**
 * The env record: what envs knows about one env, one JSON file per env under ENVS_HOME (mode 0600).
 * Written only by envs, atomically; read back through `parseRecord`, which checks the shape.
 */
export type RecordedStatus = 'creating' | 'running' | 'stopped' | 'failed' | 'destroying';
const RECORDED: readonly RecordedStatus[] = ['creating', 'running', 'stopped', 'failed', 'destroying'];
/**
 * Derived, never written (see status.ts): `partial`; `unknown` (the engine did not answer, so nothing is
 * known about the containers); `corrupt` (the record file cannot be read; the other envs still work).
 */
export type EnvStatus = RecordedStatus | 'partial' | 'unknown' | 'corrupt';

/** Steps of `create`, in order; each is recorded before it runs so a killed create can be resumed or destroyed. */
export const PHASES = [
  'planned',
  'worktree',
  'env-files',
  'database',
  'ports',
  'compose-file',
  'compose-up',
  'deps',
  'seed',
  'bootstrap',
  'processes',
  'ready',
] as const;
export type Phase = (typeof PHASES)[number];

export interface Binding {
  service: string;
  target: number;
  published: number;
  host_ip: string;
  protocol: string;
}

export interface DatabaseRecord {
  service: string;
  strategy: 'volume-clone' | 'template' | 'migrate' | 'none';
  /** The image the server runs on (and, for a clone, the one its snapshot was taken on). */
  image: string;
  /** PGDATA in the container. */
  dataPath: string;
  /** Key in the compose model of the volume holding the data, where it is mounted, and whether envs added it. */
  volume?: string;
  mountPath?: string;
  addVolume?: boolean;
  /** The snapshot the data was cloned from, and how. */
  snapshot?: string;
  method?: 'overlay' | 'reflink' | 'copy';
  /** Where the clone's own files are: an engine volume (swept with the env's labels) or a store directory. */
  clone?: { volume?: string; store?: string; dir: string };
  /**
   * Store directories of clones resets replaced: a task deletes each a few seconds after its reset, nobody
   * waiting; destroy deletes them again, in case it came first (the last few only: older ones are long gone).
   */
  discarded?: string[];
  /** driver_opts of the data volume (the overlay, or a bind of the clone's data). */
  volumeOptions?: Record<string, string>;
  /** Strategy template: the shared server and the env's own database on it (core/shared-db.ts). */
  shared?: { project: string; port: number; database: string; user: string; password: string; golden: string; pgVersion: string };
  /** The snapshot create took from this env (the first env of a repository). */
  madeSnapshot?: string;
  /** Why the database is not cloned, when it could not be. */
  note?: string;
}

export interface EnvRecord {
  schemaVersion: 1;
  name: string;
  branch: string;
  repo: string;
  repoId: string;
  worktree: string;
  project: string;
  host: string;
  /** Directory Compose resolves relative paths against (the worktree, or a subdirectory of it). */
  projectDir: string;
  /** The generated compose file envs runs (under ENVS_HOME, mode 0600). */
  composeFile: string;
  /** Repository-relative compose files it was generated from; empty: the embedded template. */
  sourceFiles: string[];
  template?: string;
  status: RecordedStatus;
  phase: Phase;
  /** True when create made the branch. */
  createdBranch: boolean;
  /** The worktree was someone else's (`envs adopt`, create of a branch another worktree holds): destroy keeps it. */
  adopted?: boolean;
  /** Where the branch started (new branches) or stood (existing ones) when the env was made. */
  base: { ref: string; commit: string };
  services: string[];
  /** Services in compose-file order (the first HTTP one gives the env's preview URL). */
  serviceOrder?: string[];
  /** `app_protocol` the compose files declare per `<service>/<container port>` (http, https, grpc…). */
  appProtocols?: Record<string, string>;
  /** Services Docker does not restart (`restart: no`, `on-failure`): exited with 0, they are done, not down. */
  oneShots?: string[];
  /**
   * Gitignored files create copied from the main checkout (repository-relative, with the SHA-256 of what was
   * written): destroy may delete them while they are unchanged.
   */
  copiedFiles?: { path: string; sha256: string }[];
  /**
   * Paths in the worktree that the env's containers create through bind mounts (its data: `./volumes/db/data`):
   * they did not exist before the env; dirty checks skip them and destroy removes them.
   */
  dataPaths?: string[];
  /** Env files the bootstrap wrote that are wholly envs's (with their SHA-256): disposable while unchanged. */
  envFiles?: { path: string; sha256: string }[];
  /** The Supabase CLI project of the env: its variables go to local `supabase` commands only. */
  supabase?: { projectId: string; workdir: string; env: Record<string, string> };
  /** Leased host port of each host process (`processes:` in envs.yaml). */
  processPorts?: Record<string, number>;
  /** `preview:` of envs.yaml: the service or process `<host>.localhost` serves (else detected, src/proxy/targets.ts). */
  preview?: string;
  /** Variables the compose model was rendered with that must not change over the env's life (the embedded Postgres image). */
  renderEnv?: Record<string, string>;
  /** The env's database: what it is, how its data was made (db/detect.ts, core/database.ts). */
  database?: DatabaseRecord;
  ports: Binding[];
  /** Variables the env injects, secrets included; redacted on output. */
  env: Record<string, string>;
  secrets: Record<string, string>;
  engine: { id: string; endpoint: string };
  warnings: string[];
  error?: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * How each field of a record is checked. By hand rather than with zod (as envs.yaml is): zod's import costs
 * ~60 ms, and every command reads records (destroy's budget is ~0.2 s over raw Compose; README, Benchmarks).
 */
type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isPort: Check = (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);
const mapOf =
  (check: Check): Check =>
  (v) =>
    isObject(v) && Object.values(v).every(check);
const shape =
  (fields: Record<string, Check>): Check =>
  (v) =>
    isObject(v) && Object.entries(fields).every(([key, check]) => check(v[key]));
const fileHash = shape({ path: isString, sha256: isString });

const REQUIRED: Record<string, Check> = {
  name: isString,
  branch: isString,
  repo: isString,
  repoId: isString,
  worktree: isString,
  project: isString,
  host: isString,
  projectDir: isString,
  composeFile: isString,
  createdAt: isString,
  updatedAt: isString,
  createdBranch: (v) => typeof v === 'boolean',
  sourceFiles: listOf(isString),
  services: listOf(isString),
  warnings: listOf(isString),
  ports: listOf(shape({ service: isString, target: isPort, published: isPort, host_ip: isString, protocol: isString })),
  base: shape({ ref: isString, commit: isString }),
  engine: shape({ id: isString, endpoint: isString }),
  env: mapOf(isString),
  secrets: mapOf(isString),
};
const OPTIONAL: Record<string, Check> = {
  template: isString,
  error: isString,
  adopted: (v) => typeof v === 'boolean',
  preview: isString,
  serviceOrder: listOf(isString),
  oneShots: listOf(isString),
  dataPaths: listOf(isString),
  appProtocols: mapOf(isString),
  renderEnv: mapOf(isString),
  processPorts: mapOf(isPort),
  copiedFiles: listOf(fileHash),
  envFiles: listOf(fileHash),
  supabase: shape({ projectId: isString, workdir: isString, env: mapOf(isString) }),
  database: shape({ service: isString, strategy: isString, image: isString, dataPath: isString }),
};

/**
 * Checks that data read from a record file has the record's shape, down to each field's items; throws
 * naming the first field that is wrong (the caller reports the file as corrupt).
 */
export function parseRecord(data: unknown, _file: string): EnvRecord {
  const fail = (why: string): never => {
    throw new Error(`not an env record this version of envs can read: ${why}`);
  };
  if (!isObject(data)) return fail('not an object');
  if (typeof data.schemaVersion === 'number' && data.schemaVersion > 1) {
    fail(`schemaVersion ${data.schemaVersion}, written by a newer version of envs`);
  }
  if (data.schemaVersion !== 1) fail(`schemaVersion ${shown(data.schemaVersion)}`);
  for (const [key, check] of Object.entries(REQUIRED)) if (!check(data[key])) fail(`${key} ${wrongShape(data[key])}`);
  for (const [key, check] of Object.entries(OPTIONAL)) {
    if (data[key] !== undefined && !check(data[key])) fail(`${key} ${wrongShape(data[key])}`);
  }
  if (!RECORDED.includes(data.status as RecordedStatus)) fail(`status ${shown(data.status)}`);
  if (!PHASES.includes(data.phase as Phase)) fail(`phase ${shown(data.phase)}`);
  return data as unknown as EnvRecord;
}

/** What is wrong with a field, without its value (env and secrets hold passwords). */
function wrongShape(value: unknown): string {
  if (value === undefined) return 'is missing';
  const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  return `is not what envs writes (${kind === 'object' || kind === 'a list' ? `${kind} with an item of the wrong type` : kind})`;
}

/** A value from a damaged file, short and on one line, for a message. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A record file that cannot be read as a record; `list` shows its env as `corrupt`. */
export interface CorruptRecord {
  /** The env name (the file's name). */
  name: string;
  file: string;
  reason: string;
  /** Fields the file still holds with the right type (a record of the wrong shape), for display. */
  salvaged: { branch?: string; worktree?: string; project?: string };
  /** Written by a newer envs: not damaged, only unreadable here; `doctor --fix` leaves it alone. */
  newer: boolean;
}

/** What a damaged record file still says, for display only (never to act on). */
export function salvage(data: unknown): CorruptRecord['salvaged'] {
  if (typeof data !== 'object' || data === null) return {};
  const record = data as Record<string, unknown>;
  const out: CorruptRecord['salvaged'] = {};
  for (const key of ['branch', 'worktree', 'project'] as const) {
    const value = record[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
