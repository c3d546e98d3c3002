import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LoopbackProbe } from './probe.ts';

function listen(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined)); // e.g. no IPv6 on this machine
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

async function freePort(): Promise<number> {
  const server = (await listen(0, '127.0.0.1')) as Server;
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('LoopbackProbe', () => {
  const probe = new LoopbackProbe();

  it('says free when nobody listens', async () => {
    expect(await probe.isFree(await freePort(), 'tcp')).toBe(true);
  });

  it('sees a listener on 127.0.0.1', async () => {
    const port = await freePort();
    const server = (await listen(port, '127.0.0.1')) as Server;
    expect(await probe.isFree(port, 'tcp')).toBe(false);
    await new Promise((r) => server.close(r));
  });

  it('sees a listener on ::1 only, which a probe of 127.0.0.1 alone would miss', async (ctx) => {
    const port = await freePort();
    const server = await listen(port, '::1');
    if (!server) return ctx.skip();
    expect(await probe.isFree(port, 'tcp')).toBe(false);
    await new Promise((r) => server.close(r));
  });
});
