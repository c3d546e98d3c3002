import { z } from 'zod';

/** The status a record states; `partial` is derived (see status.ts), never written. */
export const RecordedStatus = z.enum(['creating', 'running', 'stopped', 'failed', 'destroying']);
export type EnvStatus = z.infer<typeof RecordedStatus> | 'partial';

/** Steps of `create`, in order; each is recorded before it runs so a killed create can be resumed or destroyed. */
export const PHASES = ['planned', 'worktree', 'ports', 'compose-file', 'compose-up', 'ready'] as const;
export type Phase = (typeof PHASES)[number];

const Binding = z.object({
  service: z.string(),
  target: z.number().int(),
  published: z.number().int(),
  host_ip: z.string(),
  protocol: z.string(),
});
export type Binding = z.infer<typeof Binding>;

export const EnvRecordSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string(),
  branch: z.string(),
  repo: z.string(),
  repoId: z.string(),
  worktree: z.string(),
  project: z.string(),
  host: z.string(),
  /** Directory Compose resolves relative paths against (the worktree, or a subdirectory of it). */
  projectDir: z.string(),
  /** The generated compose file envs runs (under ENVS_HOME, mode 0600). */
  composeFile: z.string(),
  /** Repository-relative compose files it was generated from; empty: the embedded template. */
  sourceFiles: z.array(z.string()),
  template: z.string().optional(),
  status: RecordedStatus,
  phase: z.enum(PHASES),
  /** True when create made the branch (rollback may delete it while it has no commits of its own). */
  createdBranch: z.boolean(),
  /** Where the branch started (new branches) or stood (existing ones) when the env was made. */
  base: z.object({ ref: z.string(), commit: z.string() }),
  services: z.array(z.string()),
  ports: z.array(Binding),
  /** Variables the env injects, secrets included (this file is 0600); redacted on output. */
  env: z.record(z.string(), z.string()),
  secrets: z.record(z.string(), z.string()),
  engine: z.object({ id: z.string(), endpoint: z.string() }),
  warnings: z.array(z.string()),
  error: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type EnvRecord = z.infer<typeof EnvRecordSchema>;
