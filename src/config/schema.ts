import * as z from 'zod';
import { templateSyntaxProblems } from '../bootstrap/templates.ts';
import { POLICY_KEYS } from '../compose/policy.ts';

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
  agent: userCommand
    .describe(
      "What `envs agent <branch>` starts in the env's tmux session when no command follows `--` (e.g. claude): in the worktree, with the env's variables.",
    )
    .optional(),
};

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
          )
          .optional(),
      })
      .strict()
      // Either says what the env runs; both would leave one of them silently unused.
      .refine((c) => !(c.embedded && c.files), 'give either files or embedded: true, not both')
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
        allow: z
          .array(
            z
              .object({
                service: z.string().min(1).describe('A service of the compose model, or "*" for every service.'),
                use: z
                  .array(z.enum(POLICY_KEYS))
                  .min(1)
                  .describe(
                    'Compose settings the service may use, whatever their value (privileged, network_mode, pid, cap_add, devices, …).',
                  )
                  .optional(),
                bind: z
                  .array(z.string().regex(/^(\/|~\/|~$)/, 'must be an absolute path (or start with ~/)'))
                  .min(1)
                  .describe('Host paths outside the worktree the service may bind-mount (a directory covers what is under it).')
                  .optional(),
              })
              .strict(),
          )
          .describe(
            'What services may ask of the machine that envs refuses by default (privileged, host namespaces, host-kernel capabilities, devices, unconfined security_opt, bind mounts outside the worktree such as the Docker socket). Read from envs.yaml on the default branch only: a branch cannot allow itself.',
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
        strategy: z
          .enum(['volume-clone', 'template', 'migrate', 'none'])
          .describe(
            "How each env's database gets its data. volume-clone (default): its own server on a copy-on-write clone of the newest snapshot (the first create makes one); template: a database of its own on one Postgres shared by the envs (CREATE DATABASE … TEMPLATE the snapshot's), to save memory; migrate: an empty database, then `migrate` and `seed`; none: an empty database.",
          )
          .optional(),
        dataPath: z
          .string()
          .regex(/^\//, 'must be an absolute path in the container')
          .describe("Where the server keeps its data in the container. Default: the service's PGDATA, else /var/lib/postgresql/data.")
          .optional(),
        migrate: userCommand
          .describe(
            "Brings a database up to the branch: run (in the worktree, with the env's DATABASE_URL) on every new database, clones included.",
          )
          .optional(),
        seed: userCommand
          .describe('Fills an empty database: run after `migrate` when a database is made from nothing (not on clones).')
          .optional(),
        clone: z
          .enum(['auto', 'overlay', 'reflink', 'copy'])
          .describe(
            'How volume-clone copies a snapshot. auto (default): an overlay (the snapshot as its lower layer; on a file system with reflinks its copy-ups are reflinks); reflink: a reflink copy of the data directory; overlay; copy: a full copy.',
          )
          .optional(),
        store: z
          .string()
          .regex(/^\//, "must be an absolute path on the engine's host")
          // An overlay clone names it in the mount's options, which ',' and ':' separate.
          .regex(/^[^,:\s]+$/, 'must not contain commas, colons or white space')
          .describe(
            "A directory on the engine's host for snapshots and clones (e.g. on an XFS or Btrfs file system with reflinks). Default: the engine's volumes.",
          )
          .optional(),
      })
      .strict()
      .optional(),
    preview: z
      .string()
      .min(1)
      .describe(
        'The service or host process (`processes:`) that http://<env>.localhost:<router port> serves. Default: the first host process with a port, else the first HTTP service.',
      )
      .optional(),
    up: z
      .object({
        waitTimeout: z
          .number()
          .int()
          .positive()
          .max(3600)
          .describe(
            'Seconds create and up wait for every service to be up (and the database to answer) after `docker compose up`. Default 300.',
          )
          .optional(),
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
    // ---- bootstrap: env files, env: templates, stack adapters (src/bootstrap) ----
    env: z
      // Names are checked with the templates, so every problem is reported in one list.
      .record(z.string(), z.string())
      .superRefine((templates, ctx) => {
        for (const [name, template] of Object.entries(templates)) {
          for (const message of templateSyntaxProblems(name, template)) ctx.addIssue({ code: 'custom', message, path: [name] });
        }
      })
      .describe(
        'Variables of the env, as templates: {{ ports.<service>.<container port> }}, {{ ports.<service or process> }}, {{ ports.supabase.<api|db|shadow|pooler|studio|inbucket|smtp|pop3|analytics|inspector> }}, {{ env.name|branch|host|project|worktree }}, {{ db.url|host|port|user|password|name }}; \\{{ for a literal {{. Unknown references are errors at plan time.',
      )
      .optional(),
    copy: z
      .array(z.string().min(1))
      .describe(
        'More files to copy from the main checkout into each worktree: gitignore-syntax patterns (like .worktreeinclude), matched by git; only files git ignores are copied.',
      )
      .optional(),
    envFiles: z
      .object({
        defaults: z
          .boolean()
          .describe(
            'Copy the default set: .env, .env.* (not *.example, *.sample, *.template) and .dev.vars* in any directory. Default true.',
          )
          .optional(),
        exclude: z.array(z.string().min(1)).describe('gitignore-syntax patterns of files never copied, whatever matched them.').optional(),
        nextjs: z
          .enum(['mode-local', 'in-place'])
          .describe(
            "Where a Next.js app's rewritten values go: mode-local (default) = .env.development.local, .env.test.local and .env.production.local in the app; in-place = a block in each copied file.",
          )
          .optional(),
      })
      .strict()
      .optional(),
    supabase: z
      .object({
        enabled: z
          .boolean()
          .describe('Give each env its own Supabase CLI project id and ports. Default: on when there is a supabase/config.toml.')
          .optional(),
        dir: z
          .string()
          .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the repository')
          .describe('The directory holding supabase/config.toml, when the repository has several. Default: the only one.')
          .optional(),
      })
      .strict()
      .optional(),
    // ---- end bootstrap ----
    ...bootstrapKeys,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input' });
}
