import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a Postgres server says to a connection attempt. */
export type PostgresAnswer = 'ready' | 'starting' | 'down';

/** SQLSTATE 57P03 cannot_connect_now: "the database system is starting up" (or shutting down, or in recovery). */
const CANNOT_CONNECT_NOW = '57P03';

/**
 * One protocol handshake, as `pg_isready` does it: a StartupMessage, then the first message back. An
 * authentication request or any error other than 57P03 means a server is accepting connections; nothing
 * (refused, reset — Docker's proxy accepts and then drops while the container's server is not up) means down.
 * Needs no credentials and no client library.
 */
export function postgresAnswers(host: string, port: number, user: string, database: string, timeoutMs = 1_000): Promise<PostgresAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    let received = Buffer.alloc(0);
    const done = (answer: PostgresAnswer) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done('down'));
    socket.on('error', () => done('down'));
    socket.on('close', () => done('down'));
    socket.on('connect', () => socket.write(startupMessage(user, database)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 5) {
        const type = String.fromCharCode(received[0] as number);
        const length = received.readInt32BE(1);
        if (received.length < 1 + length) return;
        const body = received.subarray(5, 1 + length);
        received = received.subarray(1 + length);
        if (type === 'R') return done('ready');
        if (type === 'E') return done(errorCode(body) === CANNOT_CONNECT_NOW ? 'starting' : 'ready');
        // 'N' (a notice) or anything else: read on.
      }
    });
  });
}

/** Polls until the server accepts connections; false when the deadline passes or the signal fires. */
export async function waitForPostgres(
  target: { host: string; port: number; user: string; database: string },
  deadline: number,
  signal?: AbortSignal,
): Promise<boolean> {
  // Every 25 ms for the first seconds (a refused or dropped connection on loopback costs well under 1 ms;
  // doubling waits overshot a server that comes up in ~0.4 s by up to 0.35 s), then every 250 ms.
  const brisk = Date.now() + 10_000;
  let starting: number | undefined;
  while (Date.now() < deadline && !signal?.aborted) {
    const answer = await postgresAnswers(target.host, target.port, target.user, target.database);
    if (answer === 'ready') return true;
    // A server that answers "starting up" logs each attempt (FATAL 57P03). On a clean data directory that
    // lasts ~20 ms (asked every 25 ms: a line or two); one that replays its WAL for longer is asked every 100 ms.
    if (answer === 'starting') starting ??= Date.now();
    const pause = Date.now() >= brisk ? 250 : starting !== undefined && Date.now() - starting > 250 ? 100 : 25;
    await sleep(pause, undefined, { signal }).catch(() => {});
  }
  return false;
}

function startupMessage(user: string, database: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
  const message = Buffer.alloc(8 + params.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196608, 4); // protocol 3.0
  params.copy(message, 8);
  return message;
}

/** The SQLSTATE ('C' field) of an ErrorResponse body. */
function errorCode(body: Buffer): string | undefined {
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const field = String.fromCharCode(body[offset] as number);
    const end = body.indexOf(0, offset + 1);
    if (end === -1) return undefined;
    if (field === 'C') return body.subarray(offset + 1, end).toString('utf8');
    offset = end + 1;
  }
  return undefined;
}
