import { posix } from 'node:path';
import type { ComposeModel, Service } from './model.ts';
import { mounts, socketExposure } from './risks.ts';

/**
 * The compose policy: what a branch's compose file may not ask of the machine unless envs.yaml on the
 * default branch allows it (a branch's compose file is code an agent may have written; a branch cannot
 * allow itself). Pure: a rendered model (`docker compose config --format json`, so every key is in its
 * long form and every bind source absolute) and the allow-list in, violations out.
 *
 * Refused by default, per service:
 * - `privileged: true`;
 * - a namespace shared with the host or with a container outside the env (`network_mode`, `pid`, `ipc`:
 *   `host` or `container:…`; `uts`, `userns_mode`, `cgroup`: `host`) — the env's isolation ends there;
 * - `cap_add` of a capability that acts on the host kernel rather than the container's own namespaces
 *   (ALL, SYS_ADMIN, SYS_MODULE, …). NET_ADMIN, NET_RAW, SYS_PTRACE, SYS_NICE and the like stay allowed:
 *   dev stacks use them and they reach only the container's namespaces;
 * - `devices` and `device_cgroup_rules` (host devices);
 * - `security_opt` that turns confinement off (seccomp, AppArmor or SELinux `unconfined`/`disable`,
 *   `systempaths=unconfined`);
 * - bind mounts whose source is outside the worktree (a container engine's socket among them), also through
 *   a named volume that binds a host directory, or a link in the worktree that leads out of it.
 */

/** Keys an allow-list entry can name (bind mounts are allowed by path, `bind:`). */
export const POLICY_KEYS = [
  'privileged',
  'network_mode',
  'pid',
  'ipc',
  'uts',
  'userns_mode',
  'cgroup',
  'cap_add',
  'devices',
  'device_cgroup_rules',
  'security_opt',
] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

/** One entry of `policy.allow` in envs.yaml: a service (`*`: every service), keys it may use, host paths it may bind. */
export interface PolicyAllow {
  service: string;
  use?: readonly PolicyKey[];
  bind?: readonly string[];
}

export interface Violation {
  service: string;
  /** The compose setting (`volumes` for a bind mount). */
  setting: PolicyKey | 'volumes';
  /** What the service asks for, as written in the rendered model. */
  value: string;
  /** Why envs refuses it, in a few words. */
  why: string;
  /** What to add to the service's allow-list entry. */
  allow: { use: PolicyKey[] } | { bind: string[] };
}

export interface PolicyInput {
  /** The env's worktree: bind sources inside it are the branch's own files. */
  worktree: string;
  allow: readonly PolicyAllow[];
  /** The user's home: `~/` in the allow-list, and how paths under it are shown. */
  home: string;
  /** Bind sources inside the worktree that are links leading out of it (source → where it leads). */
  escapes?: ReadonlyMap<string, string>;
}

/** Capabilities that act on the host kernel (or every process on it), not on the container's namespaces. */
const HOST_CAPS = new Set([
  'ALL',
  'SYS_ADMIN',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_TIME',
  'SYS_BOOT',
  'DAC_READ_SEARCH',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'BPF',
  'PERFMON',
  'SYSLOG',
]);

/** The namespace keys and the values that leave the env's isolation. */
const NAMESPACES: [PolicyKey, (value: string) => boolean][] = [
  ['network_mode', (v) => v === 'host' || v.startsWith('container:')],
  ['pid', (v) => v === 'host' || v.startsWith('container:')],
  ['ipc', (v) => v === 'host' || v.startsWith('container:')],
  ['uts', (v) => v === 'host'],
  ['userns_mode', (v) => v === 'host'],
  ['cgroup', (v) => v === 'host'],
];

const UNCONFINED = /^(?:seccomp[:=]unconfined|apparmor[:=]unconfined|label[:=]disable|systempaths[:=]unconfined)$/i;

/** Every violation of the policy in the model, services in name order, each not allowed by `input.allow`. */
export function policyViolations(model: ComposeModel, input: PolicyInput): Violation[] {
  const found: Violation[] = [];
  for (const [name, service] of Object.entries(model.services ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!service) continue;
    const entries = input.allow.filter((a) => a.service === name || a.service === '*');
    const keyAllowed = (key: PolicyKey) => entries.some((a) => a.use?.includes(key));
    const pathAllowed = (path: string) =>
      entries.some((a) => (a.bind ?? []).some((allowed) => within(path, expandHome(allowed, input.home))));
    for (const violation of serviceViolations(name, service, model, input)) {
      const allowed = 'use' in violation.allow ? keyAllowed(violation.allow.use[0] as PolicyKey) : pathAllowed(violation.value);
      if (!allowed) found.push(violation);
    }
  }
  return found;
}

function serviceViolations(name: string, service: Service, model: ComposeModel, input: PolicyInput): Violation[] {
  const found: Violation[] = [];
  const keyed = (key: PolicyKey, value: string, why: string) =>
    found.push({ service: name, setting: key, value, why, allow: { use: [key] } });

  if (service.privileged === true) keyed('privileged', 'true', 'every device and capability of this machine');
  for (const [key, leaves] of NAMESPACES) {
    const value = service[key];
    if (typeof value === 'string' && leaves(value)) {
      keyed(key, value, value === 'host' ? "this machine's namespace, not the env's" : "another container's namespace, not the env's");
    }
  }
  for (const cap of strings(service.cap_add)) {
    if (HOST_CAPS.has(capName(cap))) keyed('cap_add', cap, 'a capability over the host kernel');
  }
  for (const device of Array.isArray(service.devices) ? service.devices : []) {
    keyed('devices', deviceText(device), 'a device of this machine');
  }
  for (const rule of strings(service.device_cgroup_rules)) keyed('device_cgroup_rules', rule, 'access to devices of this machine');
  for (const opt of strings(service.security_opt)) {
    if (UNCONFINED.test(opt.trim())) keyed('security_opt', opt, 'turns confinement off');
  }

  for (const { source: raw, target } of [...mounts(service), ...volumeBinds(service, model)]) {
    const source = raw.length > 1 ? posix.normalize(raw).replace(/\/+$/, '') : raw;
    const leadsTo = input.escapes?.get(raw) ?? input.escapes?.get(source);
    if (within(source, input.worktree) && leadsTo === undefined) continue;
    const exposed = socketExposure(leadsTo ?? source, target);
    const why = exposed
      ? `${socketWhat(exposed)}: the service controls the container engine, every env on it, and this machine`
      : leadsTo !== undefined
        ? `a link in the worktree to ${leadsTo}, outside it`
        : 'a host path outside the worktree';
    const value = leadsTo ?? source;
    found.push({ service: name, setting: 'volumes', value, why, allow: { bind: [shown(value, input.home)] } });
  }
  return found;
}

/** Named volumes of the service that bind a host directory (`driver_opts: {o: bind, device: …}`). */
function volumeBinds(service: Service, model: ComposeModel): { source: string; target: string | undefined }[] {
  const volumes = Array.isArray(service.volumes) ? (service.volumes as unknown[]) : [];
  const found: { source: string; target: string | undefined }[] = [];
  for (const volume of volumes) {
    if (!volume || typeof volume !== 'object') continue;
    const { type, source, target } = volume as { type?: unknown; source?: unknown; target?: unknown };
    if (type !== 'volume' || typeof source !== 'string') continue;
    const opts = (model.volumes?.[source] as { driver_opts?: Record<string, unknown> } | null | undefined)?.driver_opts;
    const device = typeof opts?.device === 'string' ? opts.device : undefined;
    if (device && /\bbind\b/.test(String(opts?.o ?? ''))) {
      found.push({ source: device, target: typeof target === 'string' ? target : undefined });
    }
  }
  return found;
}

/** One allow entry per service, keys and paths merged, in the order the violations came. */
export function allowEntries(violations: Violation[]): PolicyAllow[] {
  const byService = new Map<string, { use: PolicyKey[]; bind: string[] }>();
  for (const v of violations) {
    const entry = byService.get(v.service) ?? { use: [], bind: [] };
    byService.set(v.service, entry);
    if ('use' in v.allow) for (const k of v.allow.use) if (!entry.use.includes(k)) entry.use.push(k);
    if ('bind' in v.allow) for (const p of v.allow.bind) if (!entry.bind.includes(p)) entry.bind.push(p);
  }
  return [...byService].map(([service, { use, bind }]) => ({
    service,
    ...(use.length > 0 ? { use } : {}),
    ...(bind.length > 0 ? { bind } : {}),
  }));
}

/** The `policy: allow:` block for envs.yaml (flow lists, one entry per service). */
export function allowYaml(violations: Violation[]): string {
  const entries = allowEntries(violations).map((e) => {
    const lines = [`    - service: ${yamlScalar(e.service)}`];
    if (e.use) lines.push(`      use: [${e.use.join(', ')}]`);
    if (e.bind) lines.push(`      bind: [${e.bind.map(yamlScalar).join(', ')}]`);
    return lines.join('\n');
  });
  return `policy:\n  allow:\n${entries.join('\n')}`;
}

/** A plain YAML scalar when it reads back as the same string, else double-quoted. */
function yamlScalar(text: string): string {
  return /^[A-Za-z0-9_./~][A-Za-z0-9_./~-]*$/.test(text) && !/^(?:true|false|null|yes|no|on|off|~)$/i.test(text)
    ? text
    : JSON.stringify(text);
}

/** `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  const base = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  return path === base || path.startsWith(base === '/' ? '/' : `${base}/`);
}

function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}/${path.slice(2)}` : path;
}

/** A path under the home directory as `~/…` (what the allow-list line shows). */
function shown(path: string, home: string): string {
  return home && home !== '/' && within(path, home) ? `~${path.slice(home.replace(/\/+$/, '').length)}` || '~' : path;
}

/** risks.ts's sentence about a socket exposure, shortened to what the mount is. */
function socketWhat(exposed: string): string {
  if (exposed.startsWith("mounts the container engine's socket")) return "the container engine's socket";
  if (exposed.includes('which holds')) return "holds the container engine's socket";
  return "mounted as the container engine's socket";
}

function capName(cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, '');
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function deviceText(device: unknown): string {
  if (typeof device === 'string') return device;
  const { source, target } = (device ?? {}) as { source?: unknown; target?: unknown };
  return typeof source === 'string' ? (typeof target === 'string' && target !== source ? `${source}:${target}` : source) : String(device);
}
