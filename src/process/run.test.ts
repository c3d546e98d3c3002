import { describe, expect, it } from 'vitest';
import { run } from './run.ts';

describe('run', () => {
  it('passes arguments as data, never through a shell', async () => {
    const result = await run('node', ['-e', 'process.stdout.write(process.argv[1])', '$(echo pwned); `id` | cat']);
    expect(result).toMatchObject({ exitCode: 0, stdout: '$(echo pwned); `id` | cat', cancelled: false });
  });

  it('feeds stdin, keeps bytes, reports the exit code and stderr', async () => {
    const echo = await run('node', ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'héllo', bytes: true });
    expect(echo.stdout).toEqual(Buffer.from('héllo'));
    const failing = await run('node', ['-e', 'console.error("nope"); process.exit(3)']);
    expect(failing).toMatchObject({ exitCode: 3, stderr: 'nope\n' });
  });

  it('uses exactly the environment it is given', async () => {
    const result = await run('node', ['-e', 'process.stdout.write(String(process.env.ONLY) + String(process.env.HOME))'], {
      env: { ONLY: 'this', PATH: process.env.PATH },
    });
    expect(result.stdout).toBe('thisundefined');
  });

  it('says when a program is not installed', async () => {
    const result = await run('envs-no-such-program', []);
    expect(result.exitCode).toBeUndefined();
    expect(result.spawnError?.code).toBe('ENOENT');
  });

  it('cancels a running program', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = run('node', ['-e', 'setTimeout(() => {}, 60000)'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const result = await running;
    expect(result.cancelled).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps at most `limit` bytes of each stream, drains the rest and says so', async () => {
    const big = await run('node', ['-e', 'process.stdout.write("x".repeat(200000)); process.stderr.write("ok")'], { limit: 1000 });
    expect(big.exitCode).toBe(0);
    expect(big.stdout).toBe('x'.repeat(1000));
    expect(big.stderr).toBe('ok');
    expect(big.truncated).toBe(true);
    const small = await run('node', ['-e', 'process.stdout.write("hi")'], { limit: 1000 });
    expect(small.stdout).toBe('hi');
    expect(small.truncated).toBeUndefined();
  });

  it('cancels the whole process group of a `group` run, children holding its output included', async () => {
    const controller = new AbortController();
    const started = Date.now();
    // The shell ends on SIGTERM, its background sleep (which ignores it) would hold stdout open for a minute.
    const running = run('sh', ['-c', "trap '' TERM; sleep 60 & echo started; wait"], { signal: controller.signal, group: true });
    setTimeout(() => controller.abort(), 300);
    const result = await running;
    expect(result.cancelled).toBe(true);
    expect(result.stdout).toBe('started\n');
    expect(Date.now() - started).toBeLessThan(KILL_GRACE_S * 1000 + 3_000);
  }, 20_000);
});

const KILL_GRACE_S = 5;
