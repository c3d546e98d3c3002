/** IPv4 blocks as numbers: enough arithmetic to lease subnets and move addresses between them. */
export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIp(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `10.213.4.0/24` → its block; the base is masked (host bits dropped). Undefined when not IPv4. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!match) return undefined;
  const ip = parseIp(match[1] as string);
  const prefix = Number(match[2]);
  if (ip === undefined || prefix > 32) return undefined;
  return { base: ip - (ip % size(prefix)), prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

/** Number of addresses in a block of this prefix length. */
export function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

export function contains(block: Cidr, ip: number): boolean {
  return ip >= block.base && ip < block.base + size(block.prefix);
}

/**
 * The same host in another block: `172.28.1.5` of `172.28.0.0/16` → `10.213.4.5`... with the offset kept.
 * Undefined when the offset does not fit in `to`.
 */
export function moveAddress(ip: number, from: Cidr, to: Cidr): number | undefined {
  const offset = ip - from.base;
  return offset >= 0 && offset < size(to.prefix) ? to.base + offset : undefined;
}

/** The longest prefix (smallest block) whose block still holds offsets up to `maxOffset` plus a broadcast address. */
export function prefixFor(maxOffset: number): number {
  let prefix = 30;
  while (prefix > 0 && size(prefix) < maxOffset + 2) prefix--;
  return prefix;
}
