import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortProbe, Protocol } from '../core/deps.ts';

/** Families where "cannot bind here" means "this machine has no such address", not "taken". */
const NO_ADDRESS = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

/**
 * A port is free when we can bind it on 127.0.0.1 and on ::1. Both are needed: a listener on one
 * family is invisible to a probe on the other, and `localhost` may resolve to either.
 */
export class LoopbackProbe implements PortProbe {
  async isFree(port: number, protocol: Protocol): Promise<boolean> {
    for (const host of ['127.0.0.1', '::1']) {
      const result = protocol === 'udp' ? await bindUdp(port, host) : await bindTcp(port, host);
      if (result === 'taken') return false;
    }
    return true;
  }
}

type Outcome = 'free' | 'taken' | 'no-address';

function classify(error: NodeJS.ErrnoException): Outcome {
  return NO_ADDRESS.has(error.code ?? '') ? 'no-address' : 'taken';
}

function bindTcp(port: number, host: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(classify(error)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

function bindUdp(port: number, host: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    socket.unref();
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      resolve(classify(error));
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve('free')));
  });
}
