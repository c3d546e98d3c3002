import { z } from 'zod';

const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the repository');

// ---------------------------------------------------------------- bootstrap: install, bootstrap, processes (issue 8)
// Commands here are the user's own code, like package.json scripts: a string runs through `sh -c`, an array
// runs as is (see src/bootstrap/command.ts, the one place envs uses a shell).

const userCommand = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('A command line run with `sh -c` (like a package.json script), or an argument array run as is, without a shell.');

const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name (letters, digits, _)');

const processName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'must start with a letter and hold only letters, digits, - and _ (≤ 32 characters)');

const installKey = z
  .union([
    z.boolean(),
    userCommand,
    z
      .object({
        command: userCommand.describe('Runs instead of the detected package manager’s install.').optional(),
        reuse: z
          .enum(['auto', 'reflink', 'never'])
          .describe(
            "npm/yarn/bun: when the worktree's lockfile equals the main checkout's, copy its node_modules — `auto`: copy-on-write, else hard links; `reflink`: copy-on-write only; `never`: always a real install. Default auto.",
          )
          .optional(),
      })
      .strict(),
  ])
  .describe(
    'Dependencies of a new worktree. Default: detect the package manager from the lockfile and install the fast way. `false` skips it; a command replaces it.',
  );

const bootstrapKeys = {
  install: installKey.optional(),
  bootstrap: z
    .array(userCommand)
    .describe("Commands run in the worktree after the install, in order, with the env's variables (e.g. migrations, codegen).")
    .optional(),
  processes: z
    .record(
      processName,
      z
        .object({
          command: userCommand.describe('The dev server or worker, e.g. "pnpm --filter web dev".'),
          port: z
            .number()
            .int()
            .min(1)
            .max(65535)
            .describe('The port it listens on in the main checkout; each env leases its own and passes it as PORT.')
            .optional(),
          cwd: repoPath.describe('Directory to run in, repository-relative. Default: the worktree root.').optional(),
          env: z.record(variableName, z.string()).describe('More variables for this process.').optional(),
        })
        .strict(),
    )
    .describe('Host processes started per env (in a tmux session named after it when tmux is installed), stopped by down and destroy.')
    .optional(),
};

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
    ...bootstrapKeys,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input' });
}
