import { existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { peerUid, sameUser } from './peer.ts';

/** The server side of one loopback connection on `host`. */
async function accepted(host: string): Promise<{ socket: Socket; close: () => void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  const got = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect(port, host);
  const socket = await got;
  return {
    socket,
    close: () => {
      client.destroy();
      socket.destroy();
      server.close();
    },
  };
}

/** Whether this machine has ::1 at all (some containers have IPv6 off): decided once, so the test below asserts or is skipped. */
const hasIpv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

describe.runIf(existsSync('/proc/net/tcp'))('peerUid (Linux)', () => {
  it("finds the connecting user's uid in the kernel's socket table", async () => {
    const { socket, close } = await accepted('127.0.0.1');
    try {
      expect(await peerUid(socket)).toBe(process.getuid?.());
      expect(await sameUser()(socket)).toBe(true);
    } finally {
      close();
    }
  });

  it.runIf(existsSync('/proc/net/tcp6') && hasIpv6Loopback)('also over ::1', async () => {
    const { socket, close } = await accepted('::1');
    try {
      expect(await peerUid(socket)).toBe(process.getuid?.());
      expect(await sameUser()(socket)).toBe(true);
    } finally {
      close();
    }
  });
});
