import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import { repoIdFor } from '../../src/core/naming.ts';
import { sweep } from './docker.ts';
import { images } from './images.ts';

export interface Fixture {
  /** The main checkout. */
  repo: string;
  /** ENVS_HOME for this fixture (worktrees live under it too). */
  home: string;
  root: string;
  /** The label every engine resource of this repository's envs carries. */
  label: string;
  git(...args: string[]): Promise<string>;
  write(files: Record<string, string>): Promise<void>;
  commit(message: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** A git repository in a temp dir with the given files committed on `main`, and its own ENVS_HOME. */
export async function makeRepo(files: Record<string, string>, name = 'app'): Promise<Fixture> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'envs-it-')));
  const repo = join(root, name);
  const home = join(root, 'home');
  await mkdir(repo, { recursive: true });
  const git = async (...args: string[]) => (await execa('git', args, { cwd: repo })).stdout;
  const write = async (more: Record<string, string>) => {
    for (const [path, content] of Object.entries(more)) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), content);
    }
  };
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.email', 'test@envs.dev');
  await git('config', 'user.name', 'envs tests');
  await git('config', 'commit.gpgsign', 'false');
  await write(files);
  const commit = async (message: string) => {
    await git('add', '-A');
    await git('commit', '-q', '--allow-empty', '-m', message);
  };
  await commit('initial');
  const label = `dev.envs.repo=${repoIdFor(name, await realpath(join(repo, '.git')))}`;
  return { repo, home, root, label, git, write, commit, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * A compose file with every trap: fixed 5432:5432 and 8080:80, container_name, a top-level name,
 * a volume with an explicit name, a service with build + image.
 */
export function trapFiles(): Record<string, string> {
  return {
    'compose.yaml': `name: trapapp
services:
  db:
    image: ${images.postgres}
    container_name: trap-db
    environment:
      POSTGRES_PASSWORD: trap-secret
      POSTGRES_DB: app
    ports:
      - "5432:5432"
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres -d app"]
      interval: 1s
      timeout: 3s
      retries: 60
      # As Docker recommends: checks every 200 ms while starting, so "healthy" is not a 1 s tick away.
      start_period: 30s
      start_interval: 200ms
  web:
    build: ./web
    image: trapapp-web:latest
    init: true
    ports:
      - "8080:80"
volumes:
  pgdata:
    name: trapapp-pgdata
`,
    'web/Dockerfile': `FROM ${images.busybox}
RUN mkdir -p /www && echo trap-web > /www/index.html
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`,
    '.gitignore': 'node_modules/\n.env.local\n',
  };
}

/** One small HTTP service on a fixed port; fast to start, for tests that make many envs. */
export function webFiles(): Record<string, string> {
  return {
    'compose.yaml': `services:
  web:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "mkdir -p /srv && echo \\"$$HOSTNAME\\" > /srv/index.html && exec httpd -f -p 80 -h /srv"]
    ports:
      - "8080:80"
`,
    '.gitignore': 'node_modules/\n.env.local\n',
  };
}

/**
 * A fixture repository for one describe block: made before its tests (then `setup`), and after them every
 * engine resource of its envs swept (the reaper is off here) and its directory removed.
 */
export function useRepo(files: Record<string, string>, name: string, setup?: (fx: Fixture) => Promise<void>): Fixture {
  const fx = {} as Fixture;
  beforeAll(async () => {
    Object.assign(fx, await makeRepo(files, name));
    await setup?.(fx);
  });
  afterAll(async () => {
    if (fx.label) await sweep(fx.label);
    await fx.cleanup?.();
  });
  return fx;
}
