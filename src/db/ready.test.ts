import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresAnswers, waitForPostgres } from './ready.ts';

/** An ErrorResponse with SQLSTATE `code`, or an AuthenticationOk. */
function message(kind: { error: string } | 'auth-ok'): Buffer {
  if (kind === 'auth-ok') return Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
  const body = Buffer.from(`SFATAL\0C${kind.error}\0Mno\0\0`);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server on 127.0.0.1 that answers each connection's startup message with `answer(n)` (n counts from 0). */
async function server(answer: (n: number) => Buffer | 'hang-up'): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const s = createServer((socket: Socket) => {
    const reply = answer(n++);
    socket.once('data', () => (reply === 'hang-up' ? socket.destroy() : socket.end(reply)));
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { port: (s.address() as { port: number }).port, connections: () => n };
}

describe('postgresAnswers', () => {
  it('reads an authentication request, "starting up" (57P03), another error, and a hang-up', async () => {
    const ask = async (reply: Buffer | 'hang-up') => postgresAnswers('127.0.0.1', (await server(() => reply)).port, 'postgres', 'app');
    expect(await ask(message('auth-ok'))).toBe('ready');
    expect(await ask(message({ error: '57P03' }))).toBe('starting');
    // A server that refuses this user or database is up all the same.
    expect(await ask(message({ error: '28P01' }))).toBe('ready');
    expect(await ask('hang-up')).toBe('down');
  });
});

describe('waitForPostgres', () => {
  it('asks again through "starting up" until the server accepts connections', async () => {
    const pg = await server((n) => (n < 3 ? message({ error: '57P03' }) : message('auth-ok')));
    expect(await waitForPostgres({ host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'app' }, Date.now() + 5_000)).toBe(true);
    expect(pg.connections()).toBe(4);
  });

  it('gives up at the deadline, or when the signal fires', async () => {
    const pg = await server(() => 'hang-up');
    const target = { host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'app' };
    expect(await waitForPostgres(target, Date.now() + 200)).toBe(false);
    expect(await waitForPostgres(target, Date.now() + 60_000, AbortSignal.timeout(100))).toBe(false);
  });
});
