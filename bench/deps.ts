/**
 * `npm run bench:deps` (also run by `npm run bench`): how long a new env waits for its dependencies, and
 * what disk they take, against a cold install measured in the same run.
 *
 *   cold       the first env's install on a machine with an empty package store and cache
 *              (pnpm: fresh store-dir and cache-dir; npm: fresh cache), i.e. what a plain clone costs
 *   second env installDependencies() in the next worktree: the main checkout's node_modules copied
 *              copy-on-write or as hard links (lockfile unchanged; pnpm's bin shims retargeted)
 *
 * Time is time-to-deps-ready of that call; disk is what `du` counts once per inode: for cold the store,
 * cache and node_modules it made, for the second env only what its node_modules adds on top of them and
 * of the main checkout's.
 * Two fixtures: `tiny` (the integration test's two-package pnpm workspace, two one-file dependencies) and
 * `app` (a workspace with express, zod, date-fns and typescript: ~70 packages, ~40 MB, a dev app's shape).
 * Needs the npm registry. BENCH_RUNS sets the runs (default 5); medians are what count.
 */
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { installDependencies } from '../src/bootstrap/install.ts';
import { median, printTable } from './table.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOAL = 0.1;

const FIXTURES: Record<string, Record<string, string>> = {
  tiny: {
    'packages/a/package.json': JSON.stringify({ name: '@fx/a', version: '1.0.0', dependencies: { ms: '2.1.3', '@fx/b': 'workspace:*' } }),
    'packages/b/package.json': JSON.stringify({ name: '@fx/b', version: '1.0.0', dependencies: { picocolors: '1.1.1' } }),
  },
  app: {
    'packages/web/package.json': JSON.stringify({
      name: '@fx/web',
      version: '1.0.0',
      dependencies: { express: '4.21.2', zod: '3.24.1', '@fx/lib': 'workspace:*' },
    }),
    'packages/lib/package.json': JSON.stringify({
      name: '@fx/lib',
      version: '1.0.0',
      dependencies: { 'date-fns': '4.1.0' },
      devDependencies: { typescript: '5.7.3' },
    }),
  },
};

async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const result = await execa(file, args, { cwd, env, reject: false });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/** A repository with the fixture's lockfile committed and its main checkout installed. */
async function makeRepo(root: string, manager: 'pnpm' | 'npm', packages: Record<string, string>, env: NodeJS.ProcessEnv): Promise<string> {
  const repo = join(root, `${manager}-repo`);
  const workspace: Record<string, string> =
    manager === 'pnpm'
      ? { 'package.json': JSON.stringify({ name: 'fx', private: true }), 'pnpm-workspace.yaml': 'packages:\n  - packages/*\n' }
      : { 'package.json': JSON.stringify({ name: 'fx', private: true, workspaces: ['packages/*'] }) };
  // npm names workspace dependencies by version, not with the workspace: protocol.
  const files = Object.fromEntries(
    Object.entries(packages).map(([p, t]) => [p, manager === 'npm' ? t.replace(/"workspace:\*"/g, '"1.0.0"') : t]),
  );
  await write(repo, { ...workspace, ...files, '.gitignore': 'node_modules\n' });
  await sh('git', ['init', '-q', '-b', 'main'], repo);
  await sh('git', ['-c', 'user.email=b@envs.dev', '-c', 'user.name=bench', 'commit', '-q', '--allow-empty', '-m', 'empty'], repo);
  await sh(manager, manager === 'pnpm' ? ['install'] : ['install', '--no-audit', '--no-fund'], repo, env);
  await sh('git', ['add', '-A'], repo);
  await sh('git', ['-c', 'user.email=b@envs.dev', '-c', 'user.name=bench', 'commit', '-q', '-m', 'fixture'], repo);
  return repo;
}

async function nodeModules(worktree: string): Promise<string[]> {
  const dirs = [join(worktree, 'node_modules')];
  for (const pkg of await readdir(join(worktree, 'packages'))) dirs.push(join(worktree, 'packages', pkg, 'node_modules'));
  const present: string[] = [];
  for (const dir of dirs)
    if (
      await readdir(dir).then(
        () => true,
        () => false,
      )
    )
      present.push(dir);
  return present;
}

/** KiB of each group of paths, counting every inode once across all groups (du's own rule), in order. */
async function diskKiB(groups: string[][]): Promise<number[]> {
  const exists = async (path: string) =>
    readdir(path).then(
      () => true,
      () => false,
    );
  const present = await Promise.all(
    groups.map(async (group) => (await Promise.all(group.map(async (p) => ((await exists(p)) ? p : '')))).filter(Boolean)),
  );
  groups = present;
  const paths = groups.flat();
  const lines = (await sh('du', ['-sk', ...paths], '/')).split('\n');
  const sizes = new Map<string, number>();
  for (const line of lines) {
    const [kib, path] = line.split('\t');
    if (path) sizes.set(path, Number(kib));
  }
  return groups.map((group) => group.reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0));
}

interface Sample {
  coldS: number;
  secondS: number;
  coldKiB: number;
  secondKiB: number;
  method: string;
}

async function measure(root: string, manager: 'pnpm' | 'npm', fixture: string): Promise<Sample[]> {
  const base = join(root, `${manager}-${fixture}`);
  await mkdir(base, { recursive: true });
  const setupEnv = { ...process.env, npm_config_store_dir: join(base, 'setup-store'), npm_config_cache: join(base, 'setup-cache') };
  const repo = await makeRepo(base, manager, FIXTURES[fixture] as Record<string, string>, setupEnv);
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = join(base, `run-${i}`);
    const [first, second] = [join(run, 'first'), join(run, 'second')];
    // Empty store and caches: the cold install downloads everything, like a new machine.
    const env = {
      ...process.env,
      npm_config_store_dir: join(run, 'store'),
      npm_config_cache_dir: join(run, 'pnpm-cache'),
      npm_config_cache: join(run, 'npm-cache'),
    };
    await sh('git', ['worktree', 'add', '-q', '-b', `first-${i}`, first], repo);
    await sh('git', ['worktree', 'add', '-q', '-b', `second-${i}`, second], repo);
    const logFile = join(run, 'install.log');
    const cold = await installDependencies({ worktree: first, main: repo, baseEnv: env, logFile, config: { reuse: 'never' } });
    const next = await installDependencies({ worktree: second, main: repo, baseEnv: env, logFile });
    const coldPaths =
      manager === 'pnpm'
        ? [join(run, 'store'), join(run, 'pnpm-cache'), ...(await nodeModules(first))]
        : [join(run, 'npm-cache'), ...(await nodeModules(first))];
    // The second env copies the main checkout's node_modules (hard links or copy-on-write, when the lockfile
    // is the same): what it shares with them is not extra.
    const shared = await nodeModules(repo);
    const [coldKiB, , secondKiB] = await diskKiB([coldPaths, shared, await nodeModules(second)]);
    samples.push({
      coldS: cold.durationMs / 1000,
      secondS: next.durationMs / 1000,
      coldKiB: coldKiB as number,
      secondKiB: secondKiB as number,
      method: next.method,
    });
    process.stderr.write(
      `${manager} ${fixture} run ${i + 1}/${RUNS}: cold ${(cold.durationMs / 1000).toFixed(2)} s ${coldKiB} KiB | second env (${next.method}) ${(next.durationMs / 1000).toFixed(2)} s ${secondKiB} KiB\n`,
    );
    await sh('git', ['worktree', 'remove', '--force', first], repo);
    await sh('git', ['worktree', 'remove', '--force', second], repo);
    await rm(run, { recursive: true, force: true });
  }
  return samples;
}

const root = await realpath(await mkdtemp(join(tmpdir(), 'envs-bench-deps-')));
const rows: string[][] = [];
try {
  for (const [manager, fixture] of [
    ['pnpm', 'tiny'],
    ['pnpm', 'app'],
    ['npm', 'app'],
  ] as const) {
    const samples = await measure(root, manager, fixture);
    const cold = { s: median(samples.map((s) => s.coldS)), kib: median(samples.map((s) => s.coldKiB)) };
    const second = { s: median(samples.map((s) => s.secondS)), kib: median(samples.map((s) => s.secondKiB)) };
    const time = second.s / cold.s;
    const disk = second.kib / cold.kib;
    rows.push([
      `${manager} ${fixture}`,
      samples[0]?.method ?? '',
      `${cold.s.toFixed(2)} s / ${(cold.kib / 1024).toFixed(1)} MiB`,
      `${second.s.toFixed(2)} s / ${(second.kib / 1024).toFixed(2)} MiB`,
      `${(time * 100).toFixed(0)}% / ${(disk * 100).toFixed(1)}%`,
      time <= GOAL && disk <= GOAL ? 'met' : time <= GOAL || disk <= GOAL ? `${time <= GOAL ? 'time' : 'disk'} met` : 'MISSED',
    ]);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

const table = [
  ['fixture', 'second env by', 'cold install (median)', 'second env (median)', 'time / disk', `goal ≤ ${GOAL * 100}%`],
  ...rows,
];
printTable(`dependencies of a new env vs a cold install, ${RUNS} runs each`, table);
