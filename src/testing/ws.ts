/**
 * A minimal WebSocket (RFC 6455) for tests: an echo server on node:http's `upgrade` and a client, text frames
 * only, enough to prove a relay carries the handshake and frames both ways. Not for production use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function encodeFrame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x81, length]) : Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  if (length > 0xffff) throw new Error('test frames stay under 64 KiB');
  if (!masked) return Buffer.concat([head, payload]);
  head[1] = (head[1] as number) | 0x80;
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([head, mask, body]);
}

/** Splits complete frames off a buffer: their texts (close frames as null) and what is left. */
export function decodeFrames(buffer: Buffer): { frames: (string | null)[]; rest: Buffer } {
  const frames: (string | null)[] = [];
  let at = 0;
  while (buffer.length - at >= 2) {
    const opcode = (buffer[at] as number) & 0x0f;
    const masked = ((buffer[at + 1] as number) & 0x80) !== 0;
    let length = (buffer[at + 1] as number) & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buffer.length < offset + 2) break;
      length = buffer.readUInt16BE(offset);
      offset += 2;
    }
    const maskAt = offset;
    if (masked) offset += 4;
    if (buffer.length < offset + length) break;
    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (buffer[maskAt + (i % 4)] as number);
    frames.push(opcode === 8 ? null : payload.toString());
    at = offset + length;
  }
  return { frames, rest: buffer.subarray(at) };
}

/** An HTTP server that answers GET with `name` and echoes every WebSocket text frame as `<name>: <text>`. */
export function wsEchoServer(name: string): Server {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, host: req.headers.host, forwarded: req.headers['x-forwarded-host'], path: req.url }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const key = req.headers['sec-websocket-key'];
    const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = decodeFrames(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const text of frames) {
        if (text === null) socket.end();
        else socket.write(encodeFrame(`${name}: ${text}`, false));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return server;
}

export interface WsClient {
  send(text: string): void;
  /** The next text frame from the server. */
  next(): Promise<string>;
  socket: Socket;
  close(): void;
}

/** Opens a WebSocket to 127.0.0.1:<port> with the given Host header; rejects with the status when not upgraded. */
export function wsConnect(port: number, host: string, path = '/'): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.on('response', (res) => reject(new Error(`not upgraded: ${res.statusCode}`)));
    req.on('error', reject);
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      let pending = Buffer.from(head);
      const queue: string[] = [];
      const waiters: ((text: string) => void)[] = [];
      const take = () => {
        const { frames, rest } = decodeFrames(pending);
        pending = Buffer.from(rest);
        for (const text of frames) if (text !== null) queue.push(text);
        while (queue.length > 0 && waiters.length > 0) (waiters.shift() as (t: string) => void)(queue.shift() as string);
      };
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        take();
      });
      take();
      resolve({
        socket,
        send: (text) => socket.write(encodeFrame(text, true)),
        next: () =>
          new Promise((done, fail) => {
            waiters.push(done);
            take();
            socket.once('close', () => fail(new Error('closed')));
          }),
        close: () => socket.destroy(),
      });
    });
    req.end();
  });
}
