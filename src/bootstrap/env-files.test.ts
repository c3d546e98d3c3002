import { describe, expect, it } from 'vitest';
import { buildAddressMap } from './addresses.ts';
import { parseEnv, withManagedBlock } from './dotenv-format.ts';
import { type EnvFilesPlan, isDotenvName, modeTargets, type PlanInput, planEnvFiles, type SourceFile, sha256 } from './env-files.ts';

const map = buildAddressMap([
  { original: 5432, port: 21437, source: { kind: 'compose', service: 'db', target: 5432 } },
  { original: 54321, port: 25321, source: { kind: 'supabase', key: 'api' } },
  { original: 3000, port: 24300, source: { kind: 'process', name: 'web' } },
]);
const src = (path: string, text: string, from: SourceFile['from'] = 'default'): SourceFile => ({ path, from, content: Buffer.from(text) });
const plan = (input: Partial<PlanInput> & Pick<PlanInput, 'sources'>): EnvFilesPlan =>
  planEnvFiles({ modeLocal: [], map, label: 'env feat-x-3f9a2c', ...input });
const text = (p: EnvFilesPlan, path: string) => p.files.find((f) => f.path === path)?.content?.toString('utf8');
const vars = (p: EnvFilesPlan, path: string) => parseEnv(text(p, path) ?? '');

describe('isDotenvName', () => {
  it.each([
    ['.env', true],
    ['apps/web/.env.local', true],
    ['supabase/functions/.env', true],
    ['.dev.vars', true],
    ['workers/api/.dev.vars.staging', true],
    ['.env.example', false],
    ['.env.local.sample', false],
    ['.env.template', false],
    ['.envrc', false],
    ['config/local.json', false],
  ])('%s → %s', (path, expected) => {
    expect(isDotenvName(path)).toBe(expected);
  });
});

describe('planEnvFiles outside Next.js apps: a block in the copied file itself', () => {
  it('rewrites values in place, keeping the user lines and the untouched values', () => {
    const user = '# local db\nDATABASE_URL=postgres://app:pw@localhost:5432/app\nREMOTE=https://api.example.com\n';
    const p = plan({ sources: [src('.env', user), src('supabase/functions/.env', 'SUPABASE_URL=http://127.0.0.1:54321\n')] });
    expect(text(p, '.env')?.startsWith(user)).toBe(true);
    expect(vars(p, '.env')).toEqual({ DATABASE_URL: 'postgres://app:pw@localhost:21437/app', REMOTE: 'https://api.example.com' });
    expect(vars(p, 'supabase/functions/.env')).toEqual({ SUPABASE_URL: 'http://127.0.0.1:25321' });
    expect(p.changes.map((c) => `${c.where} ${c.key}`)).toEqual(['.env DATABASE_URL', 'supabase/functions/.env SUPABASE_URL']);
    expect(p.files.find((f) => f.path === '.env')?.block).toEqual({ DATABASE_URL: 'postgres://app:pw@localhost:21437/app' });
  });

  it('copies a file with nothing to rewrite byte for byte, and non-dotenv files too', () => {
    const binary = Buffer.from([0, 1, 2, 255]);
    const p = plan({ sources: [src('.env', 'A=1\n'), { path: 'certs/dev.pem', from: '.worktreeinclude', content: binary }] });
    expect(text(p, '.env')).toBe('A=1\n');
    expect(p.files.find((f) => f.path === 'certs/dev.pem')?.content?.equals(binary)).toBe(true);
    expect(p.changes).toEqual([]);
  });

  it('names the symlink target a copy came from', () => {
    const p = plan({ sources: [{ ...src('.env', 'A=1\n'), via: 'config/shared.env' }] });
    expect(p.files[0]?.copiedFrom).toBe('config/shared.env');
  });
});

describe('planEnvFiles in a Next.js app: .env.<mode>.local', () => {
  const sources = [
    src('apps/web/.env', 'DATABASE_URL=postgres://u:p@localhost:5432/app\nNEXT_PUBLIC_SUPABASE_URL=http://127.0.0.1:54321\n'),
    src('apps/web/.env.local', 'NEXT_PUBLIC_SUPABASE_URL=https://abc.supabase.co\nNEXTAUTH_URL=http://localhost:3000\n'),
    src('apps/web/.env.staging', 'DATABASE_URL=postgres://u:p@localhost:5432/staging\n'),
  ];

  it("writes each mode's effective rewritten values to its top-priority file and copies the rest unchanged", () => {
    const p = plan({ sources, modeLocal: ['apps/web'] });
    expect(text(p, 'apps/web/.env')).toBe(sources[0]?.content.toString());
    expect(text(p, 'apps/web/.env.local')).toBe(sources[1]?.content.toString());
    // development: .env.local overrides the Supabase URL with a remote one, so only the local ones move.
    expect(vars(p, 'apps/web/.env.development.local')).toEqual({
      DATABASE_URL: 'postgres://u:p@localhost:21437/app',
      NEXTAUTH_URL: 'http://localhost:24300',
    });
    // test skips .env.local.
    expect(vars(p, 'apps/web/.env.test.local')).toEqual({
      DATABASE_URL: 'postgres://u:p@localhost:21437/app',
      NEXT_PUBLIC_SUPABASE_URL: 'http://127.0.0.1:25321',
    });
    expect(vars(p, 'apps/web/.env.production.local')).toEqual(vars(p, 'apps/web/.env.development.local'));
    // A file outside Next's chains keeps its own block.
    expect(vars(p, 'apps/web/.env.staging')).toEqual({ DATABASE_URL: 'postgres://u:p@localhost:21437/staging' });
    expect(p.files.map((f) => f.path)).toEqual([
      'apps/web/.env',
      'apps/web/.env.development.local',
      'apps/web/.env.local',
      'apps/web/.env.production.local',
      'apps/web/.env.staging',
      'apps/web/.env.test.local',
    ]);
  });

  it('appends to a copied .env.development.local, after its own lines, and skips modes with nothing to rewrite', () => {
    const p = plan({
      sources: [src('apps/web/.env.development.local', 'DATABASE_URL=postgres://u:p@localhost:5432/app\nDEBUG=1\n')],
      modeLocal: ['apps/web'],
    });
    expect(
      text(p, 'apps/web/.env.development.local')?.startsWith('DATABASE_URL=postgres://u:p@localhost:5432/app\nDEBUG=1\n\n# >>> envs'),
    ).toBe(true);
    expect(vars(p, 'apps/web/.env.development.local')).toEqual({ DATABASE_URL: 'postgres://u:p@localhost:21437/app', DEBUG: '1' });
    expect(p.files.map((f) => f.path)).toEqual(['apps/web/.env.development.local']);
  });

  it('treats the app like any directory when it is not mode-local (envFiles.nextjs: in-place)', () => {
    const p = plan({ sources, modeLocal: [] });
    expect(p.files.map((f) => f.path)).toEqual(['apps/web/.env', 'apps/web/.env.local', 'apps/web/.env.staging']);
    expect(vars(p, 'apps/web/.env').DATABASE_URL).toBe('postgres://u:p@localhost:21437/app');
    expect(vars(p, 'apps/web/.env.local').NEXTAUTH_URL).toBe('http://localhost:24300');
  });

  it('lists the targets it may write', () => {
    expect(modeTargets(['apps/web', ''])).toEqual([
      'apps/web/.env.development.local',
      'apps/web/.env.test.local',
      'apps/web/.env.production.local',
      '.env.development.local',
      '.env.test.local',
      '.env.production.local',
    ]);
  });
});

describe('planEnvFiles on a re-run', () => {
  const main = 'DATABASE_URL=postgres://u:p@localhost:5432/app\nNEW=from-main\n';
  const first = plan({ sources: [src('.env', 'DATABASE_URL=postgres://u:p@localhost:5432/app\n')] });
  const firstText = Buffer.from(text(first, '.env') as string);

  it("refreshes a file still as envs wrote it from the main checkout's current one", () => {
    const p = plan({
      sources: [src('.env', main)],
      existing: new Map([['.env', firstText]]),
      previous: [{ path: '.env', sha256: sha256(firstText) }],
    });
    expect(vars(p, '.env')).toEqual({ DATABASE_URL: 'postgres://u:p@localhost:21437/app', NEW: 'from-main' });
    expect(p.warnings).toEqual([]);
    expect(p.files[0]?.ours).toBe(true);
  });

  it("keeps the user's edits and refreshes only envs's block", () => {
    const edited = Buffer.from(`MINE=1\n${firstText.toString().replace('5432/app', '5432/other')}`);
    const p = plan({
      sources: [src('.env', main)],
      existing: new Map([['.env', edited]]),
      previous: [{ path: '.env', sha256: sha256(firstText) }],
    });
    expect(vars(p, '.env')).toEqual({ MINE: '1', DATABASE_URL: 'postgres://u:p@localhost:21437/other' });
    expect(text(p, '.env')?.startsWith('MINE=1\nDATABASE_URL=postgres://u:p@localhost:5432/other\n\n# >>> envs')).toBe(true);
    expect(text(p, '.env')?.match(/# >>> envs managed/g)).toHaveLength(1);
    expect(p.warnings).toEqual([".env was edited in the worktree; kept as it is (only envs's block is refreshed)."]);
    expect(p.files[0]?.ours).toBe(false);
  });

  it("writes nothing when the worktree already holds exactly the plan, and still counts the file as envs's", () => {
    const again = plan({
      sources: [src('.env', 'DATABASE_URL=postgres://u:p@localhost:5432/app\n')],
      existing: new Map([['.env', firstText]]),
    });
    expect(again.files.map((f) => [f.path, f.unchanged])).toEqual([['.env', true]]);
  });

  it('removes a mode file that held only its block once nothing needs rewriting, keeps one with user lines', () => {
    const onlyBlock = Buffer.from(withManagedBlock('', { DATABASE_URL: 'x' }, 'env feat-x-3f9a2c').text);
    const gone = plan({
      sources: [src('apps/web/.env', 'A=1\n')],
      modeLocal: ['apps/web'],
      existing: new Map([['apps/web/.env.development.local', onlyBlock]]),
      previous: [{ path: 'apps/web/.env.development.local', sha256: sha256(onlyBlock) }],
    });
    const removed = gone.files.find((f) => f.path === 'apps/web/.env.development.local');
    expect(removed).toBeDefined();
    expect(removed?.content).toBeUndefined();
    const mine = Buffer.from(`MINE=1\n${onlyBlock.toString()}`);
    const kept = plan({
      sources: [src('apps/web/.env', 'A=1\n')],
      modeLocal: ['apps/web'],
      existing: new Map([['apps/web/.env.development.local', mine]]),
    });
    expect(text(kept, 'apps/web/.env.development.local')).toBe('MINE=1\n');
  });

  it('leaves a file whose block lost its end marker alone, with a warning', () => {
    const p = plan({ sources: [src('.env', 'A=localhost:5432\n# >>> envs managed (x)\nB=1\n')] });
    expect(p.changes).toEqual([]);
    expect(p.warnings).toEqual([
      '.env: it has a "# >>> envs managed" line without its "# <<< envs managed" line; left as it is, not rewritten.',
    ]);
  });

  it('reports values no quoting can carry instead of writing them', () => {
    const p = plan({ sources: [src('.env', `WEIRD="it's at localhost:5432 for \\$5"\n`)] });
    expect(p.changes.map((c) => c.key)).toEqual(['WEIRD']);
    expect(p.files[0]?.block).toEqual({});
    expect(p.warnings).toEqual([
      '.env: WEIRD cannot be written so that both dotenv and Compose read it unchanged; set it with env: in envs.yaml.',
    ]);
  });
});
