/**
 * Host ports a failed `docker compose up` could not bind because someone else holds them. Docker says
 * either "Bind for 127.0.0.1:20001 failed: port is already allocated" (another container) or
 * "listen tcp4 127.0.0.1:20001: bind: address already in use" (another process).
 */
export function conflictingPorts(stderr: string): number[] {
  const ports = new Set<number>();
  const patterns = [
    /Bind for \[?[0-9a-fA-F.:]*\]?:(\d{1,5}) failed: port is already allocated/g,
    /listen (?:tcp|udp)[46]? \[?[0-9a-fA-F.:]*\]?:(\d{1,5}): bind: address already in use/g,
  ];
  for (const pattern of patterns) {
    for (const match of stderr.matchAll(pattern)) ports.add(Number(match[1]));
  }
  return [...ports];
}

/**
 * Why the engine could not create a network: a subnet overlapping another network ("Pool overlaps with
 * other one on this system"), or no address pool left ("could not find an available, non-overlapping IPv4
 * address pool", "all predefined address pools have been fully subnetted").
 */
export function networkFailure(stderr: string): 'overlap' | 'pools' | undefined {
  if (/Pool overlaps with other one on this system|networks have overlapping IPv4/i.test(stderr)) return 'overlap';
  if (/non-overlapping IPv4 address pool|address pools have been fully subnetted/i.test(stderr)) return 'pools';
  return undefined;
}
