import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InstallOptions, installDependencies, linksLeaving } from '../../src/bootstrap/install.ts';

/**
 * Real package managers against the npm registry, on fixtures small enough to install in seconds:
 * pnpm (a two-package workspace) and npm (a workspace whose package needs its own node_modules).
 */

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd })).stdout;
}

async function makeRepo(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'config', 'user.email', 'test@envs.dev');
  await git(dir, 'config', 'user.name', 'envs tests');
  return dir;
}

async function commitAll(dir: string, message: string): Promise<void> {
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', message);
}

/** Every node_modules directory directly under the worktree root and its packages. */
async function nodeModulesDirs(worktree: string): Promise<string[]> {
  const found = [join(worktree, 'node_modules')];
  for (const pkg of await readdir(join(worktree, 'packages')).catch(() => [] as string[])) {
    const dir = join(worktree, 'packages', pkg, 'node_modules');
    if (await stat(dir).catch(() => undefined)) found.push(dir);
  }
  return found;
}

/** What a new env's worktree must look like after its install, whatever the method. */
async function expectClean(worktree: string): Promise<void> {
  expect(await git(worktree, 'status', '--porcelain')).toBe('');
  expect(await linksLeaving(worktree, await nodeModulesDirs(worktree))).toEqual([]);
  expect((await readdir(worktree)).filter((name) => name.includes('.envs-'))).toEqual([]);
}

let root = '';
beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'envs-it-install-')));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pnpm workspace', () => {
  let main = '';
  let store = '';
  const env = () => ({ ...process.env, npm_config_store_dir: store });
  const install = (worktree: string, more: Record<string, string> = {}, config?: InstallOptions['config']) =>
    installDependencies({
      worktree,
      main,
      baseEnv: { ...env(), ...more },
      logFile: join(root, 'logs', `${worktree.split('/').pop()}.log`),
      ...(config !== undefined ? { config } : {}),
    });

  beforeAll(async () => {
    store = join(root, 'pnpm-store');
    main = await makeRepo(join(root, 'pnpm-app'), {
      'package.json': JSON.stringify({ name: 'fx', private: true }),
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
      'packages/a/package.json': JSON.stringify({ name: '@fx/a', version: '1.0.0', dependencies: { ms: '2.1.3', '@fx/b': 'workspace:*' } }),
      'packages/b/package.json': JSON.stringify({ name: '@fx/b', version: '1.0.0', dependencies: { picocolors: '1.1.1' } }),
      'packages/b/index.js': 'module.exports = "b from " + __dirname;\n',
      '.gitignore': 'node_modules\n',
    });
    await execa('pnpm', ['install'], { cwd: main, env: env() });
    await commitAll(main, 'workspace with its lockfile');
    for (const name of ['wt1', 'wt2']) await git(main, 'worktree', 'add', '-q', '-b', name, join(root, name));
  });

  it('copies the main checkout’s node_modules when the lockfile is the same (bin shims retargeted), else installs from the store', async () => {
    const copied = await install(join(root, 'wt1'));
    expect(copied.reason ?? '').toBe('');
    expect(copied).toMatchObject({
      method: expect.stringMatching(/^(hardlink|reflink)$/),
      manager: 'pnpm',
      copied: ['.', 'packages/a', 'packages/b'],
    });
    // A user whose pnpm config turns the global virtual store on still gets a node_modules of the worktree's own.
    const installed = await install(join(root, 'wt2'), { npm_config_enable_global_virtual_store: 'true' }, { reuse: 'never' });
    expect(installed).toMatchObject({ method: 'pnpm', manager: 'pnpm', env: {} });
    expect(installed.command).toMatch(/^pnpm install --frozen-lockfile --prefer-offline/);
    for (const name of ['wt1', 'wt2']) {
      const worktree = join(root, name);
      await expectClean(worktree);
      // @fx/b resolves to this worktree's own package, never another checkout's.
      const b = await execa('node', ['-p', 'require("@fx/b") + " " + require("ms")("2h")'], { cwd: join(worktree, 'packages', 'a') });
      expect(b.stdout).toBe(`b from ${join(worktree, 'packages', 'b')} 7200000`);
      // Bin shims name this worktree, never the main checkout.
      for (const shim of await shims(worktree)) expect(await readFile(shim, 'utf8')).not.toContain(`${main}/`);
    }
    // The main checkout's shims were not touched through the shared hard links.
    for (const shim of await shims(main)) expect(await readFile(shim, 'utf8')).not.toContain(join(root, 'wt1'));
    // The installed env took every package from the store: nothing downloaded.
    expect(await readFile(join(root, 'logs', 'wt2.log'), 'utf8')).toMatch(/reused \d+, downloaded 0/);
  });

  it('puts the store on the worktree’s filesystem when pnpm’s is on another one', async () => {
    const shm = await stat('/dev/shm').catch(() => undefined);
    if (!shm || shm.dev === (await stat(root)).dev) return; // no second filesystem on this machine
    const elsewhere = await mkdtemp('/dev/shm/envs-it-');
    try {
      const worktree = join(elsewhere, 'wt3');
      await git(main, 'worktree', 'add', '-q', '-b', 'wt3', worktree);
      const events: string[] = [];
      const result = await installDependencies({
        worktree,
        main,
        baseEnv: env(),
        logFile: join(root, 'logs', 'wt3.log'),
        onProgress: (e) => events.push(e.message),
      });
      expect(result.env).toEqual({ npm_config_store_dir: join(elsewhere, '.pnpm-store') });
      expect(events.join('\n')).toMatch(/on another filesystem than the worktree/);
      expect(await readFile(join(worktree, 'node_modules', '.modules.yaml'), 'utf8')).toContain(join(elsewhere, '.pnpm-store'));
      await expectClean(worktree);
      await git(main, 'worktree', 'remove', '--force', worktree);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});

/** An npm workspace whose package pins another ms than the root's, so it has a node_modules of its own. */
const npmFiles = {
  'package.json': JSON.stringify({ name: 'npmfx', private: true, workspaces: ['packages/*'], dependencies: { ms: '2.1.3' } }),
  'packages/a/package.json': JSON.stringify({ name: 'a', version: '1.0.0', dependencies: { ms: '2.0.0' } }),
  '.gitignore': 'node_modules\n',
};

async function npmRepo(dir: string): Promise<string> {
  const main = await makeRepo(dir, npmFiles);
  await execa('npm', ['install', '--no-audit', '--no-fund'], { cwd: main });
  await commitAll(main, 'npm workspace with its lockfile');
  // A cache in the main checkout's node_modules must not follow the copy.
  await mkdir(join(main, 'node_modules', '.cache', 'tool'), { recursive: true });
  await writeFile(join(main, 'node_modules', '.cache', 'tool', 'state'), 'main only');
  return main;
}

async function versions(worktree: string): Promise<string[]> {
  const read = async (cwd: string) => (await execa('node', ['-p', 'require("ms/package.json").version'], { cwd })).stdout;
  return [await read(worktree), await read(join(worktree, 'packages', 'a'))];
}

describe('npm workspace', () => {
  let main = '';
  const install = (worktree: string, config?: { reuse: 'never' }) =>
    installDependencies({ worktree, main, ...(config ? { config } : {}), logFile: join(root, 'logs', 'npm.log') });

  beforeAll(async () => {
    main = await npmRepo(join(root, 'npm-app'));
  });

  it('copies the main checkout’s node_modules (every workspace package’s) when the lockfile is the same', async () => {
    const worktree = join(root, 'npm-same');
    await git(main, 'worktree', 'add', '-q', '-b', 'npm-same', worktree);
    const result = await install(worktree);
    expect(result.reason).toBeUndefined();
    expect(['reflink', 'hardlink']).toContain(result.method);
    expect(result.copied).toEqual(['.', 'packages/a']);
    expect(await versions(worktree)).toEqual(['2.1.3', '2.0.0']);
    // The workspace link points at this worktree's package.
    expect(await realpath(join(worktree, 'node_modules', 'a'))).toBe(join(worktree, 'packages', 'a'));
    expect(await stat(join(worktree, 'node_modules', '.cache')).catch(() => undefined)).toBeUndefined();
    const file = 'node_modules/ms/index.js';
    const [ours, theirs] = await Promise.all([stat(join(worktree, file)), stat(join(main, file))]);
    // Hard links share the inode; a copy-on-write copy is a file of its own.
    expect(ours.ino === theirs.ino).toBe(result.method === 'hardlink');
    await expectClean(worktree);
  });

  it('installs for real when the branch changed the lockfile, or when told never to copy', async () => {
    const worktree = join(root, 'npm-changed');
    await git(main, 'worktree', 'add', '-q', '-b', 'npm-changed', worktree);
    await execa('npm', ['install', 'picocolors@1.1.1', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: worktree });
    await commitAll(worktree, 'a new dependency');
    const result = await install(worktree);
    expect(result).toMatchObject({
      method: 'install',
      manager: 'npm',
      reason: 'package-lock.json differs from the main checkout’s'.replace('’', "'"),
    });
    expect(result.command).toMatch(/^npm ci /);
    expect(await stat(join(worktree, 'node_modules', 'picocolors', 'package.json'))).toBeTruthy();
    await expectClean(worktree);

    const never = join(root, 'npm-never');
    await git(main, 'worktree', 'add', '-q', '-b', 'npm-never', never);
    expect(await install(never, { reuse: 'never' })).toMatchObject({ method: 'install', reason: 'install.reuse is never' });
    expect(await versions(never)).toEqual(['2.1.3', '2.0.0']);
    await expectClean(never);
  });

  // Copy-on-write needs a filesystem that has it (XFS with reflink, Btrfs, APFS): point this at one to run it.
  it.skipIf(!process.env.ENVS_TEST_REFLINK_DIR)('copies copy-on-write where the filesystem can', async () => {
    const dir = await mkdtemp(join(process.env.ENVS_TEST_REFLINK_DIR as string, 'envs-it-'));
    try {
      const reflinkMain = await npmRepo(join(dir, 'app'));
      const worktree = join(dir, 'wt');
      await git(reflinkMain, 'worktree', 'add', '-q', '-b', 'wt', worktree);
      const result = await installDependencies({ worktree, main: reflinkMain, logFile: join(dir, 'log') });
      expect(result.method).toBe('reflink');
      expect(await versions(worktree)).toEqual(['2.1.3', '2.0.0']);
      await expectClean(worktree);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Every bin shim under a checkout's node_modules (pnpm writes them with absolute paths). */
async function shims(checkout: string): Promise<string[]> {
  const { stdout } = await execa('find', [join(checkout, 'node_modules'), '-path', '*/.bin/*', '-type', 'f']);
  return stdout.split('\n').filter(Boolean);
}
