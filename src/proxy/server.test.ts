import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnvRecord } from '../core/record.ts';
import { sampleRecord } from '../testing/record.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { wsConnect, wsEchoServer } from '../testing/ws.ts';
import { type Router, startRouter } from './server.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function writeRecord(home: string, record: EnvRecord): Promise<void> {
  const dir = join(home, 'repos', record.repoId, 'envs');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${record.name}.json`), JSON.stringify(record));
}

/** A GET to the router with a Host header (fetch would replace it with the URL's). */
function send(
  port: number,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; error: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/some/path?q=1', headers: { host, ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, error: res.headers['x-envs-error'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function get(port: number, host: string, headers: Record<string, string> = {}) {
  const res = await send(port, host, { accept: 'application/json', ...headers });
  return { status: res.status, body: JSON.parse(res.text) as any, error: res.error };
}

const web = (published: number) => [{ service: 'web', target: 80, published, host_ip: '127.0.0.1', protocol: 'tcp' }];

describe('router', () => {
  const home = useTempDir('router');
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function setup() {
    let hits = 0;
    const upstream = wsEchoServer('app');
    upstream.on('request', () => {
      hits++;
    });
    const upstreamPort = await listen(upstream);
    cleanups.push(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    const port = await freePort();
    const router: Router = await startRouter({ home: home(), port, token: 't' });
    cleanups.push(() => router.close());
    return { port, upstreamPort, router, hits: () => hits };
  }

  it('forwards with Host kept and X-Forwarded-* added; answers 421 to foreign hosts without contacting the upstream', async () => {
    const { port, upstreamPort, hits } = await setup();
    await writeRecord(home(), sampleRecord({ name: 'feat-a', host: 'feat-a', ports: web(upstreamPort) }));
    const answer = await get(port, `feat-a.localhost:${port}`);
    expect(answer).toMatchObject({
      status: 200,
      body: { name: 'app', host: `feat-a.localhost:${port}`, forwarded: `feat-a.localhost:${port}`, path: '/some/path?q=1' },
    });
    expect(hits()).toBe(1);
    for (const host of ['evil.com', `evil.com:${port}`, `feat-a.localhost.evil.com:${port}`]) {
      expect((await get(port, host)).status).toBe(421);
    }
    expect(hits()).toBe(1);
  });

  it('refuses a request that already went through it (508), and says which service refused (502)', async () => {
    const { port } = await setup();
    const closed = await freePort();
    await writeRecord(home(), sampleRecord({ name: 'feat-a', host: 'feat-a', ports: web(closed) }));
    expect(await get(port, `feat-a.localhost:${port}`, { 'x-envs-hops': '1' })).toMatchObject({ status: 508, error: 'loop' });
    const refused = await get(port, `feat-a.localhost:${port}`);
    expect(refused).toMatchObject({ status: 502, error: 'upstream-failed' });
    expect(refused.body.error.message).toBe(`The service web of env feat-a on port ${closed} refused the connection.`);
  });

  it('follows the records: a new env is found at once, a stopped one says `envs up`, a removed one lists the others (404)', async () => {
    await writeRecord(home(), sampleRecord({ name: 'feat-b', host: 'feat-b', ports: web(1) }));
    const { port, upstreamPort } = await setup();
    expect((await get(port, `feat-a.localhost:${port}`)).status).toBe(404);
    await writeRecord(home(), sampleRecord({ name: 'feat-a', host: 'feat-a', ports: web(upstreamPort) }));
    expect((await get(port, `feat-a.localhost:${port}`)).status).toBe(200);
    await writeRecord(home(), sampleRecord({ name: 'feat-a', host: 'feat-a', ports: web(upstreamPort), status: 'stopped' }));
    await expect.poll(async () => (await get(port, `feat-a.localhost:${port}`)).status, { timeout: 3_000 }).toBe(502);
    const stopped = await get(port, `feat-a.localhost:${port}`);
    expect(stopped.body.error).toMatchObject({ code: 'env-not-running', hint: 'Start it with `envs up feat-a` (in /r).' });
    await rm(join(home(), 'repos', 'r-1', 'envs', 'feat-a.json'));
    await expect.poll(async () => (await get(port, `feat-a.localhost:${port}`)).status, { timeout: 3_000 }).toBe(404);
    const gone = await get(port, `feat-a.localhost:${port}`);
    expect(gone.body.envs).toEqual([expect.objectContaining({ name: 'feat-b', url: `http://feat-b.localhost:${port}` })]);
    const html = await send(port, `nope.localhost:${port}`, { accept: 'text/html' });
    expect(html.text).toContain(`<a href="http://feat-b.localhost:${port}">feat-b</a>`);
  });

  it('relays a WebSocket both ways and closes the client side when the upstream goes', async () => {
    const { port, upstreamPort } = await setup();
    await writeRecord(home(), sampleRecord({ name: 'feat-a', host: 'feat-a', ports: web(upstreamPort) }));
    const ws = await wsConnect(port, `feat-a.localhost:${port}`, '/_next/webpack-hmr');
    ws.send('ping');
    expect(await ws.next()).toBe('app: ping');
    ws.send('x'.repeat(1000));
    expect(await ws.next()).toBe(`app: ${'x'.repeat(1000)}`);
    const closed = new Promise((resolve) => ws.socket.once('close', resolve));
    ws.socket.write(Buffer.from([0x88, 0x80, 0, 0, 0, 0])); // a masked close frame: the echo server ends its socket
    await closed;
    await expect(wsConnect(port, 'evil.com')).rejects.toThrow('not upgraded: 421');
  });

  it('reaches a host process that listens on ::1 only (Vite on recent Node does)', async () => {
    const port = await freePort();
    const upstream = wsEchoServer('dev');
    const devPort = await new Promise<number>((resolve) =>
      upstream.listen(0, '::1', () => resolve((upstream.address() as { port: number }).port)),
    );
    cleanups.push(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    await writeRecord(home(), sampleRecord({ name: 'feat-v', host: 'feat-v', processPorts: { vite: devPort } }));
    const router = await startRouter({ home: home(), port, token: 't' });
    cleanups.push(() => router.close());
    expect(await get(port, `feat-v.localhost:${port}`)).toMatchObject({ status: 200, body: { name: 'dev' } });
  });

  it('serves envs.localhost from the dashboard handler when given, a placeholder otherwise', async () => {
    const port = await freePort();
    const router = await startRouter({ home: home(), port, token: 't', dashboard: (_req, res) => res.end('dash') });
    cleanups.push(() => router.close());
    expect((await send(port, `envs.localhost:${port}`)).text).toBe('dash');
    expect(router.addresses).toEqual(['127.0.0.1', '::1']);
  });
});
