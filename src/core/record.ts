/**
 * The env record: what envs knows about one env, one JSON file per env under ENVS_HOME (mode 0600).
 * Written only by envs, atomically; read back through `parseRecord`, which checks the shape.
 */
export type RecordedStatus = 'creating' | 'running' | 'stopped' | 'failed' | 'destroying';
const RECORDED: readonly RecordedStatus[] = ['creating', 'running', 'stopped', 'failed', 'destroying'];
/** `partial` is derived (see status.ts), never written. */
export type EnvStatus = RecordedStatus | 'partial';

/** Steps of `create`, in order; each is recorded before it runs so a killed create can be resumed or destroyed. */
export const PHASES = ['planned', 'worktree', 'env-files', 'ports', 'compose-file', 'compose-up', 'ready'] as const;
export type Phase = (typeof PHASES)[number];

export interface Binding {
  service: string;
  target: number;
  published: number;
  host_ip: string;
  protocol: string;
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
  /** Variables the compose model was rendered with that must not change over the env's life (the embedded Postgres image). */
  renderEnv?: Record<string, string>;
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

const STRINGS = [
  'name',
  'branch',
  'repo',
  'repoId',
  'worktree',
  'project',
  'host',
  'projectDir',
  'composeFile',
  'createdAt',
  'updatedAt',
] as const;
const ARRAYS = ['sourceFiles', 'services', 'ports', 'warnings'] as const;
const OBJECTS = ['base', 'env', 'secrets', 'engine'] as const;

/** Checks that data read from a record file has the record's shape; names what is wrong otherwise. */
export function parseRecord(data: unknown, file: string): EnvRecord {
  const fail = (why: string): never => {
    throw new Error(`${file} is not an env record this version of envs can read (${why}).`);
  };
  if (typeof data !== 'object' || data === null) return fail('not an object');
  const record = data as Record<string, unknown>;
  if (record.schemaVersion !== 1) fail(`schemaVersion ${String(record.schemaVersion)}`);
  for (const key of STRINGS) if (typeof record[key] !== 'string') fail(`${key} is not a string`);
  for (const key of ARRAYS) if (!Array.isArray(record[key])) fail(`${key} is not a list`);
  for (const key of OBJECTS) if (typeof record[key] !== 'object' || record[key] === null) fail(`${key} is not an object`);
  if (!RECORDED.includes(record.status as RecordedStatus)) fail(`status ${String(record.status)}`);
  if (!PHASES.includes(record.phase as Phase)) fail(`phase ${String(record.phase)}`);
  return data as EnvRecord;
}
