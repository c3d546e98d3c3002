import { timingSafeEqual } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { LookupFunction, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { downstreamHeaders, isLoop, upstreamHeaders } from './headers.ts';
import { parseHost } from './hosts.ts';
import { type ErrorPage, sendError, wantsJson } from './pages.ts';
import { type EnvRoute, type Resolution, type RouteTable, resolveRoute } from './routes.ts';
import { LiveTable } from './table.ts';
import { routerUrl, STATUS_PATH, type Target } from './targets.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RouterOptions {
  /** ENVS_HOME: the records routed are `<home>/repos/*\/envs/*.json`. */
  home: string;
  port: number;
  /** The per-user token: `/_envs/status` answers only requests carrying it (`x-envs-token`). */
  token: string;
  /** Loopback addresses to listen on; never anything else. */
  hosts?: readonly string[];
  /** The handler for `envs.localhost` (src/proxy/dashboard); a placeholder page without it. */
  dashboard?: Handler;
  log?: (line: string) => void;
}

export interface Router {
  port: number;
  /** The addresses it listens on. */
  addresses: string[];
  startedAt: Date;
  table: LiveTable;
  close(): Promise<void>;
}

export const LOOPBACK_HOSTS = ['127.0.0.1', '::1'] as const;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Host processes may listen on 127.0.0.1 or ::1 only: both are tried (Happy Eyeballs), no resolver asked. */
const loopbackLookup: LookupFunction = (_host, options, callback) => {
  const all = [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ];
  if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof all) => void)(null, all);
  else callback(null, '127.0.0.1', 4);
};

/** Starts the router on each loopback address (an address this machine lacks, such as ::1 without IPv6, is skipped). */
export async function startRouter(options: RouterOptions): Promise<Router> {
  const hosts = options.hosts ?? LOOPBACK_HOSTS;
  for (const host of hosts) {
    if (!LOOPBACK.has(host)) throw new Error(`The router listens on loopback addresses only, not ${host}.`);
  }
  const log = options.log ?? (() => {});
  const table = new LiveTable(options.home);
  await table.refresh();
  const startedAt = new Date();
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', timeout: 60_000 });
  const ctx: Context = { ...options, table, agent, startedAt, log };
  const servers: Server[] = [];
  const addresses: string[] = [];
  try {
    for (const host of hosts) {
      const server = createServer({ requireHostHeader: false }, (req, res) => handleRequest(ctx, req, res));
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void handleUpgrade(ctx, req, socket as Socket, head));
      server.on('clientError', (_error, socket) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        else socket.destroy();
      });
      try {
        await listen(server, host, options.port);
        servers.push(server);
        addresses.push(host);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (host === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) {
          log(`no IPv6 loopback here (${code}): listening on 127.0.0.1 only`);
          continue;
        }
        throw error;
      }
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    table.close();
    agent.destroy();
    throw error;
  }
  return {
    port: options.port,
    addresses,
    startedAt,
    table,
    close: async () => {
      table.close();
      await Promise.all(servers.map(closeServer));
      agent.destroy();
    },
  };
}

interface Context extends RouterOptions {
  table: LiveTable;
  agent: Agent;
  startedAt: Date;
  log: (line: string) => void;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true, ipv6Only: host === '::1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------- requests

/** Where a routed request goes, or the page that answers it instead. */
type Decision =
  | { kind: 'proxy'; env: EnvRoute; target: Target }
  | { kind: 'page'; page: ErrorPage }
  | { kind: 'dashboard' }
  | { kind: 'status' };

/** Synchronous while the table is current (the common case: no promise per request). */
function decide(ctx: Context, req: IncomingMessage): Decision | Promise<Decision> {
  const asked = parseHost(req.headers.host, ctx.port);
  if (asked.kind === 'foreign') {
    return {
      kind: 'page',
      page: {
        status: 421,
        code: 'foreign-host',
        title: 'Misdirected request',
        message: `This is the envs router on port ${ctx.port}; it answers only *.localhost, localhost, 127.0.0.1 and [::1] on this port.`,
      },
    };
  }
  if (isLoop(req.headers)) {
    return {
      kind: 'page',
      page: {
        status: 508,
        code: 'loop',
        title: 'Loop detected',
        message: `This request already went through the envs router once (${req.headers.host}): something upstream sends it back here.`,
        hint: "A dev server's proxy that forwards to a .localhost name must not copy the incoming headers (Vite/webpack: changeOrigin, or target the service's port).",
      },
    };
  }
  if (asked.kind === 'dashboard') return { kind: 'dashboard' };
  if (asked.kind === 'router' && req.url === STATUS_PATH && tokenMatches(req.headers['x-envs-token'], ctx.token)) return { kind: 'status' };
  if (asked.kind === 'router' || asked.kind === 'unknown')
    return { kind: 'page', page: unknownHost(ctx, ctx.table.current(), req.headers.host ?? '') };
  const target = asked.kind === 'target' ? asked.target : undefined;
  const host = req.headers.host ?? '';
  const table = ctx.table.get();
  if (table instanceof Promise) return table.then((t) => routed(ctx, resolveRoute(t, asked.host, target), asked.host, target, host));
  return routed(ctx, resolveRoute(table, asked.host, target), asked.host, target, host);
}

function routed(
  ctx: Context,
  resolution: Resolution,
  name: string,
  target: string | undefined,
  host: string,
): Decision | Promise<Decision> {
  // An env made a moment ago: read the records again before saying it does not exist.
  if (resolution.kind === 'none') return ctx.table.fresh().then((t) => decision(ctx, resolveRoute(t, name, target), host));
  return decision(ctx, resolution, host);
}

function decision(ctx: Context, resolution: Resolution, host: string): Decision {
  switch (resolution.kind) {
    case 'none':
      return { kind: 'page', page: unknownHost(ctx, ctx.table.current(), host) };
    case 'ambiguous':
      return {
        kind: 'page',
        page: {
          status: 409,
          code: 'ambiguous-host',
          title: 'Two envs have this name',
          message: `Envs of ${resolution.envs.length} repositories are called ${resolution.envs[0]?.host}: open the one you mean by its repository-qualified name.`,
          envs: resolution.envs.map((e) => listed(ctx, e, e.qualified)),
        },
      };
    case 'no-target': {
      const { env, wanted } = resolution;
      const names = env.targets.map((t) => `${t.name} (${routerUrl(env.host, ctx.port, t.name)})`).join(', ');
      return {
        kind: 'page',
        page: {
          status: 404,
          code: 'no-target',
          title: wanted ? `No ${wanted} in ${env.name}` : `Nothing to preview in ${env.name}`,
          message: wanted
            ? `Env ${env.name} (${env.branch}) has no service with a published TCP port nor host process called ${wanted}.`
            : `Env ${env.name} (${env.branch}) has no HTTP service or host process with a port to preview.`,
          hint: names ? `It has: ${names}. Set \`preview: <name>\` in envs.yaml to choose.` : 'It publishes no TCP port.',
        },
      };
    }
    case 'route': {
      const { env, target } = resolution;
      if (env.status !== 'running') {
        return {
          kind: 'page',
          page: {
            status: 502,
            code: 'env-not-running',
            title: `${env.name} is ${env.status}`,
            message: `Env ${env.name} (branch ${env.branch}) is ${env.status}: nothing answers for ${target.name}.`,
            hint:
              env.status === 'stopped'
                ? `Start it with \`envs up ${env.name}\` (in ${env.repo}).`
                : `See \`envs info ${env.name}\` (in ${env.repo}).`,
          },
        };
      }
      return { kind: 'proxy', env, target };
    }
  }
}

function listed(ctx: Context, env: EnvRoute, host = env.host) {
  return {
    name: env.name,
    branch: env.branch,
    repo: env.repo,
    status: env.status,
    ...(env.preview ? { url: routerUrl(host, ctx.port) } : {}),
  };
}

function unknownHost(ctx: Context, table: RouteTable, host: string): ErrorPage {
  return {
    status: 404,
    code: 'unknown-host',
    title: 'No env here',
    message: `No env answers to ${host}.`,
    hint: 'Envs are at http://<env name>.localhost:<port>; `envs list` names them.',
    envs: table.envs.map((e) => listed(ctx, e, (table.byHost.get(e.host)?.length ?? 0) > 1 ? e.qualified : e.host)),
  };
}

function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

function handleRequest(ctx: Context, req: IncomingMessage, res: ServerResponse): void {
  const failed = (error: unknown) => {
    ctx.log(`request failed: ${(error as Error).stack ?? error}`);
    if (!res.headersSent) res.writeHead(500).end();
  };
  try {
    const chosen = decide(ctx, req);
    if (chosen instanceof Promise) chosen.then((c) => answer(ctx, req, res, c), failed);
    else answer(ctx, req, res, chosen);
  } catch (error) {
    failed(error);
  }
}

function answer(ctx: Context, req: IncomingMessage, res: ServerResponse, chosen: Decision): void {
  switch (chosen.kind) {
    case 'page':
      req.resume();
      sendError(req, res, chosen.page);
      return;
    case 'dashboard':
      if (ctx.dashboard) ctx.dashboard(req, res);
      else placeholder(req, res);
      return;
    case 'status':
      sendJson(res, statusOf(ctx));
      return;
    case 'proxy':
      forward(ctx, req, res, chosen.env, chosen.target);
  }
}

function statusOf(ctx: Context) {
  const table = ctx.table.current();
  return {
    pid: process.pid,
    home: ctx.home,
    port: ctx.port,
    started_at: ctx.startedAt.toISOString(),
    uptime_s: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
    routes: table.envs.flatMap((e) =>
      e.targets.map((t) => ({
        url: routerUrl(e.host, ctx.port, e.preview === t ? undefined : t.name),
        env: e.name,
        branch: e.branch,
        repo: e.repo,
        status: e.status,
        target: t.name,
        kind: t.kind,
        port: t.port,
      })),
    ),
  };
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function placeholder(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (wantsJson(req)) {
    sendJson(res, { dashboard: 'not installed' });
    return;
  }
  const body =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>envs</title></head><body><h1>envs</h1><p>The dashboard is not part of this build.</p></body></html>\n';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function upstreamOptions(ctx: Context, req: IncomingMessage, target: Target, upgrade: boolean) {
  return {
    host: target.address,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: upstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, port: ctx.port, upgrade }),
    ...(target.address === 'localhost' ? { lookup: loopbackLookup, autoSelectFamily: true } : {}),
  };
}

function refused(env: EnvRoute, target: Target, error: NodeJS.ErrnoException): ErrorPage {
  const what = target.kind === 'process' ? `host process ${target.name}` : `service ${target.name}`;
  return {
    status: 502,
    code: 'upstream-failed',
    title: `${target.name} of ${env.name} did not answer`,
    message: `The ${what} of env ${env.name} on port ${target.port} ${error.code === 'ECONNREFUSED' ? 'refused the connection' : `failed (${error.code ?? error.message})`}.`,
    hint: `Is it listening? See \`envs info ${env.name}\` and \`envs logs ${env.name} ${target.name}\` (in ${env.repo}).`,
  };
}

function forward(ctx: Context, req: IncomingMessage, res: ServerResponse, env: EnvRoute, target: Target): void {
  const upstream = request({ ...upstreamOptions(ctx, req, target, false), agent: ctx.agent });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, downstreamHeaders(answer.headers));
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (res.headersSent) res.destroy();
    else sendError(req, res, refused(env, target, error));
  });
  // The client went away before the answer was complete: stop the upstream's work too.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // No body (GET, HEAD…): end at once rather than through a pipe.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    upstream.end();
  } else req.pipe(upstream);
}

// ---------------------------------------------------------------- WebSockets and other upgrades

/** An answer written straight on the socket (an upgrade request has no ServerResponse), then closed. */
function rawPage(socket: Socket, page: ErrorPage): void {
  const body = `${page.message}${page.hint ? `\n${page.hint}` : ''}\n`;
  socket.end(
    `HTTP/1.1 ${page.status} ${STATUS_CODES[page.status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Envs-Error: ${page.code}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function headLines(status: number, message: string | undefined, raw: string[]): string {
  let text = `HTTP/1.1 ${status} ${message ?? STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${text}\r\n`;
}

async function handleUpgrade(ctx: Context, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  let chosen: Decision;
  try {
    chosen = await decide(ctx, req);
  } catch {
    socket.destroy();
    return;
  }
  if (chosen.kind === 'page') return rawPage(socket, chosen.page);
  if (chosen.kind !== 'proxy') {
    return rawPage(socket, { status: 404, code: 'no-upgrade', title: 'No upgrade', message: 'Nothing here takes a connection upgrade.' });
  }
  const { env, target } = chosen;
  // Its own connection: an upgraded socket leaves the pool anyway.
  const upstream = request({ ...upstreamOptions(ctx, req, target, true), agent: false });
  upstream.on('upgrade', (answer, upSocket, upHead) => {
    const closeBoth = () => {
      socket.destroy();
      upSocket.destroy();
    };
    upSocket.on('error', closeBoth);
    socket.on('error', closeBoth);
    upSocket.on('close', closeBoth);
    socket.on('close', closeBoth);
    socket.setNoDelay(true);
    upSocket.setNoDelay(true);
    socket.write(headLines(answer.statusCode ?? 101, answer.statusMessage, answer.rawHeaders));
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.pipe(socket);
    socket.pipe(upSocket);
  });
  // The upstream declined the upgrade: its answer goes back as it is.
  upstream.on('response', (answer) => {
    // The body arrives de-chunked and ends with the connection: the framing headers go.
    const kept: string[] = [];
    for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
      const name = answer.rawHeaders[i] as string;
      if (!/^(connection|keep-alive|transfer-encoding|content-length)$/i.test(name)) kept.push(name, answer.rawHeaders[i + 1] as string);
    }
    socket.write(headLines(answer.statusCode ?? 502, answer.statusMessage, [...kept, 'Connection', 'close']));
    answer.pipe(socket);
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (socket.writable) rawPage(socket, refused(env, target, error));
    else socket.destroy();
  });
  socket.on('close', () => upstream.destroy());
  upstream.end();
}
