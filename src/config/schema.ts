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
        embedded: z
          .boolean()
          .describe(
            "Run envs's embedded Postgres instead of a compose file (for repositories whose compose files are not for development).",
          )
          .optional(),
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
    networks: z
      .object({
        range: z
          .string()
          .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 block such as 10.213.0.0/16')
          .describe(
            'IPv4 block the subnets of env networks are leased from (machine-wide; ENVS_SUBNET_RANGE overrides it). Default 10.213.0.0/16.',
          )
          .optional(),
        size: z
          .number()
          .int()
          .min(16)
          .max(29)
          .describe("Prefix length of each env network's subnet (ENVS_SUBNET_SIZE overrides it). Default 24.")
          .optional(),
      })
      .strict()
      .optional(),
    policy: z
      .object({
        allowPaths: z
          .array(z.string().regex(/^(\/|~\/)/, 'must be an absolute path (or start with ~/)'))
          .describe(
            'Paths outside the repository that compose files may name (env_file, include, secrets, build contexts). Read from envs.yaml on the default branch only: a branch cannot allow itself.',
          )
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
