import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { runBootstrap } from './bootstrap.ts';
import { installDependencies } from './install.ts';

const dir = useTempDir('bootstrap');

function recorder() {
  const events: Array<{ step: string; message: string }> = [];
  return { events, onProgress: (event: { step: string; message: string }) => events.push(event) };
}

describe('runBootstrap', () => {
  it('runs the commands in order, in the worktree, with the env’s variables, each with progress and its time', async () => {
    const progress = recorder();
    const log = join(dir(), 'state', 'bootstrap.log');
    const result = await runBootstrap({
      worktree: dir(),
      commands: ['echo "one $DATABASE_URL" > out.txt', ['sh', '-c', 'echo "two $(pwd)" >> out.txt']],
      env: { DATABASE_URL: 'postgres://db:1234/app' },
      logFile: log,
      ...progress,
    });
    expect(await readFile(join(dir(), 'out.txt'), 'utf8')).toBe(`one postgres://db:1234/app\ntwo ${dir()}\n`);
    expect(result.steps.map((s) => s.command)).toEqual(['echo "one $DATABASE_URL" > out.txt', 'sh -c \'echo "two $(pwd)" >> out.txt\'']);
    expect(progress.events.map((e) => e.message)).toEqual([
      '[1/2] echo "one $DATABASE_URL" > out.txt',
      expect.stringMatching(/^\[1\/2\] echo .*: done in \d+\.\d\d s$/),
      expect.stringMatching(/^\[2\/2\] sh -c/),
      expect.stringMatching(/^\[2\/2\] sh -c .*: done in \d+\.\d\d s$/),
      expect.stringMatching(/^bootstrap done in \d+\.\d\d s \(2 commands\)$/),
    ]);
    expect((await stat(log)).mode & 0o777).toBe(0o600);
  });

  it('stops at the first failure with the tail of its output (secrets masked); later commands do not run', async () => {
    const log = join(dir(), 'bootstrap.log');
    const failing = runBootstrap({
      worktree: dir(),
      commands: ['echo connecting to $DATABASE_URL; echo "relation missing" >&2; exit 3', 'touch never'],
      env: { DATABASE_URL: 'postgres://u:hunter22@db/app' },
      logFile: log,
      redact: ['hunter22'],
    });
    const error = await failing.catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('BOOTSTRAP_FAILED');
    expect((error as EnvsError).message).toMatch(
      /failed \(exit code 3, after .* s\):\nconnecting to postgres:\/\/u:\*\*\*@db\/app\nrelation missing$/,
    );
    expect((error as EnvsError).hint).toContain(log);
    expect(await stat(join(dir(), 'never')).catch(() => undefined)).toBeUndefined();
    expect(await readFile(log, 'utf8')).toContain('hunter22'); // the full log is the user's own (0600)
  });

  it('names the commands by their envs.yaml key: a database seed is not called bootstrap', async () => {
    const events: { step: string; message: string }[] = [];
    await runBootstrap({
      worktree: dir(),
      commands: ['true'],
      env: {},
      logFile: join(dir(), 'seed.log'),
      key: 'database.seed',
      step: 'database',
      onProgress: (e) => events.push(e),
    });
    expect(events.at(-1)).toEqual({
      step: 'database',
      message: expect.stringMatching(/^database\.seed done in \d+\.\d\d s \(1 command\)$/),
    });
    const failed = await runBootstrap({
      worktree: dir(),
      commands: ['exit 4'],
      env: {},
      logFile: join(dir(), 'seed.log'),
      key: 'database.seed',
    }).catch((e: unknown) => e);
    expect((failed as EnvsError).hint).toMatch(/^Command 1 of 1 of `database\.seed` failed; fix it \(or `database\.seed` in envs\.yaml\)/);
  });

  it('is cancelled with its process group', async () => {
    const controller = new AbortController();
    const running = runBootstrap({
      worktree: dir(),
      commands: ['sleep 60'],
      env: {},
      logFile: join(dir(), 'log'),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    await expect(running).rejects.toSatisfy((e: unknown) => EnvsError.is(e) && e.code === 'CANCELLED');
  });
});

describe('installDependencies without a package manager', () => {
  it('is skipped with install: false', async () => {
    await writeFile(join(dir(), 'package.json'), '{}');
    const result = await installDependencies({ worktree: dir(), main: dir(), config: false, logFile: join(dir(), 'log') });
    expect(result).toMatchObject({ method: 'skipped', copied: [] });
  });

  it('runs a command instead when install names one', async () => {
    const progress = recorder();
    const result = await installDependencies({
      worktree: dir(),
      main: dir(),
      config: { command: 'echo installed-by-make > deps.txt' },
      env: { ENVS_BRANCH: 'feat/x' },
      logFile: join(dir(), 'log'),
      ...progress,
    });
    expect(result).toMatchObject({ method: 'command', command: 'echo installed-by-make > deps.txt' });
    expect(await readFile(join(dir(), 'deps.txt'), 'utf8')).toBe('installed-by-make\n');
    expect(progress.events.at(-1)?.message).toMatch(/^dependencies ready in/);
  });

  it('fails with the tail of the command’s output', async () => {
    const failing = installDependencies({
      worktree: dir(),
      main: dir(),
      config: ['sh', '-c', 'echo "E404 no such package" >&2; exit 1'],
      logFile: join(dir(), 'log'),
    });
    await expect(failing).rejects.toSatisfy(
      (e: unknown) => EnvsError.is(e) && e.code === 'INSTALL_FAILED' && /E404 no such package/.test(e.message),
    );
  });

  it('does nothing where there is no package.json', async () => {
    expect(await installDependencies({ worktree: dir(), main: dir(), logFile: join(dir(), 'log') })).toMatchObject({ method: 'none' });
  });
});
