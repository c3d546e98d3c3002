import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { allocate, type Lease, parseRange } from './allocate.ts';

const owner = { project: 'envs-r-a', repo: 'r', env: 'a' };
const range = { from: 20000, to: 20009 };
const free = async () => true;
const lease = (port: number, project: string, key: string): Lease => ({
  port,
  protocol: 'tcp',
  project,
  key,
  repo: 'r',
  env: project,
  since: 't',
});
const requests = [
  { key: 'db/5432/tcp', protocol: 'tcp' as const },
  { key: 'web/80/tcp', protocol: 'tcp' as const },
];

describe('allocate', () => {
  it('gives distinct ports inside the range', async () => {
    const leases = await allocate({ owner, requests, leases: [], range, isFree: free, now: 't' });
    const ports = leases.map((l) => l.port);
    expect(new Set(ports).size).toBe(2);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThanOrEqual(20009);
    }
  });

  it('keeps the ports an env already holds (stable across down/up), without probing them', async () => {
    const held = [lease(20003, owner.project, 'db/5432/tcp'), lease(20007, owner.project, 'web/80/tcp')];
    const leases = await allocate({ owner, requests, leases: held, range, isFree: async () => false, now: 't' });
    expect(leases.map((l) => l.port).sort()).toEqual([20003, 20007]);
  });

  it('skips ports leased to other envs and ports someone else listens on', async () => {
    const others = Array.from({ length: 8 }, (_, i) => lease(20000 + i, 'envs-r-other', `s${i}/1/tcp`));
    const busy = new Set([20008]);
    const leases = await allocate({
      owner,
      requests: requests.slice(0, 1),
      leases: others,
      range,
      isFree: async (p) => !busy.has(p),
      now: 't',
    });
    expect(leases.filter((l) => l.project === owner.project).map((l) => l.port)).toEqual([20009]);
    expect(leases).toHaveLength(9);
  });

  it('moves a lease whose port just failed to bind', async () => {
    const held = [lease(20003, owner.project, 'db/5432/tcp')];
    const leases = await allocate({
      owner,
      requests: requests.slice(0, 1),
      leases: held,
      range,
      avoid: new Set([20003]),
      isFree: free,
      now: 't',
    });
    expect(leases).toHaveLength(1);
    expect(leases[0]?.port).not.toBe(20003);
  });

  it('keeps the env’s leases for ports it does not publish now: leases last as long as the env', async () => {
    const held = [lease(20003, owner.project, 'db/5432/tcp'), lease(20004, owner.project, 'gone/1/tcp')];
    const leases = await allocate({ owner, requests: requests.slice(0, 1), leases: held, range, isFree: free, now: 't' });
    expect(leases.map((l) => [l.key, l.port])).toEqual([
      ['db/5432/tcp', 20003],
      ['gone/1/tcp', 20004],
    ]);
    // And a key that comes back gets its old port again.
    const again = [...requests.slice(0, 1), { key: 'gone/1/tcp', protocol: 'tcp' as const }];
    const back = await allocate({ owner, requests: again, leases, range, isFree: async () => false, now: 't' });
    expect(back.find((l) => l.key === 'gone/1/tcp')?.port).toBe(20004);
  });

  it('keeps the env’s process leases when it reserves its compose ports, and the other way round', async () => {
    const processLease: Lease = { ...lease(20005, owner.project, 'process:web'), kind: 'process' };
    const held = [lease(20003, owner.project, 'db/5432/tcp'), processLease];
    // A compose reserve does not know the process lease's key, yet keeps it and does not hand out its port.
    const compose = await allocate({ owner, requests, leases: held, range, isFree: free, now: 't' });
    expect(compose).toContainEqual(processLease);
    expect(compose.filter((l) => l.port === 20005)).toHaveLength(1);
    // A process reserve keeps the compose leases, and process leases it no longer asks for too (leases last
    // as long as the env: a process removed from envs.yaml and put back gets its port again).
    const processes = await allocate({
      owner,
      kind: 'process',
      requests: [{ key: 'process:api', protocol: 'tcp' }],
      leases: compose,
      range,
      isFree: free,
      now: 't',
    });
    expect(processes.map((l) => l.key).sort()).toEqual(['db/5432/tcp', 'process:api', 'process:web', 'web/80/tcp']);
    expect(processes.find((l) => l.key === 'process:api')).toMatchObject({ kind: 'process' });
    expect(new Set(processes.map((l) => l.port)).size).toBe(4);
  });

  it('says so when the range is full', async () => {
    const full = Array.from({ length: 10 }, (_, i) => lease(20000 + i, 'envs-r-other', `s${i}/1/tcp`));
    await expect(allocate({ owner, requests, leases: full, range, isFree: free, now: 't' })).rejects.toSatisfy(
      (e: unknown) => EnvsError.is(e) && e.code === 'PORTS_EXHAUSTED' && /20000-20009/.test(e.message),
    );
  });

  it('starts from a hash of the env and key, so different envs rarely probe the same ports first', async () => {
    const wide = { from: 20000, to: 29999 };
    const a = await allocate({ owner, requests, leases: [], range: wide, isFree: free, now: 't' });
    const b = await allocate({ owner: { ...owner, project: 'envs-r-b' }, requests, leases: [], range: wide, isFree: free, now: 't' });
    expect(a.map((l) => l.port)).not.toEqual(b.map((l) => l.port));
  });
});

describe('parseRange', () => {
  it.each([
    ['20000-29999', { from: 20000, to: 29999 }],
    [' 1024 - 2048 ', { from: 1024, to: 2048 }],
    ['80-90', undefined],
    ['25000-25000', { from: 25000, to: 25000 }],
    ['30000-20000', undefined],
    ['20000-70000', undefined],
    ['lots', undefined],
  ])('%j', (text, expected) => {
    expect(parseRange(text)).toEqual(expected);
  });
});
