import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Marks a request as having passed through the router. A dev server whose own proxy sends requests back to
 * the router (Vite or webpack proxying to a `.localhost` name without rewriting the headers) would otherwise
 * loop until sockets run out: a request carrying it is refused with 508.
 */
export const HOP_HEADER = 'x-envs-hops';

/** Headers that describe one connection, not the message (RFC 9110 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

export function isLoop(headers: IncomingHttpHeaders): boolean {
  return headers[HOP_HEADER] !== undefined;
}

/** Names the `Connection` header lists: they are hop-by-hop for this message too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set(
    (Array.isArray(value) ? value.join(',') : (value ?? ''))
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The headers sent upstream: the client's, Host kept as it came (apps build absolute URLs and check hosts
 * from it), hop-by-hop ones dropped (a WebSocket handshake keeps `Connection: Upgrade` and `Upgrade`),
 * `X-Forwarded-Host/Proto/Port/For` added (For appended to what a client proxy already said), and our hop mark.
 */
export function upstreamHeaders(
  headers: IncomingHttpHeaders,
  info: { remoteAddress: string | undefined; port: number; upgrade?: boolean },
): OutgoingHttpHeaders {
  const drop = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  if (info.upgrade && headers.upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = headers.upgrade;
  }
  const host = headers.host ?? '';
  out['x-forwarded-host'] = host;
  out['x-forwarded-proto'] = 'http';
  out['x-forwarded-port'] = String(info.port);
  const client = (info.remoteAddress ?? '').replace(/^::ffff:/, '');
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  out[HOP_HEADER] = '1';
  return out;
}

/** The upstream's response headers for the client: hop-by-hop ones dropped (Node frames the body itself). */
export function downstreamHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const drop = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}
