import { z } from 'zod';

const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the repository');

/** `envs.yaml` at the repository root. Every key is optional: zero config works. */
export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    compose: z
      .object({
        files: z
          .array(repoPath)
          .min(1)
          .describe(
            'Compose files, repository-relative, in merge order. Default: what `docker compose` would pick (compose.yaml + compose.override.yaml, …).',
          ),
      })
      .strict()
      .optional(),
    ports: z
      .object({
        range: z
          .string()
          .regex(/^\d{4,5}-\d{4,5}$/, 'must look like 20000-29999')
          .describe('Host ports envs may hand out, inclusive. ENVS_PORT_RANGE overrides it. Default 20000-29999.')
          .optional(),
      })
      .strict()
      .optional(),
    worktrees: z
      .object({
        dir: z
          .string()
          .min(1)
          .describe('Where worktrees go; relative paths are taken from the main checkout. Default: $ENVS_HOME/worktrees/<repo>.')
          .optional(),
      })
      .strict()
      .optional(),
    database: z
      .object({
        service: z
          .string()
          .min(1)
          .describe('The Postgres service DATABASE_URL points at. Default: the one service whose image is Postgres.')
          .optional(),
      })
      .strict()
      .optional(),
    up: z
      .object({
        waitTimeout: z.number().int().positive().max(3600).describe('Seconds `docker compose up --wait` may take. Default 300.').optional(),
      })
      .strict()
      .optional(),
    destroy: z
      .object({
        disposable: z
          .array(z.string().min(1))
          .describe(
            'Names of ignored files or directories that `envs destroy` may delete without --force, added to node_modules, dist, .next, .turbo and other build caches.',
          )
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input' });
}
