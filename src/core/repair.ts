import type { Lease } from '../ports/allocate.ts';
import type { ContainerSummary, Protocol } from './deps.ts';
import { LABEL } from './labels.ts';
import type { EnvRecord } from './record.ts';

/**
 * The port registry rebuilt from what is known for sure: every readable env record's bindings, then the
 * published ports of containers that carry our labels (envs whose record is damaged, or that did not get
 * as far as recording their ports). One lease per port; a record's claim wins over a container's.
 */
export function rebuildLeases(records: EnvRecord[], containers: ContainerSummary[], now: string): Lease[] {
  const leases = new Map<number, Lease>();
  const add = (lease: Lease) => {
    if (!leases.has(lease.port)) leases.set(lease.port, lease);
  };
  const keyed = (bindings: { service: string; target: number; protocol: string }[]) => {
    // The same key rule as compose/transform.ts: a repeated service/target/protocol gets `#n`.
    const seen = new Map<string, number>();
    return bindings.map((b) => {
      const base = `${b.service}/${b.target}/${protocolOf(b.protocol)}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      return n === 0 ? base : `${base}#${n}`;
    });
  };
  for (const record of records) {
    const keys = keyed(record.ports);
    for (const [i, binding] of record.ports.entries()) {
      add({
        port: binding.published,
        protocol: protocolOf(binding.protocol),
        project: record.project,
        key: keys[i] ?? '',
        repo: record.repoId,
        env: record.name,
        since: record.createdAt || now,
      });
    }
  }
  for (const container of containers) {
    const project = container.labels[LABEL.project];
    if (!project) continue;
    const keys = keyed(container.ports);
    for (const [i, port] of container.ports.entries()) {
      add({
        port: port.published,
        protocol: protocolOf(port.protocol),
        project,
        key: keys[i] ?? '',
        repo: container.labels[LABEL.repo] ?? '',
        env: container.labels[LABEL.env] ?? '',
        since: now,
      });
    }
  }
  return [...leases.values()].sort((a, b) => a.port - b.port);
}

function protocolOf(protocol: string): Protocol {
  return protocol === 'udp' ? 'udp' : 'tcp';
}
