/**
 * `npm run bench:app` (also run by `npm run bench`): time from `envs create` to the app's dev server
 * answering, on the pnpm workspace of the bootstrap tests (web dev server + Postgres + gateway + a service
 * reading the gateway's URL, a gitignored .env), against the same steps done by hand in the same run:
 *
 *   by hand = git worktree add + cp .env (its DATABASE_URL edited to the new port) + docker compose -p X
 *             up -d --wait (a hand-edited copy of compose.yaml on free ports) + wait until Postgres accepts
 *             connections + pnpm install --frozen-lockfile --prefer-offline + start the dev server as
 *             envs.yaml says (`pnpm --filter web dev`) with PORT and DATABASE_URL + poll until it answers
 *   envs    = envs create <branch> + poll until the dev server answers (after an untimed first env, which seeds
 *             the repository's database snapshot: each timed env's Postgres is a clone of it)
 *
 * Runs alternate which side goes first; medians are what count. BENCH_RUNS sets the runs (default 5).
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { waitForPostgres } from '../src/db/ready.ts';
import { appFiles, MAIN_DOTENV } from '../test/support/app-fixture.ts';
import { BIN } from '../test/support/cli.ts';
import { sweep } from '../test/support/docker.ts';
import { images } from '../test/support/images.ts';
import { makeRepo } from '../test/support/repo.ts';
import { median, printTable } from './table.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOAL = 1.3;
const socket = `envs-bench-app-${process.pid}`;

async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const result = await execa(file, args, { cwd, env, reject: false });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

/** Polls an HTTP port until it answers 200. */
async function answers(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing answered on ${port}`);
}

/** The compose file with its host ports changed by hand, as a person would for a second checkout. */
function handEdited(db: number, gateway: number): string {
  const text = appFiles['compose.yaml'];
  return text.replace('"5432:5432"', `"127.0.0.1:${db}:5432"`).replace('"8000:80"', `"127.0.0.1:${gateway}:80"`);
}

const fx = await makeRepo(appFiles, 'benchapp');
// ENVS_PROXY=off: both sides poll the dev server's own port; the router's cost is bench/proxy.ts's.
const env = { ...process.env, ENVS_HOME: fx.home, ENVS_POSTGRES_IMAGE: images.postgres, ENVS_TMUX_SOCKET: socket, ENVS_PROXY: 'off' };
const raw: number[] = [];
const ours: number[] = [];
try {
  await sh('pnpm', ['install', '--silent'], fx.repo);
  await fx.commit('lockfile');
  await writeFile(join(fx.repo, '.env'), MAIN_DOTENV);
  // Warm everything both sides use: images, pnpm's store.
  await sh('docker', ['compose', '-p', 'envs-bench-warm', 'up', '-d', '--wait'], fx.repo).catch(() => {});
  await sh('docker', ['compose', '-p', 'envs-bench-warm', 'down', '-v'], fx.repo).catch(() => {});
  // The repository's first env seeds its database and takes the snapshot the next ones clone (seconds more,
  // once per repository): done here, so every timed create is the usual one. With BENCH_RUNS=1 (CI's smoke)
  // the one timed create was that first one.
  await sh('node', [BIN, 'create', 'bench/app-warm'], fx.repo, env);
  await sh('node', [BIN, 'destroy', 'bench/app-warm'], fx.repo, env);

  for (let i = 0; i < RUNS; i++) {
    const byHand = async () => {
      const worktree = join(fx.root, `raw-${i}`);
      const project = `envs-bench-raw-${i}`;
      const [db, gateway, web] = [28500 + 3 * i, 28501 + 3 * i, 28502 + 3 * i];
      const file = join(fx.root, `raw-${i}.yaml`);
      await writeFile(file, handEdited(db, gateway));
      const start = performance.now();
      await sh('git', ['worktree', 'add', '-q', '-b', `raw/${i}`, worktree, 'main'], fx.repo);
      const dotenv = (await readFile(join(fx.repo, '.env'), 'utf8')).replace('127.0.0.1:5432', `127.0.0.1:${db}`);
      await writeFile(join(worktree, '.env'), dotenv, { mode: 0o600 });
      await sh('docker', ['compose', '-p', project, '-f', file, '--project-directory', worktree, 'up', '-d', '--wait'], worktree);
      await waitForPostgres({ host: '127.0.0.1', port: db, user: 'postgres', database: 'app' }, Date.now() + 120_000);
      await sh('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--silent'], worktree);
      const server = spawn('pnpm', ['--filter', 'web', 'dev'], {
        cwd: worktree,
        env: { ...process.env, PORT: String(web), DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${db}/app` },
        stdio: 'ignore',
        detached: true,
      });
      await answers(web);
      const seconds = (performance.now() - start) / 1000;
      if (server.pid) process.kill(-server.pid, 'SIGKILL');
      await sh('docker', ['compose', '-p', project, 'down', '-v', '--timeout', '1'], fx.root);
      await sh('git', ['worktree', 'remove', '--force', worktree], fx.repo);
      raw.push(seconds);
    };
    const withEnvs = async () => {
      const branch = `bench/app-${i}`;
      const start = performance.now();
      const created = JSON.parse(await sh('node', [BIN, 'create', branch, '--json'], fx.repo, env));
      await answers(Number(new URL(created.direct_urls.web).port));
      ours.push((performance.now() - start) / 1000);
      await sh('node', [BIN, 'destroy', branch], fx.repo, env);
    };
    if (i % 2 === 0) {
      await byHand();
      await withEnvs();
    } else {
      await withEnvs();
      await byHand();
    }
    process.stderr.write(`app run ${i + 1}/${RUNS}: by hand ${raw[i]?.toFixed(2)} s | envs ${ours[i]?.toFixed(2)} s\n`);
  }
  const ratio = median(ours) / median(raw);
  printTable(`pnpm workspace app (dev server + Postgres + gateway), warm images and store, ${RUNS} runs, order alternating`, [
    ['step', 'by hand (median)', 'envs (median)', 'ratio', 'goal', ''],
    [
      'create → dev server answering',
      `${median(raw).toFixed(2)} s`,
      `${median(ours).toFixed(2)} s`,
      ratio.toFixed(2),
      `≤ ${GOAL.toFixed(2)}`,
      ratio <= GOAL ? 'met' : 'MISSED',
    ],
  ]);
} finally {
  for (let i = 0; i < RUNS; i++)
    await execa('docker', ['compose', '-p', `envs-bench-raw-${i}`, 'down', '-v', '--timeout', '1'], { reject: false });
  await execa('tmux', ['-L', socket, 'kill-server'], { reject: false });
  await sweep(fx.label);
  await fx.cleanup();
}
