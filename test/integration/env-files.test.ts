import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAddressMap } from '../../src/bootstrap/addresses.ts';
import { parseEnv } from '../../src/bootstrap/dotenv-format.ts';
import { type ApplyInput, applyEnvFiles, previewEnvFiles } from '../../src/bootstrap/env-files.ts';
import { EnvsError } from '../../src/errors.ts';
import { type Fixture, makeRepo } from '../support/repo.ts';

const map = buildAddressMap([
  { original: 5432, port: 21437, source: { kind: 'compose', service: 'db', target: 5432 } },
  { original: 54321, port: 25321, source: { kind: 'supabase', key: 'api' } },
  { original: 3000, port: 24300, source: { kind: 'process', name: 'web' } },
]);

/** Every file under a directory (not .git), with a hash of its bytes and whether it is a symlink. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name === '.git') continue;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isSymbolicLink()) out[relative(root, path)] = 'symlink';
      else
        out[relative(root, path)] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
    }
  };
  await walk(root);
  return out;
}

const ignoredFiles = {
  '.env': 'DATABASE_URL=postgres://app:s3cret@localhost:5432/app\nPLAIN=kept\n',
  '.dev.vars': 'API_BASE=http://localhost:3000\n',
  '.env.sample': 'DATABASE_URL=never-copied\n',
  'apps/web/.env.local': 'NEXT_PUBLIC_SUPABASE_URL=http://127.0.0.1:54321\nNEXTAUTH_URL=http://localhost:3000\n',
  'packages/api/.env': 'DB=postgres://u:p@127.0.0.1:5432/api\n',
  'supabase/.env': 'SITE_URL=http://localhost:3000\n',
  'supabase/functions/.env': 'SUPABASE_URL=http://127.0.0.1:54321\n',
  'node_modules/some-pkg/.env': 'FROM=node_modules\n',
  'certs/dev.pem': '-----BEGIN CERTIFICATE-----\nnot a real one\n',
  'secrets/token.txt': 'token\n',
  'not-ignored.txt': 'matches .worktreeinclude but git does not ignore it\n',
};

describe('env files from the main checkout into a worktree (real git)', () => {
  let fx: Fixture;
  let outside: string;
  const worktree = (name: string) => join(fx.root, 'worktrees', name);
  const input = (name: string, extra: Partial<ApplyInput> = {}): ApplyInput => ({
    env: process.env,
    repo: fx.repo,
    worktree: worktree(name),
    nextApps: ['apps/web'],
    map,
    label: `env ${name}`,
    copy: ['secrets/'],
    ...extra,
  });

  beforeAll(async () => {
    fx = await makeRepo({
      '.gitignore': 'node_modules/\n.env\n.env.*\n!.env.example\n.dev.vars\nsecrets/\ncerts/*.pem\n',
      '.env.example': 'DATABASE_URL=postgres://localhost:5432/app\n',
      '.worktreeinclude': 'certs/*.pem\nnot-ignored.txt\n',
      'apps/web/package.json': '{"name":"web","dependencies":{"next":"16.0.0"}}\n',
      'packages/api/package.json': '{"name":"api"}\n',
      'config/shared.env': 'SHARED=postgres://localhost:5432/shared\n',
    });
    await fx.write(ignoredFiles);
    // A symlinked env file resolving inside the repository, and one resolving outside it.
    await symlink('../../config/shared.env', join(fx.repo, 'packages/api/.env.local'));
    outside = join(fx.root, 'outside.env');
    await writeFile(outside, 'OUTSIDE=1\n');
    await symlink(outside, join(fx.repo, 'packages/api/.env.production'));
    await fx.git('worktree', 'add', '-q', '-b', 'feat', worktree('feat'));
    // A branch that tracks an env file main ignores.
    await fx.git('worktree', 'add', '-q', '-b', 'tracks-env', worktree('tracks-env'));
    await mkdir(join(worktree('tracks-env'), 'apps/web'), { recursive: true });
    await writeFile(join(worktree('tracks-env'), 'apps/web/.env.local'), 'TRACKED=1\n');
    await execa('git', ['add', '-f', 'apps/web/.env.local'], { cwd: worktree('tracks-env') });
    await execa('git', ['commit', '-q', '-m', 'track an env file'], { cwd: worktree('tracks-env') });
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('copies the default set, .worktreeinclude and copy: matches, rewritten, 0600, leaving main untouched and the worktree clean', async () => {
    const mainBefore = await tree(fx.repo);
    const result = await applyEnvFiles(input('feat'));
    const wt = worktree('feat');

    expect(result.written.map((w) => w.path)).toEqual([
      '.dev.vars',
      '.env',
      'apps/web/.env.development.local',
      'apps/web/.env.local',
      'apps/web/.env.production.local',
      'certs/dev.pem',
      'packages/api/.env',
      'packages/api/.env.local',
      'secrets/token.txt',
      'supabase/.env',
      'supabase/functions/.env',
    ]);
    expect(result.skipped).toEqual([
      {
        path: 'not-ignored.txt',
        reason: 'matches .worktreeinclude but git does not ignore it (it would show as an untracked file in the worktree)',
      },
      { path: 'packages/api/.env.production', reason: 'it is a symlink to a file outside the repository' },
    ]);
    const read = async (path: string) => parseEnv(await readFile(join(wt, path), 'utf8'));
    expect(await read('.env')).toEqual({ DATABASE_URL: 'postgres://app:s3cret@localhost:21437/app', PLAIN: 'kept' });
    expect(await read('.dev.vars')).toEqual({ API_BASE: 'http://localhost:24300' });
    expect(await read('packages/api/.env')).toEqual({ DB: 'postgres://u:p@127.0.0.1:21437/api' });
    expect(await read('supabase/.env')).toEqual({ SITE_URL: 'http://localhost:24300' });
    expect(await read('supabase/functions/.env')).toEqual({ SUPABASE_URL: 'http://127.0.0.1:25321' });
    // The Next.js app: its copied .env.local unchanged, the rewritten values in .env.<mode>.local.
    expect(await readFile(join(wt, 'apps/web/.env.local'), 'utf8')).toBe(ignoredFiles['apps/web/.env.local']);
    expect(await read('apps/web/.env.development.local')).toEqual({
      NEXT_PUBLIC_SUPABASE_URL: 'http://127.0.0.1:25321',
      NEXTAUTH_URL: 'http://localhost:24300',
    });
    // The symlink inside the repository is copied as the file it resolves to, rewritten.
    expect((await lstat(join(wt, 'packages/api/.env.local'))).isSymbolicLink()).toBe(false);
    expect(await read('packages/api/.env.local')).toEqual({ SHARED: 'postgres://localhost:21437/shared' });
    expect(await readFile(join(wt, 'certs/dev.pem'), 'utf8')).toBe(ignoredFiles['certs/dev.pem']);
    for (const absent of ['.env.sample', 'node_modules/some-pkg/.env', 'not-ignored.txt', 'packages/api/.env.production']) {
      await expect(stat(join(wt, absent))).rejects.toThrow();
    }
    for (const { path } of result.written) expect((await stat(join(wt, path))).mode & 0o777).toBe(0o600);
    expect((await stat(join(wt, 'secrets'))).mode & 0o777).toBe(0o700);

    expect(await tree(fx.repo)).toEqual(mainBefore);
    expect((await execa('git', ['status', '--porcelain'], { cwd: wt })).stdout).toBe('');
    expect(result.plan.changes.map((c) => `${c.where} ${c.key}`)).toContain('.env DATABASE_URL');
  });

  it('runs again without changing anything, keeps a user edit, and reports hashes destroy can compare', async () => {
    const wt = worktree('feat');
    const first = await applyEnvFiles(input('feat'));
    const before = await tree(wt);
    const again = await applyEnvFiles(input('feat', { previous: first.written }));
    expect(await tree(wt)).toEqual(before);
    expect(again.written).toEqual(first.written);

    await writeFile(join(wt, '.env'), `MINE=1\n${await readFile(join(wt, '.env'), 'utf8')}`);
    const edited = await applyEnvFiles(input('feat', { previous: again.written }));
    expect(edited.warnings).toContain(".env was edited in the worktree; kept as it is (only envs's block is refreshed).");
    expect(parseEnv(await readFile(join(wt, '.env'), 'utf8')).MINE).toBe('1');
    // The edited file holds the user's lines: no longer envs's, so destroy must not take it for disposable.
    expect(edited.written.map((w) => w.path)).toEqual(first.written.map((w) => w.path).filter((p) => p !== '.env'));
    // A run that lost its record (killed before recording) still claims what is exactly as envs makes it.
    const lost = await applyEnvFiles(input('feat'));
    expect(lost.written).toEqual(edited.written);
  });

  it('refuses to copy over a file the worktree tracks, writing nothing', async () => {
    const wt = worktree('tracks-env');
    const before = await tree(wt);
    const error = await applyEnvFiles(input('tracks-env')).catch((e: unknown) => e);
    expect(EnvsError.is(error)).toBe(true);
    expect((error as EnvsError).code).toBe('ENV_FILE_TRACKED');
    expect((error as EnvsError).message).toBe('envs would copy a file over files the worktree tracks: apps/web/.env.local.');
    expect(await tree(wt)).toEqual(before);
  });

  it('refuses the same at plan time, from the commit, before any worktree exists', async () => {
    const commit = (await fx.git('rev-parse', 'tracks-env')).trim();
    const error = await previewEnvFiles({ ...input('x'), commit }).catch((e: unknown) => e);
    expect((error as EnvsError).code).toBe('ENV_FILE_TRACKED');
    const clean = await previewEnvFiles({ ...input('x'), commit: (await fx.git('rev-parse', 'main')).trim() });
    expect(clean.files.map((f) => f.path)).toContain('apps/web/.env.development.local');
  });

  it('keeps excluded files out (envFiles.exclude)', async () => {
    const plan = await previewEnvFiles({ ...input('x'), exclude: ['supabase/'] });
    expect(plan.files.map((f) => f.path).filter((p) => p.startsWith('supabase/'))).toEqual([]);
    expect(dirname(plan.files[0]?.path ?? '')).toBeDefined();
  });
});
