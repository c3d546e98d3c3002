import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

describe('an engine that accepts connections and never answers', () => {
  const fx = useRepo(webFiles(), 'hung', async (fx) => {
    await envsOk(fx.repo, fx.home, ['create', 'feat/hung']);
  });
  let server: Server;
  const sockets: Socket[] = [];
  let connections = 0;
  let hang: Record<string, string>;

  beforeAll(async () => {
    const path = join(fx.root, 'hang.sock');
    server = createServer((socket) => {
      connections++;
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    hang = { DOCKER_HOST: `unix://${path}` };
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('list and info answer within seconds: status unknown, never running', async () => {
    const started = Date.now();
    const list = await envsOk(fx.repo, fx.home, ['list', '--json'], hang);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(list.json).toEqual([
      expect.objectContaining({ branch: 'feat/hung', status: 'unknown', problems: [expect.stringMatching(/engine did not answer/)] }),
    ]);
    const info = await envsOk(fx.repo, fx.home, ['info', 'feat/hung', '--json'], hang);
    expect(info.json).toMatchObject({ status: 'unknown' });
    expect((await envsOk(fx.repo, fx.home, ['list'], hang)).stdout).toMatch(/feat\/hung\s+unknown/);
  }, 60_000);

  it('mutating commands refuse within seconds, changing nothing', async () => {
    const before = await snapshot(fx);
    const destroyed = await envs(fx.repo, fx.home, ['destroy', 'feat/hung', '--json'], hang);
    expect(destroyed.exitCode).toBe(1);
    expect(destroyed.json.error).toMatchObject({
      code: 'DOCKER_UNAVAILABLE',
      message: expect.stringMatching(/does not answer \(no answer within 5 s\)/),
    });
    expect(await snapshot(fx)).toEqual(before);
  }, 60_000);

  it('a command that fails before its ping is answered exits at once: the early ping does not hold it', async () => {
    const started = performance.now();
    const down = await envs(fx.repo, fx.home, ['down', 'feat/no-such-env', '--json'], hang);
    expect(down.exitCode).toBe(1);
    expect(down.json.error.code).toBe('ENV_NOT_FOUND');
    expect(performance.now() - started).toBeLessThan(4_000); // the ping's own deadline is 5 s
  }, 60_000);

  it.each([
    ['list', ['list']],
    ['info', ['info', 'feat/hung']],
    ['destroy', ['destroy', 'feat/hung', '--force']],
    ['up', ['up', 'feat/hung']],
  ])(
    'Ctrl-C ends %s at once with exit 130, changing nothing',
    async (_name, args) => {
      const before = await snapshot(fx);
      const seen = connections;
      const child = execa('node', [BIN, ...args], {
        cwd: fx.repo,
        reject: false,
        env: { ENVS_HOME: fx.home, ENVS_POSTGRES_IMAGE: images.postgres, ENVS_PROXY: 'off', ...hang },
      });
      // Interrupt while it waits on the engine.
      for (let i = 0; i < 100 && connections === seen; i++) await new Promise((r) => setTimeout(r, 50));
      expect(connections).toBeGreaterThan(seen);
      const interrupted = Date.now();
      child.kill('SIGINT');
      const result = await child;
      expect(Date.now() - interrupted).toBeLessThan(1_500);
      expect(result.exitCode).toBe(130);
      expect(result.stderr).toMatch(/error: Cancelled \(Ctrl-C\)\./);
      expect(await snapshot(fx)).toEqual(before);
    },
    60_000,
  );

  it('the env is intact for the real engine afterwards', async () => {
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json[0].status).toBe('running');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/hung']);
    await expectNothingLeft(fx.label);
  });
});
