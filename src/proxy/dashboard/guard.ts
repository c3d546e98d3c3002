import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who may change an env through the dashboard. A state-changing request must come from the dashboard's own
 * page: its `Origin` is exactly the dashboard's (browsers set it on every POST and scripts cannot forge it),
 * and it carries the per-user token the server embedded in that page (another site cannot read it: the page
 * has no CORS headers, and DNS rebinding is stopped by the Host check). Both, always: a missing Origin is
 * refused too (`Sec-Fetch-Site` alone is not enough), so a plain curl needs to say both on purpose.
 */

export const DASHBOARD_HOST = 'envs.localhost';

/** The dashboard's origin as a browser writes it (no `:80` on the default port). */
export function dashboardOrigin(port: number): string {
  return port === 80 ? `http://${DASHBOARD_HOST}` : `http://${DASHBOARD_HOST}:${port}`;
}

/** The Host header names the dashboard on this port (names are case-insensitive; a trailing dot is the same name). */
export function isDashboardHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const match = /^([^:]+?)\.?(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!match || match[1] !== DASHBOARD_HOST) return false;
  return match[2] === undefined ? port === 80 : Number(match[2]) === port;
}

/** Constant-time comparison (hashes first: timingSafeEqual wants equal lengths, and a length must not leak either). */
export function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length === 0 || token.length === 0) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(token));
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Whether a request may change state (or read logs): the dashboard's own origin and the token. */
export function mayAct(headers: IncomingHttpHeaders, port: number, token: string): Verdict {
  const origin = headers.origin;
  if (origin === undefined) return { ok: false, reason: 'no Origin header: only the dashboard page may do this' };
  if (origin !== dashboardOrigin(port)) return { ok: false, reason: `Origin ${origin} is not the dashboard's (${dashboardOrigin(port)})` };
  if (!tokenMatches(headers['x-envs-token'], token)) return { ok: false, reason: 'missing or wrong x-envs-token' };
  return { ok: true };
}
