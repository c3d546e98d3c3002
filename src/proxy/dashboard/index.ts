import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Fleet, type FleetEnv, fleetCache, readFleet } from '../../core/fleet.ts';
import { fleetDeps } from '../../wire.ts';
import { ACTIONS, type Action, type Cli, cliOf, recentLogs, runAction } from './actions.ts';
import { isDashboardHost, mayAct, tokenMatches } from './guard.ts';
import { pageHtml } from './page.ts';

/**
 * The dashboard at `http://envs.localhost:<port>/`, handed its requests by the router:
 *
 *   GET  /                                      the page (every env of every repository)
 *   GET  /env/<repoId>/<name>                   the same page showing one env, with its recent logs
 *   GET  /api/envs                              { envs: [...], engine_reachable, generated_at, pending }
 *   GET  /api/envs/<repoId>/<name>/logs         recent logs as text (x-envs-token required)
 *   POST /api/envs/<repoId>/<name>/up|down|destroy   the CLI's command (Origin + x-envs-token required)
 */
export interface DashboardContext {
  /** ENVS_HOME. */
  home: string;
  /** The router's port (the dashboard's origin is `http://envs.localhost:<port>`). */
  port: number;
  /** The per-user token state-changing requests must carry. */
  token: string;
  /** The built envs bin, run with process.execPath. */
  cliPath: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function dashboardHandler(ctx: DashboardContext): Handler {
  // The router's port is the one envs' URLs (and the CLI's commands run from here) must use.
  const env = { ...process.env, ENVS_HOME: ctx.home, ENVS_PROXY_PORT: String(ctx.port) };
  const deps = fleetDeps(ctx.home, env);
  return createDashboard(ctx, { readFleet: () => readFleet(deps), cli: cliOf(ctx, env) });
}

/** Polls from any number of pages cost one fleet read per period. */
const FLEET_TTL_MS = 1500;
const BODY_LIMIT = 4096;
const SEGMENT = /^[A-Za-z0-9._-]{1,200}$/;

/** The handler with its two outside effects given (unit tests pass fakes). */
export function createDashboard(ctx: DashboardContext, io: { readFleet: () => Promise<Fleet>; cli: Cli }): Handler {
  const fleet = fleetCache(io.readFleet, FLEET_TTL_MS);
  /** Actions running now, by `<repoId>/<name>`: the page shows them and refuses a second one. */
  const pending = new Map<string, Action>();

  const find = async (repoId: string, name: string, fresh: boolean): Promise<FleetEnv | undefined> => {
    if (fresh) fleet.invalidate();
    return (await fleet.get()).envs.find((e) => e.repo_id === repoId && e.name === name);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The router routes by Host already; checked again so the dashboard never answers a rebound name.
    if (!isDashboardHost(req.headers.host, ctx.port))
      return send(res, 421, 'text/plain', 'This is the envs dashboard: ask for it by its name.\n');
    const url = new URL(req.url ?? '/', 'http://envs.localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';

    if (path === '/' || /^\/env\/[^/]+\/[^/]+\/?$/.test(path)) {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      const nonce = randomBytes(16).toString('base64');
      return send(res, 200, 'text/html; charset=utf-8', pageHtml({ token: ctx.token, nonce }), {
        'content-security-policy': [
          "default-src 'none'",
          `script-src 'nonce-${nonce}'`,
          `style-src 'nonce-${nonce}'`,
          "connect-src 'self'",
          "img-src 'self'",
          "base-uri 'none'",
          "form-action 'self'",
          "frame-ancestors 'none'",
        ].join('; '),
      });
    }
    if (path === '/favicon.ico') return send(res, 204, 'text/plain', '');
    if (path === '/api/envs') {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      const body = { ...(await fleet.get()), pending: Object.fromEntries(pending) };
      return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body));
    }

    const match = /^\/api\/envs\/([^/]+)\/([^/]+)\/([a-z]+)$/.exec(path);
    const [repoId, name] = [match?.[1], match?.[2]].map((s) => (s === undefined ? undefined : safeDecode(s)));
    const verb = match?.[3];
    if (!match || !repoId || !name || !SEGMENT.test(repoId) || !SEGMENT.test(name)) return notFound(res);

    if (verb === 'logs') {
      if (!read) return methodNotAllowed(res, 'GET, HEAD');
      // Logs may hold secrets: only the page (which has the token) reads them.
      if (!tokenMatches(req.headers['x-envs-token'], ctx.token))
        return send(res, 403, 'text/plain', 'Forbidden: missing or wrong x-envs-token.\n');
      const env = await find(repoId, name, false);
      if (!env?.repo) return send(res, 404, 'text/plain', `No env ${name} in ${repoId}.\n`);
      const logs = await recentLogs(io.cli, env.repo, name);
      return send(res, logs.ok ? 200 : 409, 'text/plain; charset=utf-8', logs.text);
    }

    if (!ACTIONS.includes(verb as Action)) return notFound(res);
    if (method !== 'POST') return methodNotAllowed(res, 'POST');
    // Before anything else is read or run: a request from another origin, or without the token, changes nothing.
    const verdict = mayAct(req.headers, ctx.port, ctx.token);
    if (!verdict.ok) return json(res, 403, { ok: false, error: { code: 'FORBIDDEN', message: `Refused: ${verdict.reason}.` } });
    const action = verb as Action;
    const body = await readJson(req);
    if (body === undefined)
      return json(res, 400, { ok: false, error: { code: 'BAD_REQUEST', message: 'The body must be JSON (at most 4 KB).' } });
    if (action === 'destroy' && (body as { confirm?: unknown }).confirm !== name) {
      return json(res, 400, {
        ok: false,
        error: { code: 'CONFIRM', message: `Destroy needs the env's name as confirmation: {"confirm": "${name}"}.` },
      });
    }
    const env = await find(repoId, name, true);
    if (!env) return json(res, 404, { ok: false, error: { code: 'ENV_NOT_FOUND', message: `No env ${name} in ${repoId}.` } });
    if (!env.repo) {
      return json(res, 409, {
        ok: false,
        error: { code: 'STATE_CORRUPT', message: env.problems[0] ?? `The record of ${name} cannot be read.` },
      });
    }
    const key = `${repoId}/${name}`;
    const running = pending.get(key);
    if (running) {
      return json(res, 409, {
        ok: false,
        error: {
          code: 'ENV_BUSY',
          message: `envs ${running} ${env.branch} is running from the dashboard.`,
          hint: 'Wait for it to finish.',
        },
      });
    }
    pending.set(key, action);
    fleet.invalidate();
    try {
      const outcome = await runAction(io.cli, env.repo, action, name);
      return json(res, outcome.status, outcome.body);
    } finally {
      pending.delete(key);
      fleet.invalidate();
    }
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug here must not take the router down: the page says so and polls again.
      if (!res.headersSent)
        json(res, 500, { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } });
      else res.destroy();
    });
  };
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function notFound(res: ServerResponse): void {
  send(res, 404, 'text/plain', 'Not found. The dashboard is at /.\n');
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  send(res, 405, 'text/plain', 'Method not allowed.\n', { allow });
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The request's JSON body (an empty body is `{}`); undefined when it is not JSON or too large. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
