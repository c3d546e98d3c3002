import { describe, expect, it } from 'vitest';
import {
  type AddressEntry,
  buildAddressMap,
  composeAddressEntries,
  describeChange,
  processAddressEntries,
  redactChange,
  rewriteServiceEnvironments,
  rewriteValue,
  rewriteVariables,
} from './addresses.ts';

const entries: AddressEntry[] = [
  { original: 5432, port: 21437, source: { kind: 'compose', service: 'db', target: 5432 } },
  { original: 8000, port: 22800, source: { kind: 'compose', service: 'kong', target: 8000 } },
  { original: 9000, port: 23900, source: { kind: 'compose', service: 'minio', target: 9000 } },
  { original: 3000, port: 24300, source: { kind: 'process', name: 'web' } },
  { original: 54321, port: 25321, source: { kind: 'supabase', key: 'api' } },
  { original: 54322, port: 25322, source: { kind: 'supabase', key: 'db' } },
  { original: 80, port: 26080, source: { kind: 'compose', service: 'proxy', target: 80 } },
  { original: 6379, port: 27379, source: { kind: 'compose', service: 'redis', target: 6379 } },
];
const map = buildAddressMap(entries);
const host = (value: string) => rewriteValue(map, value, { side: 'host' }).value;

describe('rewriteValue on the host side', () => {
  it.each([
    ['postgres://postgres:s3cr%40t@localhost:5432/app?sslmode=disable', 'postgres://postgres:s3cr%40t@localhost:21437/app?sslmode=disable'],
    ['postgresql://postgres:postgres@127.0.0.1:54322/postgres', 'postgresql://postgres:postgres@127.0.0.1:25322/postgres'],
    ['http://127.0.0.1:54321', 'http://127.0.0.1:25321'],
    ['http://localhost:8000', 'http://localhost:22800'],
    ['http://localhost:8000/auth/v1/callback', 'http://localhost:22800/auth/v1/callback'],
    ['http://localhost:3000', 'http://localhost:24300'],
    ['http://[::1]:3000/login', 'http://127.0.0.1:24300/login'],
    ['[::1]:5432', '127.0.0.1:21437'],
    ['0.0.0.0:8000', '0.0.0.0:22800'],
    ['localhost:5432', 'localhost:21437'],
    ['http://app.localhost:3000/', 'http://app.localhost:24300/'],
    ['http://LOCALHOST:3000', 'http://LOCALHOST:24300'],
    ['http://localhost:9000/bucket', 'http://localhost:23900/bucket'],
    ['http://host.docker.internal:54321', 'http://host.docker.internal:25321'],
  ])('%s → %s', (before, after) => {
    expect(host(before)).toBe(after);
  });

  it('rewrites every URL of a comma- or space-separated redirect list', () => {
    expect(host('http://localhost:3000,http://localhost:3000/**,https://myapp.example.com/**')).toBe(
      'http://localhost:24300,http://localhost:24300/**,https://myapp.example.com/**',
    );
    expect(host('http://127.0.0.1:3000 http://localhost:3000/auth/callback')).toBe(
      'http://127.0.0.1:24300 http://localhost:24300/auth/callback',
    );
  });

  it('rewrites inside JSON-ish strings', () => {
    expect(host('{"api":"http://localhost:8000","db":"localhost:5432","other":"db:5432"}')).toBe(
      '{"api":"http://localhost:22800","db":"localhost:21437","other":"db:5432"}',
    );
  });

  it('fills in the port a URL means when it names none (scheme defaults)', () => {
    expect(host('postgres://u:p@localhost/app')).toBe('postgres://u:p@localhost:21437/app');
    expect(host('http://localhost/health')).toBe('http://localhost:26080/health');
    expect(host('redis://localhost')).toBe('redis://localhost:27379');
    // https → 443: not in the map, untouched.
    expect(host('https://localhost/')).toBe('https://localhost/');
    // A bare host with no scheme and no port says nothing about a port.
    expect(host('localhost')).toBe('localhost');
  });

  it.each([
    ['db:5432 (a Compose service name)', 'postgres://u:p@db:5432/app'],
    ['another host on the same port', 'http://example.com:8000/x'],
    ['a host that merely ends in localhost', 'http://mylocalhost:8000'],
    ['a host that starts with localhost', 'http://localhost.example.com:8000'],
    ['a longer dotted address', 'http://10.127.0.0.1:8000'],
    ['a port not in the map', 'http://localhost:8080'],
    ['a longer port that starts with a mapped one', 'http://localhost:54320'],
    ['a port followed by more digits', 'localhost:543210'],
    ['`:5432` in a path', 'https://example.com/files/report:5432/x?range=0:5432'],
    ['`:5432` in the path of a local URL', 'http://localhost:8080/tables/t:5432'],
    ['an S3 endpoint elsewhere', 'https://s3.eu-west-1.amazonaws.com'],
    ['an empty value', ''],
  ])('leaves %s alone', (_why, value) => {
    expect(host(value)).toBe(value);
  });

  it('reports each replaced fragment with its source, never the whole value', () => {
    const result = rewriteValue(map, 'postgres://u:hunter2@localhost:5432/app', { side: 'host' });
    expect(result.replacements).toEqual([
      {
        from: 'localhost:5432',
        to: 'localhost:21437',
        original: 5432,
        port: 21437,
        source: { kind: 'compose', service: 'db', target: 5432 },
      },
    ]);
    expect(JSON.stringify(result.replacements)).not.toContain('hunter2');
  });
});

describe('rewriteValue on the container side', () => {
  const container = (value: string, ownPorts: number[] = []) => rewriteValue(map, value, { side: 'container', ownPorts });

  it('rewrites a URL another service hands to browsers', () => {
    expect(container('http://localhost:8000').value).toBe('http://localhost:22800');
    expect(container('http://host.docker.internal:54321').value).toBe('http://host.docker.internal:25321');
  });

  it("leaves a loopback address on the service's own container port alone, and says why", () => {
    const result = container('http://localhost:8000', [8000]);
    expect(result.value).toBe('http://localhost:8000');
    expect(result.skipped).toEqual([{ fragment: 'localhost:8000', reason: "port 8000 is also this service's own container port" }]);
  });

  it('never rewrites listen addresses', () => {
    expect(container('0.0.0.0:8000').value).toBe('0.0.0.0:8000');
    expect(container('[::]:3000').value).toBe('[::]:3000');
  });
});

describe('rewriteVariables', () => {
  it('rewrites realistic env-file values and reports one change per key', () => {
    const vars = {
      DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:54322/postgres',
      DIRECT_URL: 'postgres://app:p%40ss@localhost:5432/app',
      NEXT_PUBLIC_SUPABASE_URL: 'http://127.0.0.1:54321',
      NEXT_PUBLIC_SUPABASE_ANON_KEY: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.local',
      NEXTAUTH_URL: 'http://localhost:3000',
      SITE_URL: 'http://localhost:3000',
      API_EXTERNAL_URL: 'http://localhost:8000',
      ADDITIONAL_REDIRECT_URLS: 'http://localhost:3000/**,https://preview.example.com/**',
      S3_ENDPOINT: 'http://localhost:9000',
      DB_PORT: '5432',
      OTHER_NUMBER: '5432',
      REMOTE_DB: 'postgres://u:p@db.example.com:5432/x',
    };
    const result = rewriteVariables(map, 'apps/web/.env.local', vars, { side: 'host', barePorts: true });
    expect(result.vars).toEqual({
      ...vars,
      DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:25322/postgres',
      DIRECT_URL: 'postgres://app:p%40ss@localhost:21437/app',
      NEXT_PUBLIC_SUPABASE_URL: 'http://127.0.0.1:25321',
      NEXTAUTH_URL: 'http://localhost:24300',
      SITE_URL: 'http://localhost:24300',
      API_EXTERNAL_URL: 'http://localhost:22800',
      ADDITIONAL_REDIRECT_URLS: 'http://localhost:24300/**,https://preview.example.com/**',
      S3_ENDPOINT: 'http://localhost:23900',
      DB_PORT: '21437',
    });
    expect(result.changes.map((c) => c.key)).toEqual([
      'DATABASE_URL',
      'DIRECT_URL',
      'NEXT_PUBLIC_SUPABASE_URL',
      'NEXTAUTH_URL',
      'SITE_URL',
      'API_EXTERNAL_URL',
      'ADDITIONAL_REDIRECT_URLS',
      'S3_ENDPOINT',
      'DB_PORT',
    ]);
    expect(result.changes.every((c) => c.where === 'apps/web/.env.local')).toBe(true);
  });

  it('rewrites bare *_PORT values only when asked, and never on the container side', () => {
    expect(rewriteVariables(map, 'f', { DB_PORT: '5432' }, { side: 'host' }).vars.DB_PORT).toBe('5432');
    expect(rewriteVariables(map, 'f', { PORT: '3000' }, { side: 'container', barePorts: true }).vars.PORT).toBe('3000');
    expect(rewriteVariables(map, 'f', { PORT: '3000' }, { side: 'host', barePorts: true }).vars.PORT).toBe('24300');
  });
});

describe('rewriteServiceEnvironments', () => {
  it("rewrites what a service hands out, keeps its own listen settings, passes Compose's $$ escapes through", () => {
    const result = rewriteServiceEnvironments(map, {
      auth: {
        environment: {
          API_EXTERNAL_URL: 'http://localhost:8000',
          GOTRUE_SITE_URL: 'http://localhost:3000',
          GOTRUE_DB_DATABASE_URL: 'postgres://supabase_auth_admin:pa$$word@db:5432/postgres',
          EMPTY: null,
        },
      },
      kong: {
        environment: { KONG_PROXY_LISTEN: '0.0.0.0:8000', KONG_SELF: 'http://localhost:8000' },
        ports: [{ target: 8000 }],
      },
      untouched: { environment: { A: 'b' } },
    });
    expect(result.environments).toEqual({
      auth: {
        API_EXTERNAL_URL: 'http://localhost:22800',
        GOTRUE_SITE_URL: 'http://localhost:24300',
        GOTRUE_DB_DATABASE_URL: 'postgres://supabase_auth_admin:pa$$word@db:5432/postgres',
        EMPTY: null,
      },
    });
    expect(result.changes.map((c) => `${c.where} ${c.key}`)).toEqual(['service auth API_EXTERNAL_URL', 'service auth GOTRUE_SITE_URL']);
    expect(result.skipped.map((s) => `${s.where} ${s.key}`)).toEqual(['service kong KONG_PROXY_LISTEN', 'service kong KONG_SELF']);
  });
});

describe('buildAddressMap', () => {
  it('does not rewrite an original two sources claim with different ports, and warns', () => {
    const clash = buildAddressMap([
      { original: 3000, port: 21000, source: { kind: 'process', name: 'web' } },
      { original: 3000, port: 22000, source: { kind: 'compose', service: 'app', target: 3000 } },
      { original: 5432, port: 21437, source: { kind: 'compose', service: 'db', target: 5432 } },
    ]);
    expect(rewriteValue(clash, 'http://localhost:3000', { side: 'host' }).value).toBe('http://localhost:3000');
    expect(clash.warnings).toEqual([
      'Host port 3000 is used by process web and compose service app (container port 3000); values pointing at it are not rewritten (set them with env: in envs.yaml).',
    ]);
    expect(clash.entries.map((e) => e.original)).toEqual([5432]);
  });

  it('accepts the same mapping twice (tcp and udp of one port)', () => {
    const twice = buildAddressMap([
      { original: 53, port: 21053, source: { kind: 'compose', service: 'dns', target: 53 } },
      { original: 53, port: 21053, source: { kind: 'compose', service: 'dns', target: 53 } },
    ]);
    expect(twice.warnings).toEqual([]);
    expect(rewriteValue(twice, '127.0.0.1:53', { side: 'host' }).value).toBe('127.0.0.1:21053');
  });
});

describe('redactChange / describeChange', () => {
  it('masks passwords in every URL of a value and whole values of secret-named keys', () => {
    const [change] = rewriteVariables(map, '.env', { DATABASE_URL: 'postgres://app:hunter2@localhost:5432/app' }, { side: 'host' }).changes;
    expect(describeChange(change as never)).toBe(
      '.env DATABASE_URL: postgres://app:***@localhost:5432/app → postgres://app:***@localhost:21437/app',
    );
    const list = rewriteVariables(map, '.env', { URLS: 'redis://:pw1@localhost:6379,postgres://u:pw2@localhost:5432/x' }, { side: 'host' });
    const shown = redactChange(list.changes[0] as never);
    expect(shown.after).toBe('redis://:***@localhost:27379,postgres://u:***@localhost:21437/x');
    const secret = rewriteVariables(map, '.env', { SERVICE_TOKEN: 'http://localhost:8000?t=abc' }, { side: 'host' });
    expect(redactChange(secret.changes[0] as never)).toMatchObject({ before: '***', after: '***' });
  });
});

describe('entries from compose requests and processes', () => {
  it('takes single requested host ports, skipping ranges and ephemeral ones', () => {
    const ports = new Map([
      ['db/5432/tcp', 21437],
      ['web/80/tcp', 21080],
      ['range/8000/tcp', 21800],
      ['eph/9000/tcp', 21900],
    ]);
    expect(
      composeAddressEntries(
        [
          { key: 'db/5432/tcp', service: 'db', target: 5432, requested: '5432' },
          { key: 'web/80/tcp', service: 'web', target: 80, requested: '8080' },
          { key: 'range/8000/tcp', service: 'range', target: 8000, requested: '8000-8010' },
          { key: 'eph/9000/tcp', service: 'eph', target: 9000 },
          { key: 'unleased/1/tcp', service: 'unleased', target: 1, requested: '1' },
        ],
        ports,
      ),
    ).toEqual([
      { original: 5432, port: 21437, source: { kind: 'compose', service: 'db', target: 5432 } },
      { original: 8080, port: 21080, source: { kind: 'compose', service: 'web', target: 80 } },
    ]);
    expect(processAddressEntries([{ name: 'web', original: 3000, port: 24300 }])).toEqual([
      { original: 3000, port: 24300, source: { kind: 'process', name: 'web' } },
    ]);
  });
});
