import { statSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { wsConnect } from '../../src/testing/ws.ts';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { alive } from '../support/proc.ts';
import { makeRepo, useRepo } from '../support/repo.ts';

const WS_HELPER = fileURLToPath(new URL('../../src/testing/ws.ts', import.meta.url));

/** A busybox httpd answering `text`. */
const web = (text: string) => `services:
  web:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["8080:80"]
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** GET through the router on 127.0.0.1 with a Host header (Node resolves no *.localhost name; fetch would replace Host). */
function viaRouter(port: number, host: string, accept = 'application/json'): Promise<{ status: number; text: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host, accept }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: text.trim(), error: res.headers['x-envs-error'] as string | undefined }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether anything accepts a TCP connection at address:port. */
function reachable(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('preview URLs through the router (real engine, real sockets)', () => {
  const tmux = `envs-test-proxy-${process.pid}`;
  const fx = useRepo(
    {
      'compose.yaml': web('main'),
      // A host process with a port: the preview target (a dev server); it echoes WebSocket frames.
      'ws-echo.mjs': `import { wsEchoServer } from ${JSON.stringify(WS_HELPER)};\nwsEchoServer(process.env.ENVS_BRANCH).listen(Number(process.env.PORT), '127.0.0.1');\n`,
      'envs.yaml': 'processes:\n  app:\n    command: node ws-echo.mjs\n    port: 4100\n',
    },
    'proxied',
    async (fx) => {
      for (const name of ['alpha', 'bravo']) {
        await fx.git('switch', '-q', '-c', `feat/${name}`, 'main');
        await fx.write({ 'compose.yaml': web(`web-of-${name}`) });
        await fx.commit(`${name} serves its own page`);
      }
      await fx.git('switch', '-q', 'main');
    },
  );
  let port = 0;
  const env = () => ({ ENVS_PROXY: 'on', ENVS_PROXY_PORT: String(port), ENVS_TMUX_SOCKET: tmux });
  afterAll(async () => {
    if (fx.home) await envs(fx.repo, fx.home, ['proxy', 'stop'], env());
    await execa('tmux', ['-L', tmux, 'kill-server'], { reject: false });
  });

  it('routes two envs by Host, their services under them, WebSockets both ways; refuses foreign hosts; loopback only; follows down and destroy', async () => {
    port = await freePort();
    const alpha = (await envsOk(fx.repo, fx.home, ['create', 'feat/alpha', '--json'], env())).json;
    const bravo = (await envsOk(fx.repo, fx.home, ['create', 'feat/bravo', '--json'], env())).json;
    // The URLs are the router's, the preview (the host process) on the env's own name; create waited for it.
    expect(alpha.urls).toEqual({ app: `http://${alpha.name}.localhost:${port}`, web: `http://web.${alpha.name}.localhost:${port}` });
    expect(alpha.direct_urls.web).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const view of [alpha, bravo]) expect(view.warnings.join('\n')).not.toMatch(/did not answer|router/);

    const status = (await envsOk(fx.repo, fx.home, ['proxy', 'status', '--json'], env())).json;
    expect(status).toMatchObject({ running: true, port, responding: true });
    expect(status.routes.map((r: any) => r.url).sort()).toEqual([...Object.values(alpha.urls), ...Object.values(bravo.urls)].sort());
    const files = join(fx.home, 'proxy');
    for (const file of ['router.pid', 'router.log', 'token']) expect((statSync(join(files, file)).mode & 0o777).toString(8)).toBe('600');

    // Each env's Host reaches that env: its dev server (Host kept, X-Forwarded-Host added) and its web service.
    for (const [view, name] of [
      [alpha, 'alpha'],
      [bravo, 'bravo'],
    ] as const) {
      const host = `${view.name}.localhost:${port}`;
      const app = await viaRouter(port, host);
      expect(app.status).toBe(200);
      expect(JSON.parse(app.text)).toEqual({ name: `feat/${name}`, host, forwarded: host, path: '/' });
      expect(await viaRouter(port, `web.${host}`)).toMatchObject({ status: 200, text: `web-of-${name}` });
    }

    const ws = await wsConnect(port, `${alpha.name}.localhost:${port}`, '/_next/webpack-hmr');
    ws.send('ping');
    expect(await ws.next()).toBe('feat/alpha: ping');
    ws.send('pong');
    expect(await ws.next()).toBe('feat/alpha: pong');
    ws.close();

    expect(await viaRouter(port, 'evil.com')).toMatchObject({ status: 421, error: 'foreign-host' });
    expect(await viaRouter(port, `evil.com:${port}`)).toMatchObject({ status: 421 });

    // Reachable on loopback, on no other address of this machine.
    expect(await reachable('127.0.0.1', port)).toBe(true);
    expect(await reachable('::1', port)).toBe(true);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => (a?.family === 'IPv6' && a.scopeid ? `${a.address}%${a.scopeid}` : (a?.address as string)));
    expect(others.length).toBeGreaterThan(0);
    for (const address of others) expect(await reachable(address, port), address).toBe(false);

    // Stopped: 502 that says how to start it; destroyed: 404 listing the env still there.
    await envsOk(fx.repo, fx.home, ['down', 'feat/bravo'], env());
    const stopped = await viaRouter(port, `${bravo.name}.localhost:${port}`);
    expect(stopped).toMatchObject({ status: 502, error: 'env-not-running' });
    expect(JSON.parse(stopped.text).error.hint).toContain(`envs up ${bravo.name}`);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/alpha'], env());
    const gone = await viaRouter(port, `${alpha.name}.localhost:${port}`);
    expect(gone).toMatchObject({ status: 404, error: 'unknown-host' });
    expect(JSON.parse(gone.text).envs).toEqual([expect.objectContaining({ name: bravo.name, status: 'stopped' })]);
    const html = await viaRouter(port, `${alpha.name}.localhost:${port}`, 'text/html');
    expect(html.text).toContain(`<a href="http://${bravo.name}.localhost:${port}">${bravo.name}</a>`);

    // up: the route answers again (up waited for it), and `open` prints the preview URL.
    await envsOk(fx.repo, fx.home, ['up', 'feat/bravo'], env());
    expect((await viaRouter(port, `web.${bravo.name}.localhost:${port}`)).text).toBe('web-of-bravo');
    expect((await envsOk(fx.repo, fx.home, ['open', 'feat/bravo'], env())).stdout).toBe(`http://${bravo.name}.localhost:${port}`);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/bravo'], env());

    // stop leaves no process.
    const { pid } = JSON.parse(await readFile(join(files, 'router.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    expect((await envsOk(fx.repo, fx.home, ['proxy', 'stop', '--json'], env())).json).toEqual({ stopped: true, pid });
    expect(alive(pid)).toBe(false);
    expect(await reachable('127.0.0.1', port)).toBe(false);
    expect((await envsOk(fx.repo, fx.home, ['proxy', 'status', '--json'], env())).json.running).toBe(false);
    await expectNothingLeft(fx.label);
  });

  it('the router ends by itself when its ENVS_HOME is deleted; stop never signals a process that is not it', async () => {
    const other = await makeRepo({ 'compose.yaml': web('x') }, 'lonely');
    const otherPort = await freePort();
    const e = { ENVS_PROXY: 'on', ENVS_PROXY_PORT: String(otherPort) };
    const started = (await envsOk(other.repo, other.home, ['proxy', 'start', '--json'], e)).json;
    expect(started).toMatchObject({ started: true, running: true, port: otherPort });
    // A pid file naming another live process (this test's) is not obeyed.
    const pidFile = join(other.home, 'proxy', 'router.pid');
    const real = await readFile(pidFile, 'utf8');
    await writeFile(pidFile, JSON.stringify({ ...JSON.parse(real), pid: process.pid }));
    expect((await envsOk(other.repo, other.home, ['proxy', 'stop', '--json'], e)).json).toEqual({ stopped: false });
    expect(alive(process.pid)).toBe(true);
    // …and the router, seeing its pid file name another process, ended too.
    await expect.poll(() => alive(started.pid), { timeout: 5_000 }).toBe(false);

    const again = (await envsOk(other.repo, other.home, ['proxy', 'start', '--json'], e)).json;
    expect(alive(again.pid)).toBe(true);
    await rm(other.home, { recursive: true, force: true });
    await expect.poll(() => alive(again.pid), { timeout: 5_000 }).toBe(false);
    await other.cleanup();
  });
});
