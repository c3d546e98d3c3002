/**
 * Which Host names the router owns, and what each one asks for. Anything it does not own is refused (421)
 * before any upstream is contacted: a web page on another origin cannot use DNS rebinding to reach an env.
 */
export type HostRequest =
  /** `envs.localhost`: the dashboard. */
  | { kind: 'dashboard' }
  /** `localhost`, `127.0.0.1`, `[::1]`: the router itself. */
  | { kind: 'router' }
  /** `<env-host>.localhost`: the env's preview target. */
  | { kind: 'env'; host: string }
  /** `<target>.<env-host>.localhost`: one service or host process of the env. */
  | { kind: 'target'; host: string; target: string }
  /** A `.localhost` name of a shape envs never hands out (more labels, bad characters): 404. */
  | { kind: 'unknown'; name: string }
  /** Not ours (another domain, another port, no Host): 421. */
  | { kind: 'foreign' };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ROUTER_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Splits `name[:port]` (IPv6 literals in brackets); undefined when the header is malformed. */
export function splitHost(header: string): { name: string; port?: number } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const name = match[1].toLowerCase().replace(/\.$/, '');
  return match[2] === undefined ? { name } : { name, port: Number(match[2]) };
}

/**
 * What a Host header asks the router on `port` for. The port, when given, must be the router's: a Host naming
 * another port was meant for another server. Without a port (a client on port 80 forwarded here) the name alone decides.
 */
export function parseHost(header: string | undefined, port: number): HostRequest {
  if (!header) return { kind: 'foreign' };
  const split = splitHost(header);
  if (!split || (split.port !== undefined && split.port !== port)) return { kind: 'foreign' };
  const { name } = split;
  if (ROUTER_NAMES.has(name)) return { kind: 'router' };
  if (!name.endsWith('.localhost')) return { kind: 'foreign' };
  const labels = name.slice(0, -'.localhost'.length).split('.');
  if (!labels.every((l) => LABEL.test(l))) return { kind: 'unknown', name };
  if (labels.length === 1 && labels[0] === 'envs') return { kind: 'dashboard' };
  if (labels.length === 1) return { kind: 'env', host: labels[0] as string };
  if (labels.length === 2) return { kind: 'target', target: labels[0] as string, host: labels[1] as string };
  return { kind: 'unknown', name };
}
