import { link, lstat, readdir, readFile, readlink, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Progress } from '../core/converge.ts';
import { EnvsError } from '../errors.ts';
import { runLogged } from '../process/group.ts';
import { run } from '../process/run.ts';
import { describeCommand, type UserCommand, userArgv } from './command.ts';
import { detectPackageManager, isDirectory, type ManagerName, type PackageManager, workspaceDirs } from './packages.ts';
import { runStep, seconds } from './step.ts';

/** `install:` in envs.yaml. */
export type InstallConfig = Config['install'];
export type ReuseMode = 'auto' | 'reflink' | 'never';

export interface InstallOptions {
  /** The env's worktree, where dependencies go. */
  worktree: string;
  /** The main checkout, whose node_modules may be copied. */
  main: string;
  config?: InstallConfig;
  /** The env's variables, added to `baseEnv` for the install. */
  env?: Record<string, string>;
  /** Default: process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Where the output goes (appended; 0600). */
  logFile: string;
  /** pnpm: the store to use when pnpm's own is on another filesystem. Default `<worktree>/../.pnpm-store`. */
  pnpmStoreDir?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Values to mask in the output tail of an error. */
  redact?: Iterable<string>;
}

export type InstallMethod =
  /** `install: false`. */
  | 'skipped'
  /** No package.json in the worktree. */
  | 'none'
  /** `install: <command>`. */
  | 'command'
  /** `pnpm install` against the store. */
  | 'pnpm'
  /** The main checkout's node_modules copied copy-on-write. */
  | 'reflink'
  /** … or as hard links. */
  | 'hardlink'
  /** A real install (npm ci, yarn install, bun install). */
  | 'install';

export interface InstallResult {
  method: InstallMethod;
  manager?: ManagerName;
  /** What ran, or what was copied. */
  command?: string;
  /** Workspace directories (repository-relative) whose node_modules were copied. */
  copied: string[];
  /** Why a copy was not possible, when a real install ran instead. */
  reason?: string;
  durationMs: number;
  /**
   * Variables the env should carry from now on, for `envs exec` and its processes (pnpm: the store it was
   * installed with, or a later `pnpm add` in the worktree fails with ERR_PNPM_UNEXPECTED_STORE).
   */
  env: Record<string, string>;
  warnings: string[];
}

const STEP = 'install';

/**
 * Installs a new worktree's dependencies the fast way (see src/bootstrap/README.md):
 *
 * - pnpm: `pnpm install --frozen-lockfile --prefer-offline` against a store on the worktree's filesystem
 *   (hard links from the store), never a global virtual store;
 * - npm, yarn, bun: when the worktree's lockfile is byte-identical to the main checkout's and the main
 *   checkout is installed, its node_modules (in every workspace package that has one) copied copy-on-write,
 *   else as hard links, else a real install (`npm ci`, `yarn install --frozen-lockfile`/`--immutable`,
 *   `bun install --frozen-lockfile`). Never a symlink across worktrees.
 */
export async function installDependencies(options: InstallOptions): Promise<InstallResult> {
  const started = performance.now();
  const config = options.config;
  const done = (result: Omit<InstallResult, 'durationMs'>): InstallResult => {
    const durationMs = performance.now() - started;
    options.onProgress?.({ step: STEP, message: `dependencies ready in ${seconds(durationMs)} (${describe(result)})` });
    return { ...result, durationMs };
  };
  if (config === false) {
    options.onProgress?.({ step: STEP, message: 'dependencies: skipped (install: false in envs.yaml)' });
    return { method: 'skipped', copied: [], durationMs: 0, env: {}, warnings: [] };
  }
  const override = typeof config === 'string' || Array.isArray(config) ? config : typeof config === 'object' ? config.command : undefined;
  const env = { ...(options.baseEnv ?? process.env), ...options.env };
  if (override !== undefined) {
    const argv = userArgv(override as UserCommand);
    const step = await runStep(describeCommand(override as UserCommand), argv.file, argv.args, stepOptions(options, env));
    return done({ method: 'command', command: step.command, copied: [], env: {}, warnings: [] });
  }

  const pm = await detectPackageManager(options.worktree);
  if (!pm) {
    options.onProgress?.({ step: STEP, message: 'dependencies: none (no package.json in the worktree)' });
    return { method: 'none', copied: [], durationMs: 0, env: {}, warnings: [] };
  }
  for (const warning of pm.warnings) options.onProgress?.({ step: STEP, message: `warning: ${warning}` });

  const reuse: ReuseMode = (typeof config === 'object' && !Array.isArray(config) && config?.reuse) || 'auto';
  if (pm.name === 'pnpm') {
    // The main checkout's node_modules, when it is what `pnpm install` would make here: its files are hard
    // links into pnpm's store already (another link to each is what pnpm itself would add), its links are
    // relative; only the bin shims name the main checkout, and are rewritten.
    const copied = reuse === 'never' ? { reason: 'install.reuse is never' } : await reuseMain(options, pm, reuse);
    if ('method' in copied) {
      await retargetBinShims(options.main, options.worktree, copied.dirs);
      return done(copiedResult(copied, pm));
    }
    options.onProgress?.({ step: STEP, message: `pnpm: an install from the store (${copied.reason})` });
    const store = await pnpmStore(options, env);
    const args = [
      'install',
      pm.lockfile ? '--frozen-lockfile' : '--config.lockfile=false',
      '--prefer-offline',
      // Never the global virtual store: its node_modules are symlinks into the store, which Turbopack and
      // Metro cannot resolve (reference B6); and never a prompt (no terminal here).
      '--config.enable-global-virtual-store=false',
      '--config.confirm-modules-purge=false',
      ...store.args,
    ];
    const step = await runStep(`pnpm ${args.join(' ')}`, 'pnpm', args, stepOptions(options, { ...env, ...store.env }));
    return done({
      method: 'pnpm',
      manager: 'pnpm',
      command: step.command,
      copied: [],
      reason: copied.reason,
      env: store.env,
      warnings: pm.warnings,
    });
  }

  const copied = reuse === 'never' ? { reason: 'install.reuse is never' } : await reuseMain(options, pm, reuse);
  if ('method' in copied) return done(copiedResult(copied, pm));
  options.onProgress?.({ step: STEP, message: `${pm.name}: a real install (${copied.reason})` });
  const [file, ...args] = installCommand(pm);
  const step = await runStep([file, ...args].join(' '), file as string, args, stepOptions(options, env));
  return done({
    method: 'install',
    manager: pm.name,
    command: step.command,
    copied: [],
    reason: copied.reason,
    env: {},
    warnings: pm.warnings,
  });
}

/** The real install of npm, yarn or bun: from the lockfile, changing nothing tracked. */
export function installCommand(pm: PackageManager): string[] {
  const locked = pm.lockfile !== undefined;
  switch (pm.name) {
    case 'npm':
      return locked
        ? ['npm', 'ci', '--prefer-offline', '--no-audit', '--no-fund']
        : ['npm', 'install', '--no-package-lock', '--prefer-offline', '--no-audit', '--no-fund'];
    case 'yarn':
      if (pm.flavor === 'berry') return locked ? ['yarn', 'install', '--immutable'] : ['yarn', 'install'];
      return locked
        ? ['yarn', 'install', '--frozen-lockfile', '--prefer-offline', '--non-interactive']
        : ['yarn', 'install', '--no-lockfile', '--prefer-offline', '--non-interactive'];
    case 'bun':
      return locked ? ['bun', 'install', '--frozen-lockfile'] : ['bun', 'install', '--no-save'];
    case 'pnpm':
      return ['pnpm', 'install', locked ? '--frozen-lockfile' : '--config.lockfile=false', '--prefer-offline'];
  }
}

function stepOptions(options: InstallOptions, env: NodeJS.ProcessEnv) {
  return {
    step: STEP,
    cwd: options.worktree,
    env,
    logFile: options.logFile,
    code: 'INSTALL_FAILED' as const,
    hint: 'Fix the install (or set `install:` in envs.yaml: false to skip it, or a command), then run `envs create <branch>` again to resume.',
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.redact ? { redact: options.redact } : {}),
  };
}

function describe(result: Omit<InstallResult, 'durationMs'>): string {
  if (result.method === 'reflink' || result.method === 'hardlink') {
    return `${result.manager}: node_modules of the main checkout, ${result.method === 'reflink' ? 'copy-on-write' : 'hard-linked'}`;
  }
  return result.command ?? result.method;
}

// ---------------------------------------------------------------- pnpm's store

/**
 * pnpm hard-links packages from its store into node_modules, which works only within one filesystem: across
 * filesystems it silently copies every file (reference B6). When the store pnpm would use is on another
 * device than the worktree, pass a store on the worktree's filesystem. The main checkout's
 * node_modules/.modules.yaml names its store: when it and the main checkout are on the worktree's
 * device, that settles it without starting pnpm (~0.5 s); otherwise ask `pnpm store path`.
 */
async function pnpmStore(options: InstallOptions, env: NodeJS.ProcessEnv): Promise<{ args: string[]; env: Record<string, string> }> {
  const device = (await stat(options.worktree)).dev;
  const fromMain = await mainStoreDir(options.main);
  if (fromMain && (await deviceOf(options.main)) === device && (await deviceOf(fromMain)) === device) return { args: [], env: {} };
  const asked = await run('pnpm', ['store', 'path'], { cwd: options.worktree, env, ...(options.signal ? { signal: options.signal } : {}) });
  if (asked.spawnError?.code === 'ENOENT') {
    throw new EnvsError('INSTALL_FAILED', 'This repository uses pnpm, which is not installed (or not on PATH).', {
      hint: 'Install it (`npm install -g pnpm` or `corepack enable pnpm`), or set `install: false` in envs.yaml.',
    });
  }
  const store = asked.stdout.trim().split('\n').pop()?.trim();
  if (asked.exitCode === 0 && store && (await deviceOf(store)) === device) return { args: [], env: {} };
  const dir = options.pnpmStoreDir ?? join(dirname(options.worktree), '.pnpm-store');
  options.onProgress?.({
    step: STEP,
    message: `pnpm's store ${store ?? '(unknown)'} is on another filesystem than the worktree; using ${dir} so packages are hard-linked, not copied`,
  });
  return { args: ['--store-dir', dir], env: { npm_config_store_dir: dir } };
}

async function mainStoreDir(main: string): Promise<string | undefined> {
  const text = await readFile(join(main, 'node_modules', '.modules.yaml'), 'utf8').catch(() => undefined);
  // pnpm writes it as JSON (a subset of YAML); older versions wrote YAML.
  const match = text && /^\s*"?storeDir"?\s*:\s*"?([^"\n]+?)"?\s*,?\s*$/m.exec(text);
  const value = match?.[1];
  return value?.startsWith('/') ? value : undefined;
}

/** The device of a path, or of its nearest existing parent (a store that is not made yet). */
async function deviceOf(path: string): Promise<number | undefined> {
  for (let current = resolve(path); ; current = dirname(current)) {
    const found = await stat(current).catch(() => undefined);
    if (found) return found.dev;
    if (dirname(current) === current) return undefined;
  }
}

// ---------------------------------------------------------------- npm / yarn / bun: reuse the main checkout's

/** Written by each manager at the end of an install: a node_modules without it (or older than the lockfile) is not trusted. */
const INSTALL_MARKER: Partial<Record<ManagerName, string>> = {
  npm: '.package-lock.json',
  yarn: '.yarn-integrity',
};
/** pnpm keeps a copy of the lockfile it installed from: the main checkout's install is current when it equals the lockfile. */
const PNPM_INSTALLED_LOCK = join('.pnpm', 'lock.yaml');
const BERRY_MARKER = '.yarn-state.yml';

type Reused = { method: 'reflink' | 'hardlink'; dirs: string[] } | { reason: string };

/** What a copy of the main checkout's node_modules reports. */
function copiedResult(copied: { method: 'reflink' | 'hardlink'; dirs: string[] }, pm: PackageManager): Omit<InstallResult, 'durationMs'> {
  const what = copied.dirs.map((d) => join(d, 'node_modules')).join(', ');
  return {
    method: copied.method,
    manager: pm.name,
    command: `${copied.method === 'reflink' ? 'copy-on-write' : 'hard-link'} copy of ${what}`,
    copied: copied.dirs,
    env: {},
    warnings: pm.warnings,
  };
}

/**
 * Copies the main checkout's node_modules into the worktree when that gives the same result as an install:
 * identical lockfile, the main checkout installed after its lockfile last changed, the same workspace
 * packages. Caches (node_modules/.cache) are left behind. Each copy is made beside its target and renamed
 * into place, so a killed copy leaves no half node_modules. Any failure → a real install instead.
 */
async function reuseMain(options: InstallOptions, pm: PackageManager, reuse: ReuseMode): Promise<Reused> {
  const { main, worktree } = options;
  if (!pm.lockfile) return { reason: 'no lockfile' };
  const [ours, theirs] = await Promise.all([
    readFile(join(worktree, pm.lockfile)).catch(() => undefined),
    readFile(join(main, pm.lockfile)).catch(() => undefined),
  ]);
  if (!ours || !theirs || !ours.equals(theirs)) return { reason: `${pm.lockfile} differs from the main checkout's` };
  if (!(await isDirectory(join(main, 'node_modules')))) return { reason: 'the main checkout has no node_modules' };
  if (pm.name === 'pnpm') {
    const installed = await readFile(join(main, 'node_modules', PNPM_INSTALLED_LOCK)).catch(() => undefined);
    if (!installed?.equals(theirs)) return { reason: "the main checkout's node_modules was not installed from its current pnpm-lock.yaml" };
  }
  const marker = pm.name === 'yarn' && pm.flavor === 'berry' ? BERRY_MARKER : INSTALL_MARKER[pm.name];
  if (marker) {
    const [installed, locked] = await Promise.all([
      stat(join(main, 'node_modules', marker)).catch(() => undefined),
      stat(join(main, pm.lockfile)),
    ]);
    if (!installed) return { reason: `the main checkout's node_modules was not installed by ${pm.name}` };
    if (installed.mtimeMs < locked.mtimeMs) return { reason: `the main checkout's node_modules is older than its ${pm.lockfile}` };
  }
  const dirs: string[] = [];
  for (const dir of await workspaceDirs(main)) {
    if (!(await isDirectory(join(main, dir, 'node_modules')))) continue;
    if (!(await isDirectory(join(worktree, dir)))) return { reason: `workspace ${dir} is not in the worktree` };
    if (await exists(join(worktree, dir, 'node_modules'))) return { reason: `${join(dir, 'node_modules')} already exists in the worktree` };
    dirs.push(dir);
  }
  const method = await copyMethod(join(main, pm.lockfile), worktree, reuse);
  if (!method) {
    return {
      reason:
        reuse === 'reflink'
          ? 'this filesystem cannot copy-on-write'
          : 'neither copy-on-write nor hard links work from the main checkout to the worktree (another filesystem?)',
    };
  }
  options.onProgress?.({
    step: STEP,
    message: `${pm.lockfile} matches the main checkout's: ${method === 'reflink' ? 'copy-on-write copying' : 'hard-linking'} its node_modules (${dirs.length} ${dirs.length === 1 ? 'directory' : 'directories'})`,
  });

  const placed: string[] = [];
  const undo = async () => {
    for (const path of placed) await rm(path, { recursive: true, force: true });
  };
  try {
    for (const dir of dirs) {
      const target = join(worktree, dir, 'node_modules');
      const scratch = `${target}.envs-copy-${process.pid}`;
      await rm(scratch, { recursive: true, force: true });
      placed.push(scratch);
      await copyTree(method, join(main, dir, 'node_modules'), scratch, options);
      await rm(join(scratch, '.cache'), { recursive: true, force: true });
      await rename(scratch, target);
      placed.push(target);
    }
  } catch (error) {
    await undo();
    if (EnvsError.is(error) && error.code === 'CANCELLED') throw error;
    return { reason: `copying failed (${(error as Error).message.split('\n')[0]})` };
  }
  const crossing = await linksLeaving(
    worktree,
    dirs.map((dir) => join(worktree, dir, 'node_modules')),
  );
  if (crossing.length > 0) {
    await undo();
    return { reason: `node_modules of the main checkout links outside its checkout (${crossing.slice(0, 3).join(', ')})` };
  }
  return { method, dirs };
}

/**
 * pnpm's bin shims (`node_modules/.bin/*`, and those of packages in its virtual store) set NODE_PATH to
 * absolute paths of the checkout they were installed in: in the copy they must name the worktree. Each one
 * that does is written anew (a new file, never through the hard link, which the main checkout shares).
 */
async function retargetBinShims(main: string, worktree: string, dirs: string[]): Promise<void> {
  const roots = dirs.map((dir) => join(worktree, dir, 'node_modules'));
  const found = await run('find', [...roots, '-type', 'd', '-name', '.bin']);
  const from = `${resolve(main)}/`;
  const to = `${resolve(worktree)}/`;
  for (const bin of found.stdout.split('\n').filter(Boolean)) {
    for (const name of await readdir(bin)) {
      const path = join(bin, name);
      const info = await lstat(path).catch(() => undefined);
      if (!info?.isFile() || info.size > 1_000_000) continue;
      const text = await readFile(path, 'utf8');
      if (!text.includes(from)) continue;
      await unlink(path);
      await writeFile(path, text.split(from).join(to), { mode: info.mode & 0o777 });
    }
  }
}

/** reflink when the filesystem can (and may), else hard links (when allowed), else nothing. Probed on one file. */
async function copyMethod(sample: string, worktree: string, reuse: ReuseMode): Promise<'reflink' | 'hardlink' | undefined> {
  const probe = join(worktree, `.envs-probe-${process.pid}`);
  try {
    const reflink = reflinkCommand(sample, probe);
    if (reflink) {
      const result = await run(reflink[0] as string, reflink.slice(1));
      if (result.exitCode === 0) return 'reflink';
    }
    // Hard-linking a tree takes GNU cp's -l; elsewhere (macOS: APFS clones above) a real install follows.
    if (reuse === 'reflink' || process.platform !== 'linux') return undefined;
    await unlink(probe).catch(() => {}); // a failed clone may leave an empty file behind
    return await link(sample, probe).then(
      () => 'hardlink' as const,
      () => undefined,
    );
  } finally {
    await unlink(probe).catch(() => {});
  }
}

/** GNU cp (Linux) clones with --reflink=always; macOS's cp clones (APFS clonefile) with -c. */
function reflinkCommand(from: string, to: string): string[] | undefined {
  if (process.platform === 'linux') return ['cp', '-a', '--reflink=always', from, to];
  if (process.platform === 'darwin') return ['cp', '-c', '-R', '-p', from, to];
  return undefined;
}

async function copyTree(method: 'reflink' | 'hardlink', from: string, to: string, options: InstallOptions): Promise<void> {
  const argv = method === 'reflink' ? (reflinkCommand(from, to) as string[]) : ['cp', '-al', from, to];
  const result = await runLogged(argv[0] as string, argv.slice(1), {
    cwd: options.worktree,
    env: options.baseEnv ?? process.env,
    logFile: options.logFile,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.cancelled) throw new EnvsError('CANCELLED', 'Cancelled while copying node_modules.');
  if (result.exitCode !== 0) throw new Error(result.tail || `${argv[0]} exited ${result.exitCode}`);
}

/**
 * Symbolic links under `dirs` whose target is outside `root`: a node_modules must never point into another
 * checkout (its workspace packages would silently be the other branch's; reference B6).
 */
export async function linksLeaving(root: string, dirs: string[]): Promise<string[]> {
  if (dirs.length === 0) return [];
  const found = await run('find', [...dirs, '-type', 'l']);
  const inside = resolve(root) + sep;
  const leaving: string[] = [];
  for (const path of found.stdout.split('\n').filter(Boolean)) {
    const target = await readlink(path).catch(() => undefined);
    if (target === undefined) continue;
    const resolved = resolve(dirname(path), target);
    if (!resolved.startsWith(inside)) leaving.push(`${path} → ${target}`);
  }
  return leaving;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
