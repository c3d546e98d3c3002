import type { Protocol } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';

export interface PortRange {
  from: number;
  to: number;
}

export const DEFAULT_RANGE: PortRange = { from: 20000, to: 29999 };

/**
 * What a lease is for: a published container port (`compose`, the default, absent from the file) or a
 * host process started by envs (`process`, key `process:<name>`). One registry holds both; each reserve
 * call manages the leases of one kind and keeps the env's leases of the other kind as they are.
 */
export type LeaseKind = 'compose' | 'process';

export function kindOf(lease: { kind?: LeaseKind }): LeaseKind {
  return lease.kind ?? 'compose';
}

/** One host port held by one env for one published container port, kept until the env is destroyed. */
export interface Lease {
  port: number;
  protocol: Protocol;
  /** The env's Compose project: unique on the machine. */
  project: string;
  /** `<service>/<target>/<protocol>` (see compose/transform.ts). */
  key: string;
  repo: string;
  env: string;
  since: string;
  /** Absent for compose leases (the registry files written before kinds existed stay valid). */
  kind?: 'process';
}

export interface LeaseRequest {
  key: string;
  protocol: Protocol;
}

export interface AllocateInput {
  owner: { project: string; repo: string; env: string };
  requests: LeaseRequest[];
  /** Every lease on the machine. */
  leases: Lease[];
  /** The kind of every request (default compose); the owner's leases of other kinds are kept untouched. */
  kind?: LeaseKind;
  range: PortRange;
  /** Ports not to hand out (just failed to bind) even if this env holds them. */
  avoid?: ReadonlySet<number>;
  isFree: (port: number, protocol: Protocol) => Promise<boolean>;
  now: string;
}

/**
 * Gives each request a port: the env's existing lease for that key when it has one (stable across
 * down/up), else the first port from a hash-chosen start that no lease holds, is not avoided, and
 * probes free. Leases last as long as the env: those for keys not requested now are kept too (an `up`
 * from a broken or edited compose file must not give the env other ports once it is fixed); only a
 * requested key whose port just failed to bind moves. Returns every lease.
 */
export async function allocate(input: AllocateInput): Promise<Lease[]> {
  const { owner, range, avoid = new Set<number>() } = input;
  const kind = input.kind ?? 'compose';
  const wanted = new Set(input.requests.map((r) => r.key));
  const others = input.leases.filter((l) => l.project !== owner.project || kindOf(l) !== kind);
  const kept = input.leases.filter((l) => l.project === owner.project && kindOf(l) === kind && !(wanted.has(l.key) && avoid.has(l.port)));
  const taken = new Set([...input.leases.map((l) => l.port), ...avoid]);
  const result = [...kept];
  const size = range.to - range.from + 1;
  for (const request of input.requests) {
    if (result.some((l) => l.key === request.key)) continue;
    const start = fnv1a(`${owner.project}/${request.key}`) % size;
    let port: number | undefined;
    for (let i = 0; i < size && port === undefined; i++) {
      const candidate = range.from + ((start + i) % size);
      if (taken.has(candidate)) continue;
      if (await input.isFree(candidate, request.protocol)) port = candidate;
      else taken.add(candidate);
    }
    if (port === undefined) {
      throw new EnvsError('PORTS_EXHAUSTED', `No free port left in ${range.from}-${range.to} for ${request.key}.`, {
        hint: 'Destroy envs you no longer need (`envs list`), or widen the range with ENVS_PORT_RANGE=20000-39999 or `ports.range` in envs.yaml.',
      });
    }
    taken.add(port);
    result.push({
      port,
      protocol: request.protocol,
      project: owner.project,
      key: request.key,
      repo: owner.repo,
      env: owner.env,
      since: input.now,
      ...(kind === 'process' ? { kind } : {}),
    });
  }
  return [...others, ...result];
}

export function parseRange(text: string): PortRange | undefined {
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!match) return undefined;
  const from = Number(match[1]);
  const to = Number(match[2]);
  // One port (25000-25000) is a range too.
  return from >= 1024 && to <= 65535 && from <= to ? { from, to } : undefined;
}

/** 32-bit FNV-1a: a cheap, stable spread of start points (ports here, subnets in subnets/allocate.ts). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
