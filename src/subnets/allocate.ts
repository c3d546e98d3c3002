import { EnvsError } from '../errors.ts';
import { fnv1a } from '../ports/allocate.ts';
import { type Cidr, formatCidr, overlaps, parseCidr, size } from './cidr.ts';

/** The default block env networks take their subnets from: outside Docker's default pools (172.17–31/16, 192.168/16). */
export const DEFAULT_SUBNET_RANGE = '10.213.0.0/16';
export const DEFAULT_SUBNET_SIZE = 24;

/** One subnet held by one env for one of its networks, kept until the env is destroyed. */
export interface SubnetLease {
  cidr: string;
  /** The env's Compose project: unique on the machine. */
  project: string;
  /** The network's key in the compose model. */
  key: string;
  repo: string;
  env: string;
  since: string;
}

export interface SubnetRequest {
  key: string;
  prefix: number;
}

export interface SubnetRangeSetting {
  range: Cidr;
  /** The setting that chose the range, for messages (`ENVS_SUBNET_RANGE`, `networks.range in envs.yaml`). */
  source: string;
}

export interface AllocateSubnetsInput {
  owner: { project: string; repo: string; env: string };
  requests: SubnetRequest[];
  /** Every lease on the machine. */
  leases: SubnetLease[];
  range: SubnetRangeSetting;
  /** Blocks used by something else: the engine's other networks, the host's routes. */
  occupied: Cidr[];
  now: string;
}

/**
 * Gives each network request a subnet: the env's existing lease for that key when it still fits (stable
 * across up/down), else the first aligned block of the asked size, from a hash-chosen start, that no lease
 * and nothing occupied overlaps. The env keeps its other leases (they last as long as the env). Returns
 * every lease on the machine. Exhausted: SUBNETS_EXHAUSTED naming the setting, before anything is made.
 */
export function allocateSubnets(input: AllocateSubnetsInput): SubnetLease[] {
  const { owner, range } = input;
  const others = input.leases.filter((l) => l.project !== owner.project);
  const mine = input.leases.filter((l) => l.project === owner.project);
  const blocked = [...others.map((l) => parseCidr(l.cidr)).filter((c): c is Cidr => c !== undefined), ...input.occupied];
  const result: SubnetLease[] = [];
  for (const lease of mine) {
    const request = input.requests.find((r) => r.key === lease.key);
    const cidr = parseCidr(lease.cidr);
    const stillFits = cidr && (!request || cidr.prefix <= request.prefix) && !input.occupied.some((o) => overlaps(o, cidr));
    if (stillFits) result.push(lease);
  }
  for (const request of input.requests) {
    if (result.some((l) => l.key === request.key)) continue;
    const taken = [...blocked, ...result.map((l) => parseCidr(l.cidr)).filter((c): c is Cidr => c !== undefined)];
    const cidr = firstFree(range.range, request.prefix, taken, `${owner.project}/${request.key}`);
    if (!cidr) {
      throw new EnvsError(
        'SUBNETS_EXHAUSTED',
        `No free /${request.prefix} subnet left in ${formatCidr(range.range)} for network ${request.key} (${range.source}).`,
        {
          hint: `Destroy envs you no longer need (\`envs list\`), or give envs a larger block with ${range.source === 'ENVS_SUBNET_RANGE' ? 'ENVS_SUBNET_RANGE' : 'ENVS_SUBNET_RANGE or networks.range in envs.yaml'} (e.g. 10.212.0.0/15), or smaller subnets with networks.size. Nothing was changed.`,
        },
      );
    }
    result.push({ cidr: formatCidr(cidr), project: owner.project, key: request.key, repo: owner.repo, env: owner.env, since: input.now });
  }
  return [...others, ...result];
}

function firstFree(range: Cidr, prefix: number, taken: Cidr[], seed: string): Cidr | undefined {
  if (prefix < range.prefix) return undefined;
  const count = size(range.prefix) / size(prefix);
  const start = fnv1a(seed) % count;
  for (let i = 0; i < count; i++) {
    const candidate = { base: range.base + ((start + i) % count) * size(prefix), prefix };
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  return undefined;
}
