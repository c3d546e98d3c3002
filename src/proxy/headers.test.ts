import { describe, expect, it } from 'vitest';
import { downstreamHeaders, HOP_HEADER, isLoop, upstreamHeaders } from './headers.ts';

describe('upstreamHeaders', () => {
  it('keeps Host and the end-to-end headers, adds X-Forwarded-*, drops hop-by-hop ones and those Connection names', () => {
    const out = upstreamHeaders(
      {
        host: 'feat-x.localhost:1355',
        cookie: 'a=1',
        origin: 'http://feat-x.localhost:1355',
        connection: 'keep-alive, x-secret-hop',
        'keep-alive': 'timeout=5',
        'x-secret-hop': 'drop me',
        'transfer-encoding': 'chunked',
        'proxy-authorization': 'Basic x',
      },
      { remoteAddress: '::ffff:127.0.0.1', port: 1355 },
    );
    expect(out).toEqual({
      host: 'feat-x.localhost:1355',
      cookie: 'a=1',
      origin: 'http://feat-x.localhost:1355',
      'x-forwarded-host': 'feat-x.localhost:1355',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '1355',
      'x-forwarded-for': '127.0.0.1',
      [HOP_HEADER]: '1',
    });
  });

  it('appends to an X-Forwarded-For a client proxy set, and keeps a WebSocket handshake an upgrade', () => {
    const out = upstreamHeaders(
      { host: 'h.localhost', 'x-forwarded-for': '10.1.1.1', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' },
      { remoteAddress: '::1', port: 1355, upgrade: true },
    );
    expect(out['x-forwarded-for']).toBe('10.1.1.1, ::1');
    expect(out).toMatchObject({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
    expect(
      upstreamHeaders({ host: 'h.localhost', connection: 'Upgrade', upgrade: 'websocket' }, { remoteAddress: '::1', port: 1 }),
    ).not.toHaveProperty('upgrade');
  });

  it('drops hop-by-hop headers of answers', () => {
    expect(
      downstreamHeaders({ 'content-type': 'text/plain', connection: 'close', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1'] }),
    ).toEqual({
      'content-type': 'text/plain',
      'set-cookie': ['a=1'],
    });
  });
});

describe('loop guard', () => {
  it('knows a request that went through the router once', () => {
    expect(isLoop({ host: 'x.localhost' })).toBe(false);
    const forwarded = upstreamHeaders({ host: 'x.localhost' }, { remoteAddress: '127.0.0.1', port: 1355 });
    expect(isLoop(forwarded as Record<string, string>)).toBe(true);
  });
});
