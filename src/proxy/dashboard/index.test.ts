import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Fleet, FleetEnv } from '../../core/fleet.ts';
import type { Cli } from './actions.ts';
import { createDashboard } from './index.ts';

const TOKEN = 'tok-123';
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function env(over: Partial<FleetEnv> = {}): FleetEnv {
  return {
    name: 'feat-x-1a2b3c',
    branch: 'feat/x',
    repo: '/code/app',
    repo_id: 'app-1234',
    worktree: '/w/feat-x',
    project: 'envs-app-1234-feat-x-1a2b3c',
    status: 'running',
    ports: [],
    urls: { web: 'http://feat-x-1a2b3c.localhost:1355' },
    direct_urls: { web: 'http://127.0.0.1:21000/' },
    env: {},
    services: ['web'],
    problems: [],
    warnings: [],
    base: { ref: 'main', commit: 'abc' },
    compose_file: '/s/compose.yaml',
    created_at: '',
    updated_at: '',
    ...over,
  };
}

/** The dashboard on a plain server; `answer` is what the fake CLI says. */
async function start(answer: { exitCode: number; stdout: string; stderr?: string } = { exitCode: 0, stdout: '{}' }) {
  const calls: string[][] = [];
  const cli: Cli = async (args) => {
    calls.push(args);
    return { stderr: '', ...answer };
  };
  const fleet: Fleet = { envs: [env()], engine_reachable: true, generated_at: new Date(0).toISOString() };
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  server.on('request', createDashboard({ home: '/h', port, token: TOKEN, cliPath: '/bin/envs.js' }, { readFleet: async () => fleet, cli }));
  const origin = `http://envs.localhost:${port}`;
  const request = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {}) =>
    send(port, path, { ...init, headers: { host: init.host ?? `envs.localhost:${port}`, ...init.headers } });
  return { calls, port, origin, request };
}

/** fetch will not send another Host: node:http does (as a browser resolving envs.localhost would). */
function send(port: number, path: string, init: { method?: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: Headers; text(): Promise<string>; json(): Promise<any> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers, text: async () => text, json: async () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('dashboard handler', () => {
  it('answers only its own Host name', async () => {
    const { request } = await start();
    expect((await request('/', { host: 'evil.com' })).status).toBe(421);
    expect((await request('/api/envs', { host: 'feat-x.localhost' })).status).toBe(421);
  });

  it('serves one self-contained page with the token and a nonce CSP, for the list and for an env', async () => {
    const { request } = await start();
    for (const path of ['/', '/env/app-1234/feat-x-1a2b3c']) {
      const res = await request(path);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain(`<meta name="envs-token" content="${TOKEN}">`);
      const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
      expect(nonce).toBeTruthy();
      expect(html).toContain(`<script nonce="${nonce}">`);
      // The inline script at least parses (the browser test runs it).
      const script = /<script nonce="[^"]+">([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
      expect(() => new Function(script)).not.toThrow();
      // No external asset: nothing is loaded from another URL.
      expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    }
    const api = await (await request('/api/envs')).json();
    expect(api).toMatchObject({ envs: [{ name: 'feat-x-1a2b3c', urls: { web: 'http://feat-x-1a2b3c.localhost:1355' } }], pending: {} });
  });

  it('runs the CLI for an action from its own origin with the token, naming the env exactly, never --force', async () => {
    const { calls, origin, request } = await start();
    const headers = { origin, 'x-envs-token': TOKEN, 'content-type': 'application/json' };
    const down = await request('/api/envs/app-1234/feat-x-1a2b3c/down', { method: 'POST', headers, body: '{}' });
    expect(down.status).toBe(200);
    const destroy = await request('/api/envs/app-1234/feat-x-1a2b3c/destroy', {
      method: 'POST',
      headers,
      body: JSON.stringify({ confirm: 'feat-x-1a2b3c' }),
    });
    expect(destroy.status).toBe(200);
    expect(calls).toEqual([
      ['-C', '/code/app', 'down', 'name:feat-x-1a2b3c', '--json'],
      ['-C', '/code/app', 'destroy', 'name:feat-x-1a2b3c', '--json'],
    ]);
  });

  it('refuses, running nothing: no Origin, another Origin, no token, a wrong token, destroy without confirmation, GET', async () => {
    const { calls, origin, request } = await start();
    const path = '/api/envs/app-1234/feat-x-1a2b3c/destroy';
    const body = JSON.stringify({ confirm: 'feat-x-1a2b3c' });
    const refused = [
      await request(path, { method: 'POST', headers: { 'x-envs-token': TOKEN, 'sec-fetch-site': 'same-origin' }, body }),
      await request(path, { method: 'POST', headers: { origin: 'http://evil.localhost:1355', 'x-envs-token': TOKEN }, body }),
      await request(path, { method: 'POST', headers: { origin }, body }),
      await request(path, { method: 'POST', headers: { origin, 'x-envs-token': 'guess' }, body }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect(await refused[0]?.json()).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const unconfirmed = await request(path, { method: 'POST', headers: { origin, 'x-envs-token': TOKEN }, body: '{"confirm":"other"}' });
    expect(unconfirmed.status).toBe(400);
    expect((await request(path)).status).toBe(405);
    expect((await request('/api/envs/app-1234/feat-x-1a2b3c/logs')).status).toBe(403);
    expect((await request('/api/envs/app-1234/no-such/down', { method: 'POST', headers: { origin, 'x-envs-token': TOKEN } })).status).toBe(
      404,
    );
    expect(calls).toEqual([]);
  });

  it("passes the CLI's refusal through with its message and hint", async () => {
    const error = { code: 'DIRTY_WORKTREE', message: 'feat/x has work that destroy would lose: notes.txt', hint: 'Commit it, or --force.' };
    const { origin, request } = await start({ exitCode: 1, stdout: JSON.stringify({ error }) });
    const res = await request('/api/envs/app-1234/feat-x-1a2b3c/destroy', {
      method: 'POST',
      headers: { origin, 'x-envs-token': TOKEN },
      body: JSON.stringify({ confirm: 'feat-x-1a2b3c' }),
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ ok: false, error });
  });

  it('gives the logs to a request with the token', async () => {
    const { calls, request } = await start({ exitCode: 0, stdout: '\x1b[2Kweb | \x1b[32mhello\x1b[0m\n' });
    const res = await request('/api/envs/app-1234/feat-x-1a2b3c/logs', { headers: { 'x-envs-token': TOKEN } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('web | hello\n');
    expect(calls).toEqual([['-C', '/code/app', 'logs', 'name:feat-x-1a2b3c', '-n', '200', '--json']]);
  });
});
