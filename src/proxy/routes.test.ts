import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../testing/record.ts';
import { buildTable, resolveRoute } from './routes.ts';
import { previewOf, routerUrls, targetsOf } from './targets.ts';

const tcp = (service: string, target: number, published: number) => ({ service, target, published, host_ip: '127.0.0.1', protocol: 'tcp' });

describe('route choice', () => {
  it('previews the first HTTP service in compose order; other services by name; non-HTTP ports get no URL', () => {
    const record = sampleRecord({
      ports: [tcp('db', 5432, 21000), tcp('web', 80, 21001), tcp('web', 443, 21002), tcp('api', 3000, 21003)],
    });
    expect(targetsOf(record).map((t) => [t.name, t.port, t.http])).toEqual([
      ['db', 21000, false],
      ['web', 21001, true],
      ['api', 21003, true],
    ]);
    expect(previewOf(record)?.name).toBe('web');
    expect(routerUrls(record, 1355)).toEqual({ web: 'http://x-1.localhost:1355', api: 'http://api.x-1.localhost:1355' });
  });

  it('prefers a host process with a port (the dev server), and `preview:` over both', () => {
    const record = sampleRecord({ ports: [tcp('web', 80, 21001)], processPorts: { next: 23000 } });
    expect(previewOf(record)).toMatchObject({ name: 'next', kind: 'process', port: 23000, address: 'localhost' });
    expect(routerUrls(record, 1)).toEqual({ next: 'http://x-1.localhost:1', web: 'http://web.x-1.localhost:1' });
    expect(previewOf({ ...record, preview: 'web' })?.name).toBe('web');
    expect(previewOf({ ...record, preview: 'gone' })?.name).toBe('next');
  });

  it('has no preview when nothing speaks HTTP (app_protocol decides over the port number)', () => {
    expect(previewOf(sampleRecord({ ports: [tcp('db', 5432, 21000)] }))).toBeUndefined();
    expect(previewOf(sampleRecord({ ports: [tcp('ui', 9000, 21000)], appProtocols: { 'ui/9000': 'http' } }))?.name).toBe('ui');
    expect(previewOf(sampleRecord({ ports: [tcp('web', 80, 21000)], appProtocols: { 'web/80': 'grpc' } }))).toBeUndefined();
  });
});

describe('resolveRoute', () => {
  const a = sampleRecord({ name: 'feat-a', host: 'feat-a', repoId: 'one-1111', ports: [tcp('web', 80, 21001), tcp('db', 5432, 21002)] });
  const same = (repoId: string, port: number) =>
    sampleRecord({ name: 'fix-1', host: 'fix-1', repoId, repo: `/${repoId}`, ports: [tcp('web', 80, port)] });

  it('finds an env by host and its targets by name', () => {
    const table = buildTable([a]);
    expect(resolveRoute(table, 'feat-a', undefined)).toMatchObject({ kind: 'route', target: { name: 'web', port: 21001 } });
    expect(resolveRoute(table, 'feat-a', 'db')).toMatchObject({ kind: 'route', target: { name: 'db', port: 21002 } });
    expect(resolveRoute(table, 'feat-a', 'nope')).toMatchObject({ kind: 'no-target', wanted: 'nope' });
    expect(resolveRoute(table, 'feat-b', undefined)).toEqual({ kind: 'none' });
  });

  it('never guesses between two repositories with the same host: ambiguous, each reachable as <host>--<repoId>', () => {
    const table = buildTable([same('one-1111', 21001), same('two-2222', 22001)]);
    expect(resolveRoute(table, 'fix-1', undefined)).toMatchObject({
      kind: 'ambiguous',
      envs: [{ repoId: 'one-1111' }, { repoId: 'two-2222' }],
    });
    expect(resolveRoute(table, 'fix-1--two-2222', undefined)).toMatchObject({ kind: 'route', target: { port: 22001 } });
    expect(resolveRoute(table, 'fix-1--one-1111', 'web')).toMatchObject({ kind: 'route', target: { port: 21001 } });
  });
});
