import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EnvsError } from '../../errors.ts';
import { allocate, type Lease } from '../../ports/allocate.ts';
import { buildAddressMap } from '../addresses.ts';
import {
  classifySupabaseCommand,
  parseSupabaseConfig,
  pickSupabaseConfig,
  sanitizeProjectId,
  supabaseAddressEntries,
  supabaseEnvFor,
  supabasePortRequests,
  supabasePortsFromLeases,
  supabaseProjectId,
  supabaseVariables,
} from './supabase.ts';

const FIXTURES = ['default', 'local-smtp', 'custom-project-id'] as const;
const fixture = (name: string, file: string) => new URL(`../__fixtures__/supabase/${name}/${file}`, import.meta.url);

/** One env of the fixture repository: its Supabase ports and its web process leased together, as create does. */
async function envOf(name: (typeof FIXTURES)[number], env: { name: string; project: string }, leases: Lease[] = []) {
  const project = parseSupabaseConfig(await readFile(fixture(name, 'supabase/config.toml'), 'utf8'), 'supabase/config.toml');
  const requests = [...supabasePortRequests(project), { key: 'process:web', protocol: 'tcp' as const }];
  const all = await allocate({
    owner: { project: env.project, repo: 'fixture', env: env.name },
    requests: requests.map(({ key, protocol }) => ({ key, protocol })),
    leases,
    range: { from: 20000, to: 29999 },
    isFree: async () => true,
    now: '2026-01-01T00:00:00.000Z',
  });
  const mine = all.filter((l) => l.project === env.project);
  const ports = supabasePortsFromLeases(mine);
  const web = mine.find((l) => l.key === 'process:web')?.port as number;
  const map = buildAddressMap([
    ...supabaseAddressEntries(project, ports),
    { original: 3000, port: web, source: { kind: 'process', name: 'web' } },
  ]);
  const projectId = supabaseProjectId(project.projectId, env.name, env.project);
  return { project, requests, all, ports, web, projectId, variables: supabaseVariables(project, { projectId, ports, map }) };
}

const A = { name: 'feat-login-3f9a2c', project: 'envs-app-1c2d-feat-login-3f9a2c' };
const B = { name: 'fix-billing-91ab07', project: 'envs-app-1c2d-fix-billing-91ab07' };

describe('Supabase adapter, golden files', () => {
  it.each(FIXTURES)('%s/supabase/config.toml → expected.json', async (name) => {
    const a = await envOf(name, A);
    const actual = {
      project: a.project,
      requests: a.requests,
      projectId: a.projectId,
      ports: a.ports,
      web: a.web,
      env: a.variables.env,
      changes: a.variables.changes,
      warnings: a.variables.warnings,
    };
    const golden = fixture(name, 'expected.json');
    if (process.env.ENVS_UPDATE_GOLDEN === '1') await writeFile(golden, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(await readFile(golden, 'utf8')));
  });

  it.each(FIXTURES)('%s: two envs get disjoint port sets and distinct project ids', async (name) => {
    const a = await envOf(name, A);
    const b = await envOf(name, B, a.all);
    const portsA = Object.values(a.ports);
    const portsB = Object.values(b.ports);
    expect(new Set([...portsA, ...portsB]).size).toBe(portsA.length + portsB.length);
    expect(a.projectId).not.toBe(b.projectId);
    // Every port variable differs between the two envs; none is the main checkout's.
    const originals = new Set(a.project.ports.map((p) => String(p.original)));
    for (const [key, value] of Object.entries(a.variables.env)) {
      if (!key.endsWith('_PORT')) continue;
      expect(b.variables.env[key]).not.toBe(value);
      expect(originals.has(value)).toBe(false);
    }
  });

  it('sets every port through the variable names the CLI reads, both spellings for the mail server', async () => {
    const { variables } = await envOf('local-smtp', A);
    expect(Object.keys(variables.env).sort()).toEqual([
      'SUPABASE_ANALYTICS_PORT',
      'SUPABASE_API_PORT',
      'SUPABASE_AUTH_ADDITIONAL_REDIRECT_URLS',
      'SUPABASE_AUTH_EXTERNAL_GITHUB_REDIRECT_URI',
      'SUPABASE_AUTH_SITE_URL',
      'SUPABASE_DB_POOLER_PORT',
      'SUPABASE_DB_PORT',
      'SUPABASE_DB_SHADOW_PORT',
      'SUPABASE_EDGE_RUNTIME_INSPECTOR_PORT',
      'SUPABASE_INBUCKET_POP3_PORT',
      'SUPABASE_INBUCKET_PORT',
      'SUPABASE_INBUCKET_SMTP_PORT',
      'SUPABASE_LOCAL_SMTP_POP3_PORT',
      'SUPABASE_LOCAL_SMTP_PORT',
      'SUPABASE_LOCAL_SMTP_SMTP_PORT',
      'SUPABASE_PROJECT_ID',
      'SUPABASE_STUDIO_PORT',
    ]);
    // Wrong names seen in the wild are never used.
    expect(Object.keys(variables.env)).not.toContain('SUPABASE_POOLER_PORT');
    expect(Object.keys(variables.env)).not.toContain('SUPABASE_INSPECTOR_PORT');
  });

  it('makes auth URLs follow the web app and the API, leaving remote and other-port URLs alone', async () => {
    const { variables, web, ports } = await envOf('local-smtp', A);
    expect(variables.env.SUPABASE_AUTH_SITE_URL).toBe(`http://localhost:${web}`);
    expect(variables.env.SUPABASE_AUTH_ADDITIONAL_REDIRECT_URLS).toBe(
      `http://localhost:${web}/auth/callback,http://localhost:3001/**,https://capstone.dev/**`,
    );
    expect(variables.env.SUPABASE_AUTH_EXTERNAL_GITHUB_REDIRECT_URI).toBe(`http://localhost:${ports.api}/auth/v1/callback`);
  });
});

describe('project ids', () => {
  it('are what the CLI would keep unchanged, at most 40 characters, starting alphanumeric', () => {
    for (const original of [undefined, 'my-app', 'Acme Platform (prod mirror) / local', '---x', 'ü'.repeat(50)]) {
      const id = supabaseProjectId(original, 'a-very-long-branch-name-that-goes-on-and-on-0a1b2c', 'envs-repo-1234-x');
      expect(id.length).toBeLessThanOrEqual(40);
      expect(sanitizeProjectId(id)).toBe(id);
      expect(id).toMatch(/^[a-z0-9]/);
    }
    expect(supabaseProjectId('my-app', 'feat-login-3f9a2c', A.project)).toMatch(/^my-app-feat-login-3f9a2c-[0-9a-f]{8}$/);
  });

  it('differ for the same branch in two clones (the compose project differs)', () => {
    expect(supabaseProjectId('app', 'feat-x-123456', 'envs-app-aaaa-feat-x-123456')).not.toBe(
      supabaseProjectId('app', 'feat-x-123456', 'envs-app-bbbb-feat-x-123456'),
    );
  });
});

describe('pickSupabaseConfig', () => {
  it('finds the one project, at the root or in an app directory', () => {
    expect(pickSupabaseConfig(['package.json', 'supabase/config.toml'])).toBe('supabase/config.toml');
    expect(pickSupabaseConfig(['apps/web/supabase/config.toml', 'apps/web/package.json'])).toBe('apps/web/supabase/config.toml');
    expect(pickSupabaseConfig(['supabase/config.toml'], { enabled: false })).toBeUndefined();
    expect(pickSupabaseConfig(['config.toml'])).toBeUndefined();
  });

  it('asks which one when there are several, and checks supabase.dir', () => {
    const paths = ['apps/api/supabase/config.toml', 'apps/web/supabase/config.toml'];
    expect(() => pickSupabaseConfig(paths)).toThrow(
      'This repository has several Supabase projects: apps/api/supabase/config.toml, apps/web/supabase/config.toml.',
    );
    expect(pickSupabaseConfig(paths, { dir: 'apps/web' })).toBe('apps/web/supabase/config.toml');
    const error = (() => {
      try {
        pickSupabaseConfig(paths, { dir: 'apps/nope' });
      } catch (e) {
        return e;
      }
    })();
    expect(EnvsError.is(error) && error.code).toBe('CONFIG_INVALID');
  });

  it("reports broken TOML as the user's to fix", () => {
    expect(() => parseSupabaseConfig('[api\nport = 1', 'supabase/config.toml')).toThrow(/supabase\/config.toml is not valid TOML/);
  });
});

describe('local vs linked commands', () => {
  it.each([
    [['supabase', 'start'], 'local'],
    [['supabase', 'db', 'reset'], 'local'],
    [['supabase', 'status', '-o', 'env'], 'local'],
    [['supabase', 'migration', 'new', 'add_users'], 'local'],
    [['supabase', 'functions', 'serve'], 'local'],
    [['supabase', 'gen', 'types', 'typescript', '--local'], 'local'],
    [['supabase', 'db', 'push', '--local'], 'local'],
    [['supabase', 'stop'], 'local'],
    [['supabase', 'stop', '--project-id', 'other'], 'local'],
    [['supabase', '--workdir', 'apps/web', 'start'], 'local'],
    [['npx', 'supabase@latest', 'start'], 'local'],
    [['supabase', 'some-future-command'], 'local'],
    [['supabase', 'link', '--project-ref', 'abcdefghijklmnopqrst'], 'remote'],
    [['supabase', 'db', 'push'], 'remote'],
    [['supabase', 'db', 'pull'], 'remote'],
    [['supabase', 'db', 'reset', '--linked'], 'remote'],
    [['supabase', 'db', 'diff', '--linked'], 'remote'],
    [['supabase', 'functions', 'deploy', 'send-email'], 'remote'],
    [['supabase', 'config', 'push'], 'remote'],
    [['supabase', 'secrets', 'set', 'A=1'], 'remote'],
    [['supabase', 'migration', 'list'], 'remote'],
    [['supabase', 'gen', 'types', '--project-id', 'abcdefghijklmnopqrst'], 'remote'],
    [['pnpm', 'exec', 'supabase', 'db', 'push'], 'remote'],
    [['pnpm', '--filter', 'web', 'exec', 'supabase', 'db', 'push'], 'remote'],
    [['bunx', 'supabase', '--workdir', 'x', 'functions', 'deploy'], 'remote'],
    [['supabase', 'stop', '--all'], 'blocked'],
    [['pnpm', 'dev'], 'other'],
    [['node', 'scripts/supabase', 'db', 'push'], 'other'],
  ])('%j → %s', (argv, target) => {
    expect(classifySupabaseCommand(argv).target).toBe(target);
  });

  it('gives local and unrelated commands the variables, remote ones none, and says why it refuses', () => {
    const vars = { SUPABASE_PROJECT_ID: 'app-feat-x-12345678', SUPABASE_API_PORT: '25321' };
    expect(supabaseEnvFor(['supabase', 'start'], vars)).toEqual({ env: vars });
    expect(supabaseEnvFor(['pnpm', 'dev'], vars)).toEqual({ env: vars });
    expect(supabaseEnvFor(['supabase', 'db', 'push'], vars)).toEqual({ env: {} });
    expect(supabaseEnvFor(['supabase', 'stop', '--all'], vars).refuse).toMatch(/other envs included/);
  });
});
