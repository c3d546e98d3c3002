/**
 * `npm run bench`: `envs create` and `envs destroy` on the trap fixture against the raw floor measured in
 * the same run, with warm images:
 *   create floor  = git worktree add + docker compose -p X up -d --wait (on a hand-edited copy of the file)
 *                   + Postgres answering on its port
 *   destroy floor = docker compose -p X down -v -t 3 + docker image rm (the env's built image) + git worktree remove
 * Runs alternate which side goes first; medians are what count (these machines are noisy).
 * BENCH_RUNS sets the number of runs (default 7). Images come from the same variables as the tests.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { waitForPostgres } from '../src/db/ready.ts';
import { BIN } from '../test/support/cli.ts';
import { sweep } from '../test/support/docker.ts';
import { type Fixture, makeRepo, trapFiles } from '../test/support/repo.ts';
import { median, printTable } from './table.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const GOALS = { create: 1.15, destroy: 1.2 };

/** The trap compose file with its traps fixed by hand, as a person would for a second checkout. */
function handEdited(project: string, worktree: string, dbPort: number, webPort: number): string {
  const edits: [string, string][] = [
    ['name: trapapp\n', ''],
    ['    container_name: trap-db\n', ''],
    ['"5432:5432"', `"127.0.0.1:${dbPort}:5432"`],
    ['"8080:80"', `"127.0.0.1:${webPort}:80"`],
    ['build: ./web', `build: ${join(worktree, 'web')}`],
    ['image: trapapp-web:latest', `image: ${project}-web`],
    ['    name: trapapp-pgdata\n', ''],
  ];
  let text = trapFiles()['compose.yaml'] as string;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`bench: the trap fixture no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

async function timed(steps: (() => Promise<unknown>)[]): Promise<number> {
  const start = performance.now();
  for (const step of steps) await step();
  return (performance.now() - start) / 1000;
}

async function run(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<void> {
  const result = await execa(file, args, { cwd, env, reject: false });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
}

/** Raw projects carry no envs labels; these are torn down at the end whatever happens. */
const rawProjects: string[] = [];

async function rawCycle(fx: Fixture, i: number): Promise<{ create: number; destroy: number }> {
  const project = `bench-raw-${i}`;
  rawProjects.push(project);
  const worktree = join(fx.root, 'raw', `wt-${i}`);
  const file = join(fx.root, 'raw', `compose-${i}.yaml`);
  await mkdir(join(fx.root, 'raw'), { recursive: true });
  await writeFile(file, handEdited(project, worktree, 29900 + 2 * i, 29901 + 2 * i));
  const create = await timed([
    () => run('git', ['worktree', 'add', '-q', '-b', `raw/${i}`, worktree, 'main'], fx.repo),
    () => run('docker', ['compose', '-p', project, '-f', file, '--project-directory', worktree, 'up', '-d', '--wait'], worktree),
    // The fixture's healthcheck (pg_isready on the unix socket, as many real files have it) already passes
    // while the image's entrypoint runs its init-time server; the database is there once it answers on its
    // port, which is what envs create waits for too (and a stop then takes the whole stop timeout).
    async () => {
      const target = { host: '127.0.0.1', port: 29900 + 2 * i, user: 'postgres', database: 'app' };
      if (!(await waitForPostgres(target, Date.now() + 60_000))) throw new Error(`bench: Postgres of ${project} never answered`);
    },
  ]);
  // The same end state as envs destroy: the env's built image goes too (left behind, each env would leak one).
  const destroy = await timed([
    // The stop timeout envs gives a throwaway env's containers (3 s), not Compose's 10 s.
    () => run('docker', ['compose', '-p', project, 'down', '-v', '--timeout', '3'], fx.repo),
    () => run('docker', ['image', 'rm', `${project}-web`], fx.repo),
    () => run('git', ['worktree', 'remove', worktree], fx.repo),
  ]);
  return { create, destroy };
}

async function envsCycle(fx: Fixture, i: number): Promise<{ create: number; destroy: number }> {
  // The floors do not wait for HTTP answers; the router's own cost is bench/proxy.ts's.
  const env = { ENVS_HOME: fx.home, ENVS_PROXY: 'off' };
  const create = await timed([() => run('node', [BIN, 'create', `bench/${i}`], fx.repo, env)]);
  const destroy = await timed([() => run('node', [BIN, 'destroy', `bench/${i}`], fx.repo, env)]);
  return { create, destroy };
}

const fx = await makeRepo(trapFiles(), 'benchapp');
const raw = { create: [] as number[], destroy: [] as number[] };
const ours = { create: [] as number[], destroy: [] as number[] };
try {
  process.stderr.write(`warming up (images, build cache, compile cache)…\n`);
  await rawCycle(fx, 99);
  await envsCycle(fx, 99);
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? [rawCycle, envsCycle] : [envsCycle, rawCycle];
    for (const cycle of order) {
      const result = await cycle(fx, i);
      const into = cycle === rawCycle ? raw : ours;
      into.create.push(result.create);
      into.destroy.push(result.destroy);
    }
    process.stderr.write(
      `run ${i + 1}/${RUNS}: raw ${raw.create.at(-1)?.toFixed(2)}s/${raw.destroy.at(-1)?.toFixed(2)}s  envs ${ours.create.at(-1)?.toFixed(2)}s/${ours.destroy.at(-1)?.toFixed(2)}s\n`,
    );
  }
} finally {
  for (const project of rawProjects) {
    await execa('docker', ['compose', '-p', project, 'down', '-v'], { reject: false });
    await execa('docker', ['image', 'rm', '-f', `${project}-web`], { reject: false });
  }
  await sweep(fx.label);
  await fx.cleanup();
}

const rows = (['create', 'destroy'] as const).map((op) => {
  const floor = median(raw[op]);
  const envs = median(ours[op]);
  const ratio = envs / floor;
  return [
    op,
    `${floor.toFixed(2)} s`,
    `${envs.toFixed(2)} s`,
    ratio.toFixed(2),
    `≤ ${GOALS[op].toFixed(2)}`,
    ratio <= GOALS[op] ? 'met' : 'MISSED',
  ];
});
const table = [['operation', 'raw floor (median)', 'envs (median)', 'ratio', 'goal', ''], ...rows];
printTable(`trap fixture (Postgres + built web), warm images, ${RUNS} runs each, order alternating`, table);
console.log(
  `\nall runs (s): raw create ${raw.create.map((v) => v.toFixed(2)).join(' ')} | envs create ${ours.create.map((v) => v.toFixed(2)).join(' ')}`,
);
console.log(
  `              raw destroy ${raw.destroy.map((v) => v.toFixed(2)).join(' ')} | envs destroy ${ours.destroy.map((v) => v.toFixed(2)).join(' ')}`,
);
