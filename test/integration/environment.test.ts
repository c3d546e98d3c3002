import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, type CliResult, envs, envsOk } from '../support/cli.ts';
import { images } from '../support/images.ts';
import { canBind } from '../support/net.ts';
import { type Fixture, makeRepo, useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/** One clear line with a hint, exit 1, no stack trace. */
function expectClearError(result: CliResult, message: RegExp): void {
  expect(result.exitCode, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/^error: [^\n]+\nhint: [^\n]+\n?$/);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/ at .*\.js:\d+|envs hit a bug/);
}

describe('environment problems: one clear line, never a stack trace', () => {
  const fx = useRepo(webFiles(), 'surroundings');

  it('ENVS_HOME is a file', async () => {
    const home = join(fx.root, 'home-file');
    await writeFile(home, 'not a directory');
    for (const args of [['list'], ['plan', 'feat/x'], ['create', 'feat/x'], ['destroy', 'feat/x']]) {
      const result = await envs(fx.repo, home, args);
      expectClearError(result, /envs cannot use its state directory: .*home-file: a file is in the way of a directory\./);
      expect((await envs(fx.repo, home, [...args, '--json'])).json.error.code).toBe('STATE_UNUSABLE');
    }
    expect(await readFile(home, 'utf8')).toBe('not a directory');
    expect(await fx.git('branch', '--list', 'feat/x')).toBe('');
  });

  it('ENVS_HOME is read-only: create refuses before any change, list still reads', async (ctx) => {
    const home = join(fx.root, 'home-ro');
    await mkdir(home);
    let undo: () => Promise<unknown>;
    if (process.getuid?.() === 0) {
      // root writes through permissions: a read-only mount is the only read-only directory it has.
      const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', home], { reject: false });
      if (mounted.exitCode !== 0) ctx.skip();
      undo = () => execa('umount', [home], { reject: false });
    } else {
      await chmod(home, 0o555);
      undo = () => chmod(home, 0o755);
    }
    try {
      const roFx = { ...fx, home } as Fixture;
      const before = await snapshot(roFx);
      const created = await envs(fx.repo, home, ['create', 'feat/ro']);
      expectClearError(created, /envs cannot use its state directory: .*home-ro.*: (the file system is read-only|permission denied)\./);
      expect(await snapshot(roFx)).toEqual(before);
      expect(await fx.git('branch', '--list', 'feat/ro')).toBe('');
      expect((await envsOk(fx.repo, home, ['list', '--json'])).json).toEqual([]);
    } finally {
      await undo();
    }
  });

  it('a bare repository', async () => {
    const bare = join(fx.root, 'bare.git');
    await execa('git', ['clone', '-q', '--bare', fx.repo, bare]);
    for (const args of [['list'], ['create', 'feat/x']]) {
      expectClearError(await envs(bare, fx.home, args), /bare\.git is a bare repository: envs needs a checkout/);
    }
    expect(await execa('git', ['branch', '--list', 'feat/x'], { cwd: bare }).then((r) => r.stdout)).toBe('');
  });

  it('a repository without commits', async () => {
    const empty = join(fx.root, 'empty');
    await mkdir(empty);
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: empty });
    const home = join(fx.root, 'home-empty');
    for (const args of [
      ['plan', 'feat/x'],
      ['create', 'feat/x'],
    ]) {
      const result = await envs(empty, home, args);
      expectClearError(result, /empty has no commits yet: envs makes each env's worktree from a commit\./);
      expect((await envs(empty, home, [...args, '--json'])).json.error.code).toBe('EMPTY_REPO');
    }
    expect((await envsOk(empty, home, ['list'])).stdout).toMatch(/No envs/);
    expect(existsSync(home)).toBe(false);
    expect(await execa('git', ['worktree', 'list'], { cwd: empty }).then((r) => r.stdout.split('\n'))).toHaveLength(1);
  });

  it('a port range of one port is valid', async () => {
    let port = 24_600 + Math.floor(Math.random() * 300);
    while (!(await canBind(port))) port++;
    const plan = await envsOk(fx.repo, fx.home, ['plan', 'feat/one', '--json'], { ENVS_PORT_RANGE: `${port}-${port}` });
    expect(plan.json.ports).toEqual([expect.objectContaining({ published: port })]);
  });
});

describe('temporary files of a killed run', () => {
  const fx = useRepo({ ...webFiles(), '.env': 'SHELL_STYLE_SECRET=s3cr3t-in-dotenv\n' }, 'scratch');

  it('live in $ENVS_HOME/tmp (0700), never the system temp dir, and the next run clears them', async () => {
    const systemTmp = join(fx.root, 'system-tmp');
    await mkdir(systemTmp);
    const pidFile = join(fx.root, 'compose.pid');
    // A Compose that never finishes `config`: the render scratch exists while it waits.
    const fake = join(fx.root, 'fake-compose.mjs');
    await writeFile(
      fake,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetInterval(() => {}, 1000);\n`,
    );
    const child = execa('node', [BIN, 'plan', 'feat/killed'], {
      cwd: fx.repo,
      reject: false,
      env: { ENVS_HOME: fx.home, ENVS_POSTGRES_IMAGE: images.postgres, ENVS_COMPOSE: `node ${fake}`, TMPDIR: systemTmp },
    });
    try {
      for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(pidFile)).toBe(true);
      const tmp = join(fx.home, 'tmp');
      const [scratch, ...more] = await readdir(tmp);
      expect(more).toEqual([]);
      expect(scratch).toMatch(/^[0-9a-f]{4}\.\d+\.render\./);
      expect((await stat(tmp)).mode & 0o777).toBe(0o700);
      expect((await stat(join(tmp, scratch ?? ''))).mode & 0o777).toBe(0o700);
      expect(await readFile(join(tmp, scratch ?? '', '.env'), 'utf8')).toContain('s3cr3t-in-dotenv');
      expect((await readdir(systemTmp)).filter((n) => n.startsWith('envs-'))).toEqual([]);

      child.kill('SIGKILL');
      await child;
      process.kill(Number(await readFile(pidFile, 'utf8')), 'SIGKILL');
      expect(await readdir(tmp)).toEqual([scratch]); // what the killed run left

      await envsOk(fx.repo, fx.home, ['list']);
      expect(await readdir(tmp)).toEqual([]);
      expect((await readdir(systemTmp)).filter((n) => n.startsWith('envs-'))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      if (pid) process.kill(pid, 'SIGKILL');
    }
  });

  it('a finished create leaves nothing in $ENVS_HOME/tmp and no temporary file beside a record', async () => {
    const fresh = await makeRepo(webFiles(), 'tidy');
    try {
      await envsOk(fresh.repo, fresh.home, ['create', 'feat/tidy']);
      expect(await readdir(join(fresh.home, 'tmp'))).toEqual([]);
      const [repoId] = await readdir(join(fresh.home, 'repos'));
      expect((await readdir(join(fresh.home, 'repos', repoId ?? '', 'envs'))).filter((n) => n.includes('.tmp'))).toEqual([]);
      await envsOk(fresh.repo, fresh.home, ['destroy', 'feat/tidy']);
    } finally {
      const { sweep } = await import('../support/docker.ts');
      await sweep(fresh.label);
      await fresh.cleanup();
    }
  });
});
