import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Progress } from '../core/converge.ts';
import { createEnv } from '../core/create.ts';
import type { EnvView } from '../core/view.ts';
import { EnvsError } from '../errors.ts';
import { runGit } from '../git/run.ts';
import { openEnvs } from '../wire.ts';
import { DEMO_DOTENV, demoFiles } from './files.ts';

export interface DemoOptions {
  /** Where to write the demo repository; must not exist or be empty. */
  dir: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: Progress;
}

export interface DemoResult {
  dir: string;
  envs: EnvView[];
}

/** The branches the demo makes envs for. */
export const DEMO_BRANCHES = ['demo/one', 'demo/two'];

/**
 * `envs demo [dir]`: writes a small monorepo (web dev server + Postgres in compose + gitignored .env +
 * envs.yaml), commits it, and makes two envs of it side by side: two worktrees, two databases, two dev
 * servers on their own ports, each with the `.env` rewritten to its own database.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dir = resolve(options.cwd, options.dir);
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) {
    throw new EnvsError('USAGE', `${dir} is not empty: the demo writes a new repository there.`, {
      hint: 'Give an empty or new directory: `envs demo ./envs-demo`.',
    });
  }
  const progress = (message: string) => options.onProgress?.({ step: 'demo', message });
  progress(`writing the demo repository to ${dir}`);
  for (const [path, content] of Object.entries(demoFiles())) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await writeFile(join(dir, '.env'), DEMO_DOTENV, { mode: 0o600 });
  await chmod(join(dir, '.env'), 0o600);
  const git = (...args: string[]) => runGit(args, { cwd: dir, env: options.env });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  // A commit of its own identity, whatever the user's git config holds (or lacks).
  await git(
    '-c',
    'user.name=envs demo',
    '-c',
    'user.email=demo@envs.invalid',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '-q',
    '-m',
    'envs demo app',
  );

  const deps = await openEnvs({ cwd: dir, env: options.env, ...(options.signal ? { signal: options.signal } : {}) });
  const envs: EnvView[] = [];
  for (const branch of DEMO_BRANCHES) {
    progress(`envs create ${branch}`);
    envs.push(
      await createEnv(deps, {
        branch,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }),
    );
  }
  return { dir, envs };
}
