import { type Cidr, contains, formatCidr, formatIp, moveAddress, parseCidr, parseIp, prefixFor } from '../subnets/cidr.ts';
import type { ComposeModel, TopLevelResource } from './model.ts';

/** A network of an env that needs a subnet of its own, and how big. */
export interface SubnetNeed {
  key: string;
  prefix: number;
  /** The IPv4 subnet the compose file fixed, if any. */
  original?: string;
}

/** Drivers whose subnets envs may choose: bridges on this engine. Others (macvlan, overlay…) are left alone. */
function isBridge(network: TopLevelResource): boolean {
  return network.driver === undefined || network.driver === 'bridge';
}

interface IpamEntry {
  subnet?: string;
  gateway?: string;
  ip_range?: string;
  aux_addresses?: Record<string, string>;
  [key: string]: unknown;
}

function ipamEntries(network: TopLevelResource): IpamEntry[] {
  const ipam = network.ipam as { config?: IpamEntry[] } | undefined;
  return Array.isArray(ipam?.config) ? ipam.config : [];
}

function v4Entry(network: TopLevelResource): { entry: IpamEntry; cidr: Cidr } | undefined {
  for (const entry of ipamEntries(network)) {
    const cidr = entry.subnet ? parseCidr(entry.subnet) : undefined;
    if (cidr) return { entry, cidr };
  }
  return undefined;
}

/**
 * Every network of the model the env must give a subnet of its own: all non-external bridge networks (so
 * env networks never come from the engine's ~30 default pools), sized to hold the addresses the compose
 * file fixed inside its own subnet (gateway, ip_range, aux addresses, services' ipv4_address).
 */
export function subnetNeeds(model: ComposeModel, defaultPrefix: number): SubnetNeed[] {
  const needs: SubnetNeed[] = [];
  for (const [key, value] of Object.entries(model.networks ?? {})) {
    const network = value ?? {};
    if (network.external || !isBridge(network)) continue;
    const fixed = v4Entry(network);
    if (!fixed) {
      needs.push({ key, prefix: defaultPrefix });
      continue;
    }
    const offsets = fixedAddresses(model, key, fixed.entry)
      .map((ip) => ip - fixed.cidr.base)
      .filter((offset) => offset >= 0);
    const needed = Math.min(defaultPrefix, prefixFor(Math.max(0, ...offsets)));
    needs.push({ key, prefix: Math.max(fixed.cidr.prefix, needed), original: formatCidr(fixed.cidr) });
  }
  return needs;
}

/** The addresses a compose file fixes inside a network's own subnet. */
function fixedAddresses(model: ComposeModel, key: string, entry: IpamEntry): number[] {
  const ips: (number | undefined)[] = [];
  if (entry.gateway) ips.push(parseIp(entry.gateway));
  if (entry.ip_range) {
    const range = parseCidr(entry.ip_range);
    if (range) ips.push(range.base + 2 ** (32 - range.prefix) - 1);
  }
  for (const aux of Object.values(entry.aux_addresses ?? {})) ips.push(parseIp(aux));
  for (const service of Object.values(model.services)) {
    const attachment = service.networks?.[key] as { ipv4_address?: string } | null | undefined;
    if (attachment?.ipv4_address) ips.push(parseIp(attachment.ipv4_address));
  }
  return ips.filter((ip): ip is number => ip !== undefined);
}

export interface SubnetChange {
  subject: string;
  from: string;
  to: string;
}

/**
 * Puts each network on its leased subnet (in place), moving every address the compose file fixed in the
 * old subnet to the same offset in the new one: ipam subnet, gateway, ip_range, aux addresses, services'
 * ipv4_address, and extra_hosts entries pointing into it. IPv6 subnets are left as they are (warned).
 */
export function applySubnets(model: ComposeModel, leases: ReadonlyMap<string, string>): { changes: SubnetChange[]; warnings: string[] } {
  const changes: SubnetChange[] = [];
  const warnings: string[] = [];
  const moves: { from: Cidr; to: Cidr }[] = [];
  for (const [key, value] of Object.entries(model.networks ?? {})) {
    const leased = leases.get(key);
    const to = leased ? parseCidr(leased) : undefined;
    if (!value || !to || !leased) continue;
    const network = value;
    const fixed = v4Entry(network);
    const move = (text: string | undefined) => {
      const ip = text ? parseIp(text) : undefined;
      const moved = fixed && ip !== undefined && contains(fixed.cidr, ip) ? moveAddress(ip, fixed.cidr, to) : undefined;
      return moved === undefined ? text : formatIp(moved);
    };
    if (fixed) {
      const entry = fixed.entry;
      changes.push({ subject: `network ${key}`, from: formatCidr(fixed.cidr), to: leased });
      entry.subnet = leased;
      if (entry.gateway) entry.gateway = move(entry.gateway) as string;
      if (entry.ip_range) {
        const range = parseCidr(entry.ip_range);
        const base = range ? move(formatIp(range.base)) : undefined;
        if (range && base) entry.ip_range = `${base}/${range.prefix}`;
      }
      if (entry.aux_addresses) {
        entry.aux_addresses = Object.fromEntries(Object.entries(entry.aux_addresses).map(([k, v]) => [k, move(v) as string]));
      }
      moves.push({ from: fixed.cidr, to });
      for (const [name, service] of Object.entries(model.services)) {
        const attachment = service.networks?.[key] as { ipv4_address?: string } | null | undefined;
        if (attachment?.ipv4_address) {
          const moved = move(attachment.ipv4_address) as string;
          changes.push({ subject: `${name} ipv4_address`, from: attachment.ipv4_address, to: moved });
          attachment.ipv4_address = moved;
        }
      }
    } else {
      const ipam = (network.ipam ?? {}) as { config?: IpamEntry[]; [k: string]: unknown };
      network.ipam = { ...ipam, config: [...(ipam.config ?? []), { subnet: leased }] };
      changes.push({ subject: `network ${key}`, from: '(engine pool)', to: leased });
    }
    if (ipamEntries(network).some((e) => e.subnet?.includes(':'))) {
      warnings.push(`network ${key}: its IPv6 subnet is fixed; a second env will collide with it.`);
    }
  }
  if (moves.length > 0) moveReferences(model, moves, changes);
  return { changes, warnings };
}

/** An IPv4 address inside a moved subnet, moved along; other text as it is. */
function moveIps(text: string, moves: { from: Cidr; to: Cidr }[]): string {
  return text.replace(/(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])/g, (ip) => {
    const value = parseIp(ip);
    const move = value === undefined ? undefined : moves.find((m) => contains(m.from, value));
    const moved = move && value !== undefined ? moveAddress(value, move.from, move.to) : undefined;
    return moved === undefined ? ip : formatIp(moved);
  });
}

/** `extra_hosts` entries and `environment` values that name an address of a moved subnet follow it. */
function moveReferences(model: ComposeModel, moves: { from: Cidr; to: Cidr }[], changes: SubnetChange[]): void {
  for (const [name, service] of Object.entries(model.services)) {
    if (Array.isArray(service.extra_hosts)) {
      service.extra_hosts = service.extra_hosts.map((entry) => (typeof entry === 'string' ? moveIps(entry, moves) : entry));
    }
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (typeof value !== 'string') continue;
      const moved = moveIps(value, moves);
      if (moved === value || !service.environment) continue;
      changes.push({ subject: `${name} environment.${key}`, from: value, to: moved });
      service.environment[key] = moved;
    }
  }
}
