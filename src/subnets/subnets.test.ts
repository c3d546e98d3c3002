import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { allocateSubnets, type SubnetLease } from './allocate.ts';
import { formatCidr, moveAddress, parseCidr, parseIp, prefixFor } from './cidr.ts';
import { parseSubnetRegistry } from './registry.ts';
import { parseRouteTable } from './routes.ts';

const cidr = (text: string) => parseCidr(text) ?? expect.unreachable(text);
const owner = (project: string) => ({ project, repo: 'r-1', env: project });
const range = { range: cidr('10.213.0.0/16'), source: 'ENVS_SUBNET_RANGE' };

describe('cidr', () => {
  it('parses, masks and prints blocks', () => {
    expect(formatCidr(cidr('172.28.5.9/16'))).toBe('172.28.0.0/16');
    expect(parseCidr('fd00::/64')).toBeUndefined();
    expect(parseCidr('300.1.1.1/8')).toBeUndefined();
  });
  it('moves a host to the same offset in another block, when it fits', () => {
    const ip = parseIp('172.28.1.5') as number;
    expect(moveAddress(ip, cidr('172.28.0.0/16'), cidr('10.213.8.0/21'))).toBe(parseIp('10.213.9.5'));
    expect(moveAddress(ip, cidr('172.28.0.0/16'), cidr('10.213.8.0/24'))).toBeUndefined();
  });
  it('sizes a block for the highest offset used', () => {
    expect(prefixFor(10)).toBe(28);
    expect(prefixFor(1535)).toBe(21);
  });
});

describe('allocateSubnets', () => {
  const now = '2026-12-01T00:00:00Z';
  /** One env asking for /24s under these keys. */
  const ask = (
    project: string,
    keys: string[],
    leases: SubnetLease[],
    more: { occupied?: ReturnType<typeof cidr>[]; range?: typeof range } = {},
  ) =>
    allocateSubnets({
      owner: owner(project),
      requests: keys.map((key) => ({ key, prefix: 24 })),
      leases,
      range: more.range ?? range,
      occupied: more.occupied ?? [],
      now,
    });

  it('gives each network its own block, stable for the env, distinct across envs', () => {
    const a = ask('a', ['default', 'back'], []);
    expect(a.map((l) => l.key)).toEqual(['default', 'back']);
    expect(new Set(a.map((l) => l.cidr)).size).toBe(2);
    const again = ask('a', ['default', 'back'], a);
    expect(again).toEqual(a);
    const b = ask('b', ['default'], a);
    const mineB = b.filter((l) => l.project === 'b');
    expect(a.map((l) => l.cidr)).not.toContain(mineB[0]?.cidr);
  });

  it('keeps a lease the env no longer asks for (leases last as long as the env)', () => {
    const a = ask('a', ['default', 'back'], []);
    const fewer = ask('a', ['default'], a);
    expect(fewer).toEqual(a);
  });

  it('skips blocks something else occupies, and moves a lease that became occupied', () => {
    const occupied = [cidr('10.213.0.0/17')];
    const [lease] = ask('a', ['default'], [], { occupied });
    expect(parseIp((lease?.cidr ?? '').split('/')[0] as string)).toBeGreaterThanOrEqual(parseIp('10.213.128.0') as number);
    const moved = ask('a', ['default'], [lease as SubnetLease], { occupied: [cidr(lease?.cidr as string)] });
    expect(moved[0]?.cidr).not.toBe(lease?.cidr);
  });

  it('refuses when the range is full, naming the setting', () => {
    const small = { range: cidr('10.213.0.0/23'), source: 'networks.range in envs.yaml' };
    const full = ask('a', ['x', 'y'], [], { range: small });
    try {
      ask('b', ['default'], full, { range: small });
      expect.unreachable();
    } catch (error) {
      expect(EnvsError.is(error) && error.code).toBe('SUBNETS_EXHAUSTED');
      expect((error as EnvsError).message).toMatch(/No free \/24 subnet left in 10\.213\.0\.0\/23 .*networks\.range in envs\.yaml/);
    }
  });
});

describe('parseRouteTable', () => {
  it('reads LAN and VPN routes, not the default route nor the engine’s bridges', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
      'br-1a2b3c\t00D5000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'tun0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
    ].join('\n');
    expect(parseRouteTable(table).map(formatCidr)).toEqual(['192.0.2.0/24', '10.0.0.0/8']);
  });
});

describe('parseSubnetRegistry', () => {
  it('reads what envs wrote and refuses a lease that is not a block', () => {
    const lease = { cidr: '10.213.4.0/24', project: 'p', repo: 'r', env: 'e', key: 'default', since: 'x' };
    expect(parseSubnetRegistry(JSON.stringify({ version: 1, leases: [lease] }), 'subnets.json')).toHaveLength(1);
    expect(() => parseSubnetRegistry(JSON.stringify({ version: 1, leases: [{ ...lease, cidr: 'bogus' }] }), 'subnets.json')).toThrow(
      /subnets\.json is not a subnet registry/,
    );
  });
});
