import { isSecretName } from '../core/redact.ts';

/**
 * One map of the env's addresses: every host port the main checkout uses (a compose service's published
 * port, a host process's port, a Supabase CLI port) → the port this env leased for it. From it, values
 * that point at the original host ports are rewritten to the env's own, in copied env files and in the
 * `environment:` of the env's compose services. Pure: no I/O, no clock.
 */

export type AddressSource =
  | { kind: 'compose'; service: string; target: number }
  | { kind: 'process'; name: string }
  | { kind: 'supabase'; key: string };

export interface AddressEntry {
  /** The host port the main checkout uses. */
  original: number;
  /** The host port the env leased for it. */
  port: number;
  source: AddressSource;
}

/** One host:port fragment replaced inside a value. Holds no secret: only hosts and ports. */
export interface Replacement {
  from: string;
  to: string;
  original: number;
  port: number;
  source: AddressSource;
}

/**
 * A variable whose value changed. `before`/`after` are the raw values and may hold secrets (credentials in
 * a DATABASE_URL): show them through `redactChange`, or show only `replacements`.
 */
export interface AddressChange {
  /** A repository-relative file, or `service <name>`. */
  where: string;
  key: string;
  before: string;
  after: string;
  replacements: Replacement[];
}

/**
 * Who reads the value.
 * - `host`: a program on the host (env files, host processes). Every loopback spelling is the host.
 * - `container`: a compose service's `environment:`. Inside a container `localhost` is the container
 *   itself, so a loopback address on one of the service's own container ports (`ownPorts`) is left alone
 *   (it may be the service talking to itself), and `0.0.0.0`/`[::]` are listen addresses, never rewritten.
 *   A loopback address on another port can only be meant for the outside — a URL the service hands to a
 *   browser (API_EXTERNAL_URL, SITE_URL) — and is rewritten.
 */
export interface RewriteOptions {
  side: 'host' | 'container';
  /** `container` side: the container ports of the service whose environment this is. */
  ownPorts?: readonly number[];
  /** Also rewrite a value that is exactly an original port under a `*_PORT` key (`DB_PORT=5432`). Host side only. */
  barePorts?: boolean;
}

/** A reference that was found but deliberately left alone, so `plan` can say why. */
export interface Skipped {
  where: string;
  key: string;
  fragment: string;
  reason: string;
}

export interface AddressMap {
  readonly entries: readonly AddressEntry[];
  /** Originals claimed by two sources with different env ports: never rewritten. */
  readonly warnings: readonly string[];
  /** The env port for an original host port, when exactly one is known. */
  lookup(original: number): AddressEntry | undefined;
}

export function buildAddressMap(entries: readonly AddressEntry[]): AddressMap {
  const byOriginal = new Map<number, AddressEntry>();
  const ambiguous = new Map<number, AddressEntry[]>();
  const kept: AddressEntry[] = [];
  for (const entry of entries) {
    const seen = byOriginal.get(entry.original);
    if (!seen) {
      byOriginal.set(entry.original, entry);
      kept.push(entry);
    } else if (seen.port !== entry.port) {
      ambiguous.set(entry.original, [...(ambiguous.get(entry.original) ?? [seen]), entry]);
    }
  }
  for (const original of ambiguous.keys()) byOriginal.delete(original);
  const warnings = [...ambiguous].map(
    ([original, claims]) =>
      `Host port ${original} is used by ${claims.map((c) => describeSource(c.source)).join(' and ')}; values pointing at it are not rewritten (set them with env: in envs.yaml).`,
  );
  return {
    entries: kept.filter((e) => byOriginal.has(e.original)),
    warnings,
    lookup: (original) => byOriginal.get(original),
  };
}

export function describeSource(source: AddressSource): string {
  switch (source.kind) {
    case 'compose':
      return `compose service ${source.service} (container port ${source.target})`;
    case 'process':
      return `process ${source.name}`;
    case 'supabase':
      return `Supabase ${source.key}`;
  }
}

// Hosts that name this machine. `*.localhost` resolves to loopback (RFC 6761; browsers, systemd-resolved).
// `host.docker.internal` is how a container names the host.
const HOST = String.raw`\[(?:::1|::|0:0:0:0:0:0:0:1)\]|(?:[a-z0-9-]+\.)*localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|host\.docker\.internal`;
// Not preceded by a character that would make it part of a longer host name (`mylocalhost`, `a.127.0.0.1`),
// not followed by one (`localhost.example.com`), then an optional `:port` that is a whole number.
const ADDRESS = new RegExp(String.raw`(?<![A-Za-z0-9_.\-\]])(${HOST})(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])(?::(\d{1,5})(?!\d)|(?!:\d))`, 'gi');
// `scheme://` with optional userinfo right before the host: a URL whose port may be implicit.
const URL_PREFIX = /([a-z][a-z0-9+.-]*):\/\/(?:[^\s/@'"]*@)?$/i;
/** Ports a URL means when it names none. */
const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  ws: 80,
  https: 443,
  wss: 443,
  postgres: 5432,
  postgresql: 5432,
  mysql: 3306,
  redis: 6379,
  rediss: 6379,
  mongodb: 27017,
  amqp: 5672,
};

type HostKind = 'loopback' | 'any' | 'ipv6' | 'docker-host';

function hostKind(host: string): HostKind {
  const lower = host.toLowerCase();
  if (lower === '0.0.0.0') return 'any';
  if (lower === '[::]') return 'any';
  if (lower.startsWith('[')) return 'ipv6';
  if (lower === 'host.docker.internal') return 'docker-host';
  return 'loopback';
}

/**
 * The host written after rewriting. The host is kept as written — `localhost` stays `localhost` — because
 * it is part of an origin: cookies, CORS allow-lists, OAuth and Supabase redirect allow-lists and
 * NEXTAUTH_URL compare it with what the browser shows, and tracked code often hard-codes it. Our published
 * ports bind 127.0.0.1 only, but the registry leases a port only when it is free on ::1 too, and the clients
 * that matter fall back from ::1 to 127.0.0.1 (browsers and curl by Happy Eyeballs, libpq and Go by trying
 * each address, Node ≥ 20 by autoSelectFamily). IPv6 literals are the exception: nothing of the env listens
 * on ::1, so `[::1]`/`[::]` become 127.0.0.1. `0.0.0.0` stays: as a listen address it keeps its meaning, and
 * as a connect address Linux and macOS route it to loopback, as they did for the original.
 */
function rewrittenHost(host: string): string {
  return hostKind(host) === 'ipv6' || host === '[::]' ? '127.0.0.1' : host;
}

export interface ValueRewrite {
  value: string;
  replacements: Replacement[];
  /** Fragments found but left alone (container side), with the reason. */
  skipped: Array<{ fragment: string; reason: string }>;
}

/** Rewrites every reference to an original host address inside one value (URL, list, JSON-ish text). */
export function rewriteValue(map: AddressMap, value: string, options: RewriteOptions): ValueRewrite {
  const replacements: Replacement[] = [];
  const skipped: ValueRewrite['skipped'] = [];
  const out = value.replace(ADDRESS, (match: string, host: string, portText: string | undefined, offset: number) => {
    let original: number;
    if (portText !== undefined) {
      original = Number(portText);
    } else {
      const scheme = URL_PREFIX.exec(value.slice(0, offset))?.[1]?.toLowerCase();
      const implicit = scheme === undefined ? undefined : DEFAULT_PORTS[scheme];
      if (implicit === undefined) return match;
      original = implicit;
    }
    const entry = map.lookup(original);
    if (!entry) return match;
    const kind = hostKind(host);
    if (options.side === 'container') {
      if (kind === 'any') {
        skipped.push({ fragment: match, reason: 'a listen address inside the container' });
        return match;
      }
      if (kind !== 'docker-host' && options.ownPorts?.includes(original)) {
        skipped.push({ fragment: match, reason: `port ${original} is also this service's own container port` });
        return match;
      }
    }
    const to = `${rewrittenHost(host)}:${entry.port}`;
    replacements.push({ from: match, to, original, port: entry.port, source: entry.source });
    return to;
  });
  return { value: out, replacements, skipped };
}

const PORT_KEY = /(^|_)PORT$/i;

export interface VariablesRewrite {
  vars: Record<string, string>;
  changes: AddressChange[];
  skipped: Skipped[];
}

/** Rewrites a set of variables (an env file's, a service's environment); reports one change per changed key. */
export function rewriteVariables(
  map: AddressMap,
  where: string,
  vars: Readonly<Record<string, string>>,
  options: RewriteOptions,
): VariablesRewrite {
  const out: Record<string, string> = {};
  const changes: AddressChange[] = [];
  const skipped: Skipped[] = [];
  for (const [key, before] of Object.entries(vars)) {
    let result: ValueRewrite;
    const bare = options.barePorts && options.side === 'host' && PORT_KEY.test(key) && /^\d{1,5}$/.test(before.trim());
    const entry = bare ? map.lookup(Number(before.trim())) : undefined;
    if (entry) {
      const to = String(entry.port);
      result = {
        value: to,
        replacements: [{ from: before, to, original: entry.original, port: entry.port, source: entry.source }],
        skipped: [],
      };
    } else {
      result = rewriteValue(map, before, options);
    }
    out[key] = result.value;
    if (result.value !== before) changes.push({ where, key, before, after: result.value, replacements: result.replacements });
    for (const s of result.skipped) skipped.push({ where, key, ...s });
  }
  return { vars: out, changes, skipped };
}

export interface ServiceEnvironment {
  environment?: Record<string, string | null>;
  /** The service's published mappings; their container ports are its own. */
  ports?: ReadonlyArray<{ target: number }>;
}

/**
 * Rewrites the `environment:` of every service of a rendered compose model (values as Compose renders them,
 * `$$` escapes included: a host:port fragment never contains `$`, so escapes pass through unchanged).
 * Returns new environments only for the services that changed.
 */
export function rewriteServiceEnvironments(
  map: AddressMap,
  services: Readonly<Record<string, ServiceEnvironment>>,
): { environments: Record<string, Record<string, string | null>>; changes: AddressChange[]; skipped: Skipped[] } {
  const environments: Record<string, Record<string, string | null>> = {};
  const changes: AddressChange[] = [];
  const skipped: Skipped[] = [];
  for (const name of Object.keys(services).sort()) {
    const service = services[name] as ServiceEnvironment;
    const environment = service.environment ?? {};
    const values = Object.fromEntries(Object.entries(environment).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const result = rewriteVariables(map, `service ${name}`, values, {
      side: 'container',
      ownPorts: (service.ports ?? []).map((p) => p.target),
    });
    skipped.push(...result.skipped);
    if (result.changes.length === 0) continue;
    changes.push(...result.changes);
    environments[name] = { ...environment, ...result.vars };
  }
  return { environments, changes, skipped };
}

const MASK = '***';
// userinfo in any URL of the value (lists hold several): `scheme://user:pw@` and `scheme://:pw@`.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s'"]*):([^@/?#\s'"]+)@/gi;

/** A change fit to print: secret-named keys masked whole, passwords inside URLs masked. */
export function redactChange(change: AddressChange): AddressChange {
  const redact = (value: string) => (isSecretName(change.key) ? MASK : value.replace(URL_PASSWORD, `$1:${MASK}@`));
  return { ...change, before: redact(change.before), after: redact(change.after) };
}

/** `apps/web/.env.local DATABASE_URL: postgres://u:***@localhost:5432/app → postgres://u:***@localhost:21437/app` */
export function describeChange(change: AddressChange): string {
  const shown = redactChange(change);
  return `${shown.where} ${shown.key}: ${shown.before} → ${shown.after}`;
}

/**
 * Entries for a compose model's published ports: `requested` is what the compose file asked for on the
 * host ("5432"); ranges and ephemeral ports ("8000-8010", none) name no single original and are skipped.
 * `ports` maps each request key to the env's leased port (as the transform gets it).
 */
export function composeAddressEntries(
  requests: ReadonlyArray<{ key: string; service: string; target: number; requested?: string }>,
  ports: ReadonlyMap<string, number>,
): AddressEntry[] {
  return requests.flatMap((r) => {
    const port = ports.get(r.key);
    if (port === undefined || r.requested === undefined || !/^\d{1,5}$/.test(r.requested)) return [];
    return [{ original: Number(r.requested), port, source: { kind: 'compose' as const, service: r.service, target: r.target } }];
  });
}

/** Entries for host processes: the port each listens on in the main checkout → its leased one. */
export function processAddressEntries(processes: ReadonlyArray<{ name: string; original: number; port: number }>): AddressEntry[] {
  return processes.map((p) => ({ original: p.original, port: p.port, source: { kind: 'process' as const, name: p.name } }));
}
