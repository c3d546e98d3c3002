import { describe, expect, it } from 'vitest';
import { parseHost, splitHost } from './hosts.ts';

describe('parseHost', () => {
  it('routes <env>.localhost and <target>.<env>.localhost on our port, any case, trailing dot or no port', () => {
    expect(parseHost('feat-x-abc123.localhost:1355', 1355)).toEqual({ kind: 'env', host: 'feat-x-abc123' });
    expect(parseHost('Feat-X-ABC123.LOCALHOST.:1355', 1355)).toEqual({ kind: 'env', host: 'feat-x-abc123' });
    expect(parseHost('feat-x-abc123.localhost', 1355)).toEqual({ kind: 'env', host: 'feat-x-abc123' });
    expect(parseHost('api.feat-x-abc123.localhost:1355', 1355)).toEqual({ kind: 'target', target: 'api', host: 'feat-x-abc123' });
  });

  it('gives envs.localhost to the dashboard and the bare loopback names to the router', () => {
    expect(parseHost('envs.localhost:1355', 1355)).toEqual({ kind: 'dashboard' });
    for (const host of ['localhost:1355', '127.0.0.1:1355', '[::1]:1355', 'LOCALHOST'])
      expect(parseHost(host, 1355)).toEqual({ kind: 'router' });
  });

  it('refuses names it does not own, other ports and a missing Host (no DNS rebinding)', () => {
    for (const host of [
      'evil.com',
      'evil.com:1355',
      'localhost.evil.com:1355',
      'feat.localhost.evil.com',
      'feat-x.localhost:8080',
      '127.0.0.1:80',
      '[::1]:1',
      '10.0.0.5:1355',
      'localhostx:1355',
      '',
      'feat.localhost:99999x',
    ]) {
      expect(parseHost(host, 1355), host).toEqual({ kind: 'foreign' });
    }
    expect(parseHost(undefined, 1355)).toEqual({ kind: 'foreign' });
  });

  it('reports .localhost names of shapes envs never hands out as unknown (404, not routed)', () => {
    expect(parseHost('a.b.c.localhost:1355', 1355)).toEqual({ kind: 'unknown', name: 'a.b.c.localhost' });
    expect(parseHost('-bad.localhost:1355', 1355)).toEqual({ kind: 'unknown', name: '-bad.localhost' });
    expect(parseHost('under_score.localhost:1355', 1355)).toEqual({ kind: 'unknown', name: 'under_score.localhost' });
    expect(parseHost('a b.localhost', 1355)).toEqual({ kind: 'unknown', name: 'a b.localhost' });
  });

  it('splits IPv6 literals from their port', () => {
    expect(splitHost('[::1]:1355')).toEqual({ name: '[::1]', port: 1355 });
    expect(splitHost('[::1]')).toEqual({ name: '[::1]' });
    expect(splitHost('::1')).toBeUndefined();
  });
});
