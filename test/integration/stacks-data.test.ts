import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { sql } from '../support/net.ts';
import { useRepo } from '../support/repo.ts';

/** The Supabase self-hosted shape: the database's data bind-mounted into the checkout, an init script tracked beside it. */
const bindMounted = {
  'compose.yaml': `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: secret
      POSTGRES_DB: app
    ports: ["5432:5432"]
    volumes:
      - ./volumes/db/data:/var/lib/postgresql/data
      - ./volumes/db/init:/docker-entrypoint-initdb.d:ro
`,
  'volumes/db/init/01-schema.sql': 'create table notes (body text);\n',
};

describe('data bind-mounted into the worktree', () => {
  const fx = useRepo(bindMounted, 'bound');

  it('is the env’s own: plan says so, dirty checks skip it, destroy removes it (root-owned files included), nothing else', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/a', '--json'])).json;
    expect(plan.data_paths).toEqual(['volumes/db/data']);
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    const _b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'])).json;
    const url = async (branch: string) =>
      (await envsOk(fx.repo, fx.home, ['info', branch, '--json', '--show-secrets'])).json.env.DATABASE_URL;
    await sql(await url('feat/a'), "insert into notes values ('written in a')");
    expect(await sql(await url('feat/b'), 'select count(*)::int as n from notes')).toEqual([{ n: 0 }]);
    expect(existsSync(join(a.worktree, 'volumes/db/data/PG_VERSION'))).toBe(true);

    const listed = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(listed.map((e: any) => e.dirty)).toEqual([false, false]);

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    expect(existsSync(a.worktree)).toBe(false);
    expect(await sql(await url('feat/b'), 'select count(*)::int as n from notes')).toEqual([{ n: 0 }]);
    // The user's files in the main checkout were never touched.
    expect(await readFile(join(fx.repo, 'volumes/db/init/01-schema.sql'), 'utf8')).toBe('create table notes (body text);\n');
    expect(existsSync(join(fx.repo, 'volumes/db/data'))).toBe(false);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
  });
});

describe('the embedded Postgres image', () => {
  const fx = useRepo({ 'README.md': 'no compose file\n' }, 'embedded');

  it('is recorded per env: a later default or ENVS_POSTGRES_IMAGE never moves its data to another image', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/pinned', '--json'])).json;
    const info = (await envsOk(fx.repo, fx.home, ['info', 'feat/pinned', '--json'])).json;
    expect(info.image).toBe(images.postgres);
    await envsOk(fx.repo, fx.home, ['down', 'feat/pinned']);
    // Another image now (one that does not even exist here): up keeps the env's own.
    const up = await envsOk(fx.repo, fx.home, ['up', 'feat/pinned', '--json'], { ENVS_POSTGRES_IMAGE: 'postgres:99-not-here' });
    expect(up.json.status).toBe('running');
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/pinned', '--json'])).json.image).toBe(images.postgres);
    await envsOk(fx.repo, fx.home, ['destroy', env.branch]);
    await expectNothingLeft(fx.label);
  });

  it('that cannot be pulled is named, with the registry unreachable and ENVS_POSTGRES_IMAGE in the hint', async () => {
    const result = await envs(fx.repo, fx.home, ['create', 'feat/nope', '--json'], {
      ENVS_POSTGRES_IMAGE: 'envs-test/postgres:99-not-here',
    });
    expect(result.exitCode).toBe(1);
    expect(result.json.error.code).toBe('IMAGE_PULL_FAILED');
    expect(result.json.error.message).toMatch(/Could not pull envs-test\/postgres:99-not-here/);
    expect(result.json.error.hint).toMatch(/ENVS_POSTGRES_IMAGE/);
    await expectNothingLeft(fx.label);
  });
});
