import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { LazyEngine } from './lazy.ts';

const tempDir = useTempDir('engine');
let server: Server | undefined;
const sockets: Socket[] = [];

/** An "engine" that accepts connections and never answers. */
async function hangingEngine(): Promise<string> {
  const path = join(tempDir(), 'hang.sock');
  server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server?.listen(path, resolve));
  return `unix://${path}`;
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const timeouts = { info: 300, read: 300, remove: 300 };

describe('an engine that accepts and never answers', () => {
  it.each([
    ['info', (e: LazyEngine) => e.info()],
    ['containers', (e: LazyEngine) => e.containers({ 'dev.envs.repo': 'r' })],
    ['labeled', (e: LazyEngine) => e.labeled({ 'dev.envs.project': 'p' })],
    ['remove', (e: LazyEngine) => e.remove({ containers: ['c'], volumes: [], networks: [], images: [] })],
  ])('%s fails with DOCKER_UNAVAILABLE at its timeout', async (_name, call) => {
    const engine = new LazyEngine(await hangingEngine(), { env: {}, timeouts });
    const started = Date.now();
    const error = await call(engine).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('DOCKER_UNAVAILABLE');
    expect((error as Error).message).toMatch(/does not answer \(no answer within 0\.3 s\)/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a call ends at once with CANCELLED when the signal fires', async () => {
    const controller = new AbortController();
    const engine = new LazyEngine(await hangingEngine(), { env: {}, signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const error = await engine.containers({ 'dev.envs.repo': 'r' }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a call made after the signal fired is CANCELLED, and the request it still started leaves no unhandled rejection (it ended `envs mcp`)', async () => {
    const controller = new AbortController();
    controller.abort('cancelled by the client');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const engine = new LazyEngine(await hangingEngine(), { env: {}, signal: controller.signal });
      const error = await engine.labeled({ 'dev.envs.project': 'p' }).catch((e: unknown) => e);
      expect(EnvsError.is(error) && error.code).toBe('CANCELLED');
      await new Promise((resolve) => setTimeout(resolve, 200)); // the request underneath rejects meanwhile
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('traces each call with ENVS_DEBUG=1: method, outcome, duration', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const engine = new LazyEngine(await hangingEngine(), { env: { ENVS_DEBUG: '1' }, timeouts });
    await engine.info().catch(() => {});
    vi.restoreAllMocks();
    expect(lines).toEqual([expect.stringMatching(/^envs\[debug\] engine info → no answer within 0\.3 s in \d+ ms\n$/)]);
  });
});

describe('the early ping', () => {
  /** An "engine" that answers /info at once and keeps the connection open (HTTP keep-alive); itself unref'd. */
  async function answeringEngine(): Promise<string> {
    const path = join(tempDir(), 'answer.sock');
    const body = JSON.stringify({ ID: 'engine-1', ServerVersion: '26.1.5' });
    server = createServer((socket) => {
      sockets.push(socket);
      socket.unref();
      socket.on('data', () =>
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
        ),
      );
    });
    await new Promise<void>((resolve) => server?.listen(path, resolve));
    server.unref();
    return `unix://${path}`;
  }

  const holding = () => process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap').length;

  it('answered before anyone waits for it, leaves nothing holding the process once it is read (a refusal exits at once)', async () => {
    const engine = new LazyEngine(await answeringEngine(), { env: {}, timeouts });
    const before = holding();
    engine.askEarly();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the answer is in, the connection back in http's pool
    expect((await engine.info()).id).toBe('engine-1');
    await new Promise((resolve) => setImmediate(resolve));
    // It held the process for http's keep-alive timeout (5 s) after every command that failed after the ping.
    expect(holding()).toBe(before);
  });
});
