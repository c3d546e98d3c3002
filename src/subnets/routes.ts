import { readFile } from 'node:fs/promises';
import type { Cidr } from './cidr.ts';

/** Interfaces whose routes the engine made for its own networks: the engine's network list speaks for them. */
const ENGINE_INTERFACES = /^(docker\d*|br-[0-9a-f]+|veth)/;

/**
 * IPv4 blocks the host routes somewhere (LAN, VPN, other bridges), from /proc/net/route; the default
 * route is not a block. Elsewhere (macOS: the engine runs in a VM whose routes we cannot see) nothing.
 */
export async function hostRoutes(file = '/proc/net/route'): Promise<Cidr[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return parseRouteTable(text);
}

export function parseRouteTable(text: string): Cidr[] {
  const blocks: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !destination || !mask || ENGINE_INTERFACES.test(iface)) continue;
    const base = littleEndian(destination);
    const netmask = littleEndian(mask);
    if (base === undefined || netmask === undefined) continue;
    const prefix = bits(netmask);
    if (prefix === 0) continue;
    blocks.push({ base, prefix });
  }
  return blocks;
}

/** /proc/net/route prints addresses as host-order (little-endian) hex. */
function littleEndian(hex: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const bytes = [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}

/** Leading one bits of a netmask. */
function bits(mask: number): number {
  let prefix = 0;
  for (let bit = 31; bit >= 0 && Math.floor(mask / 2 ** bit) % 2 === 1; bit--) prefix++;
  return prefix;
}
