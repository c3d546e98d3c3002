import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from './deps.ts';
import type { EnvRecord } from './record.ts';
import { rebuildLeases } from './repair.ts';

const record = (name: string, ports: EnvRecord['ports']) =>
  ({ name, project: `envs-r-${name}`, repoId: 'r', createdAt: '2026-01-01T00:00:00Z', ports }) as EnvRecord;
const container = (project: string, service: string, ports: ContainerSummary['ports']): ContainerSummary => ({
  id: `${project}-${service}`,
  project,
  service,
  state: 'running',
  labels: { 'dev.envs.project': project, 'dev.envs.repo': 'r', 'dev.envs.env': project.slice(7), 'com.docker.compose.project': project },
  ports,
});
const bind = (service: string, target: number, published: number) => ({
  service,
  target,
  published,
  host_ip: '127.0.0.1',
  protocol: 'tcp',
});

describe('rebuildLeases', () => {
  it('leases what the records hold, then what labelled containers publish; one lease per port, records first', () => {
    const leases = rebuildLeases(
      [record('a', [bind('db', 5432, 20001), bind('web', 80, 20002), bind('web', 80, 20003)])],
      [
        container('envs-r-a', 'web', [bind('web', 80, 20002)]), // already leased through its record
        container('envs-r-lost', 'api', [bind('api', 3000, 20010)]), // an env whose record is unreadable
        { ...container('someone-else', 'x', [bind('x', 1, 20020)]), labels: {} }, // not ours: no lease
      ],
      '2026-02-02T00:00:00Z',
    );
    expect(leases.map((l) => [l.port, l.project, l.key, l.env])).toEqual([
      [20001, 'envs-r-a', 'db/5432/tcp', 'a'],
      [20002, 'envs-r-a', 'web/80/tcp', 'a'],
      [20003, 'envs-r-a', 'web/80/tcp#1', 'a'],
      [20010, 'envs-r-lost', 'api/3000/tcp', 'lost'],
    ]);
    expect(leases[0]?.since).toBe('2026-01-01T00:00:00Z');
    expect(leases[3]?.since).toBe('2026-02-02T00:00:00Z');
  });
});
