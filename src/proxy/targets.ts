import type { EnvRecord } from '../core/record.ts';

/** The router's default port: `ENVS_PROXY_PORT` overrides it. */
export const DEFAULT_PROXY_PORT = 1355;

/** The router's own status endpoint (answered only with the per-user token). */
export const STATUS_PATH = '/_envs/status';

/** Where a name under an env's host goes: a service's published port or a host process's port, on loopback. */
export interface Target {
  name: string;
  kind: 'service' | 'process';
  port: number;
  /** The address to dial: the binding's loopback address; host processes may listen on either family. */
  address: '127.0.0.1' | '::1' | 'localhost';
  /** Whether the target conventionally speaks HTTP (it gets a URL in `urls`). */
  http: boolean;
}

// Not 9000: ClickHouse's native protocol and MinIO's API both live there; `app_protocol: http` says so when it is HTTP.
const HTTP_PORTS = new Set([80, 3000, 3001, 4000, 4200, 4321, 5000, 5173, 8000, 8008, 8080, 8081, 8888]);
const HTTPS_PORTS = new Set([443, 8443]);

/** `http`, `https` or undefined (not a web port) for a container port, by `app_protocol` first, then by convention. */
export function schemeOf(target: number, declared: string | undefined): 'http' | 'https' | undefined {
  if (declared) return declared === 'http' || declared === 'https' ? declared : undefined;
  return HTTPS_PORTS.has(target) ? 'https' : HTTP_PORTS.has(target) ? 'http' : undefined;
}

type RouteFields = Pick<EnvRecord, 'ports' | 'processPorts' | 'appProtocols' | 'preview'>;

/**
 * Every name the router knows under one env: host processes with a port (dev servers) first, then each
 * service's first published TCP port, in compose-file order (the record keeps bindings in that order).
 */
export function targetsOf(record: RouteFields): Target[] {
  const targets: Target[] = [];
  for (const [name, port] of Object.entries(record.processPorts ?? {})) {
    // A dev server may bind 127.0.0.1 or ::1 only (Vite on Node 17+): the router tries both.
    targets.push({ name, kind: 'process', port, address: 'localhost', http: true });
  }
  const seen = new Set(targets.map((t) => t.name));
  for (const binding of record.ports) {
    if (binding.protocol !== 'tcp' || seen.has(binding.service)) continue;
    seen.add(binding.service);
    const scheme = schemeOf(binding.target, record.appProtocols?.[`${binding.service}/${binding.target}`]);
    targets.push({
      name: binding.service,
      kind: 'service',
      port: binding.published,
      address: binding.host_ip === '::1' ? '::1' : '127.0.0.1',
      // The router speaks plain HTTP to its targets: an HTTPS port is not a preview.
      http: scheme === 'http',
    });
  }
  return targets;
}

/**
 * The env's preview target (what `<host>.localhost` serves): the `preview:` of envs.yaml when it names a
 * target, else the first host process with a port, else the first HTTP service.
 */
export function previewOf(record: RouteFields, targets: Target[] = targetsOf(record)): Target | undefined {
  if (record.preview) {
    const chosen = targets.find((t) => t.name === record.preview);
    if (chosen) return chosen;
  }
  return targets.find((t) => t.kind === 'process') ?? targets.find((t) => t.http);
}

/** `http://<host>.localhost:<port>` (no trailing slash: the contract's shape). */
export function routerUrl(host: string, port: number, target?: string): string {
  return `http://${target ? `${target}.` : ''}${host}.localhost:${port}`;
}

/**
 * The router URLs of an env: the preview target at `<host>.localhost`, other HTTP targets at
 * `<name>.<host>.localhost`; the preview first.
 */
export function routerUrls(record: RouteFields & { host: string }, port: number): Record<string, string> {
  const targets = targetsOf(record);
  const preview = previewOf(record, targets);
  const urls: Record<string, string> = {};
  if (preview) urls[preview.name] = routerUrl(record.host, port, undefined);
  for (const t of targets) if (t.http && !urls[t.name]) urls[t.name] = routerUrl(record.host, port, t.name);
  return urls;
}

/** The router's port from `ENVS_PROXY_PORT`; undefined when it is not a port number. */
export function proxyPortFrom(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.ENVS_PROXY_PORT;
  if (text === undefined || text === '') return DEFAULT_PROXY_PORT;
  const port = Number(text);
  return /^\d+$/.test(text) && port >= 1 && port <= 65535 ? port : undefined;
}
