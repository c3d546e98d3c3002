import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type CliResult, envs, envsOk } from '../support/cli.ts';
import { POSTGRES_WITH_INIT } from '../support/db-fixture.ts';
import { containerOf, expectNothingLeft, labelled } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { sql } from '../support/net.ts';
import { type Fixture, useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/**
 * Per-env databases against a real engine and a real Postgres, in the shape of real repositories: a compose
 * file whose postgres keeps PGDATA in a named volume, init scripts in ./db/init (a schema, 100 000 rows, ten
 * accounts), and envs.yaml's idempotent `database.migrate` plus a `database.seed`, both run with psql.
 */
function shopFiles(envsYaml: string): Record<string, string> {
  return {
    'compose.yaml': POSTGRES_WITH_INIT,
    'db/init/01-shop.sql': `create schema shop;
create table shop.items (id int primary key, name text not null);
insert into shop.items select g, 'item ' || g from generate_series(1, 100000) g;
create table shop.accounts (id int primary key, balance bigint not null);
insert into shop.accounts select g, 1000 from generate_series(1, 10) g;
create table shop.transfers (id bigserial primary key, src int not null, dst int not null, amount int not null);
`,
    'envs.yaml': envsYaml,
    '.gitignore': 'node_modules/\n',
  };
}

const MIGRATE = `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "create table if not exists shop.notes (body text not null)"`;
const SEED = `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "insert into shop.notes values ('seeded')"`;
const commands = `  migrate: ${JSON.stringify(MIGRATE)}\n  seed: ${JSON.stringify(SEED)}\n`;

function cli(fx: Fixture) {
  const ok = (...args: string[]) => envsOk(fx.repo, fx.home, args);
  const url = async (branch: string) => (await ok('db', 'url', branch)).stdout.trim();
  return {
    ok,
    run: (...args: string[]) => envs(fx.repo, fx.home, args),
    url,
    info: async (branch: string) => (await ok('info', branch, '--json')).json,
    snapshots: async (): Promise<any[]> => (await ok('db', 'snapshots', '--json')).json.snapshots,
    items: async (branch: string) => (await sql(await url(branch), 'select count(*)::int as n from shop.items'))[0]?.n,
    notes: async (branch: string) =>
      (await sql(await url(branch), 'select body from shop.notes order by body')).map((r) => r.body as string),
    note: async (branch: string, body: string) => {
      await sql(await url(branch), `insert into shop.notes values ('${body}')`);
    },
  };
}

/** Every volume of one env's compose project (Compose's label) and everything with envs's label for it. */
async function envResources(project: string) {
  const { stdout } = await execa('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]);
  return { composeVolumes: stdout.split('\n').filter(Boolean), ...(await labelled(`dev.envs.project=${project}`)) };
}

/** A user error: exit 1 (2 for usage), its code, message and hint. */
function expectRefusal(result: CliResult, code: string, message: RegExp, hint?: RegExp) {
  expect(result.exitCode, result.stderr).toBe(code === 'USAGE' ? 2 : 1);
  expect(result.json.error.code).toBe(code);
  expect(result.json.error.message).toMatch(message);
  if (hint) expect(result.json.error.hint).toMatch(hint);
}

/**
 * Money moved between ten accounts, one transaction per transfer, each logged: the total and every balance
 * against the log are invariants any consistent copy keeps. The loop reconnects when the server goes away
 * (a snapshot stops it) and carries on until stopped.
 */
function transferLoad(url: string) {
  let stopping = false;
  let committed = 0;
  let failures = 0;
  const running = (async () => {
    let client: pg.Client | undefined;
    while (!stopping) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
          client.on('error', () => {});
          await client.connect();
        }
        const src = 1 + Math.floor(Math.random() * 10);
        const dst = 1 + ((src + Math.floor(Math.random() * 9)) % 10);
        const amount = 1 + Math.floor(Math.random() * 50);
        await client.query('begin');
        await client.query('update shop.accounts set balance = balance - $2 where id = $1', [src, amount]);
        await client.query('update shop.accounts set balance = balance + $2 where id = $1', [dst, amount]);
        await client.query('insert into shop.transfers (src, dst, amount) values ($1, $2, $3)', [src, dst, amount]);
        await client.query('commit');
        committed++;
      } catch {
        failures++;
        const dead = client;
        client = undefined;
        await Promise.race([dead?.end().catch(() => {}), sleep(1_000)]);
        await sleep(100);
      }
    }
    await Promise.race([client?.end().catch(() => {}), sleep(1_000)]);
  })();
  return {
    stats: () => ({ committed, failures }),
    /** Resolves when `n` more transactions have committed than now (false after `ms`). */
    async more(n: number, ms: number): Promise<boolean> {
      const target = committed + n;
      for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) if (committed >= target) return true;
      return false;
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}

const CONSISTENCY = `select
  (select sum(balance) from shop.accounts)::int as total,
  (select count(*) from shop.accounts a where a.balance <> 1000
     + coalesce((select sum(amount) from shop.transfers where dst = a.id), 0)
     - coalesce((select sum(amount) from shop.transfers where src = a.id), 0))::int as mismatched,
  (select count(*) from shop.transfers)::int as transfers`;

describe('volume-clone (the default): one repository, its first snapshot shared by the cases below', () => {
  const fx = useRepo(shopFiles(`database:\n${commands}`), 'shop');
  /** The repository's first snapshot, made by the first create. */
  let base = '';

  it('seeds the first env and snapshots it; the next env clones it; writes, reset and destroy stay per env', async () => {
    const db = cli(fx);
    const a = await db.ok('create', 'feat/a');
    expect(a.stderr).toMatch(/no snapshot of db yet: taking main-[0-9a-f]{7} from this env for the next ones/);
    expect(a.stderr).toMatch(/copying [0-9.]+ MiB of db's data into snapshot main-[0-9a-f]{7}/);
    const listed = await db.snapshots();
    expect(listed).toHaveLength(1);
    base = listed[0].name;
    expect(listed[0]).toMatchObject({ service: 'db', image: images.postgres, pg_version: expect.stringMatching(/^\d+$/), used_by: [] });
    expect(listed[0].bytes).toBeGreaterThan(10 * 1024 ** 2);
    const infoA = await db.info('feat/a');
    const projectA = infoA.project as string;
    expect(infoA.database).toMatchObject({ strategy: 'volume-clone', made_snapshot: base });

    const b = await db.ok('create', 'feat/b');
    expect(b.stderr).toMatch(new RegExp(`db: cloned snapshot ${base} as an? (overlay|reflink)`));
    expect(b.stderr).not.toMatch(/no snapshot of db yet/);
    const infoB = await db.info('feat/b');
    const projectB = infoB.project as string;
    const bDatabase = infoB.database;
    expect(bDatabase).toMatchObject({ strategy: 'volume-clone', snapshot: base });
    expect(['overlay', 'reflink']).toContain(bDatabase.method);
    expect((await db.snapshots())[0].used_by).toEqual(['feat/b']);

    // Init scripts' rows in both; seed ran once (A's, carried by the snapshot), not again on the clone.
    expect(await db.items('feat/a')).toBe(100_000);
    expect(await db.items('feat/b')).toBe(100_000);
    expect(await db.notes('feat/b')).toEqual(['seeded']);

    await db.note('feat/a', 'written in a');
    await db.note('feat/b', 'written in b');
    expect(await db.notes('feat/a')).toEqual(['seeded', 'written in a']);
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);

    const reset = await db.ok('db', 'reset', 'feat/a', '--json');
    expect(reset.json).toMatchObject({ branch: 'feat/a', snapshot: base });
    expect(await db.notes('feat/a')).toEqual(['seeded']);
    expect(await db.items('feat/a')).toBe(100_000);
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);

    await db.ok('destroy', 'feat/a');
    expect(await envResources(projectA)).toEqual({ composeVolumes: [], containers: [], volumes: [], networks: [], images: [] });
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);
    expect((await db.snapshots()).map((s) => [s.name, s.used_by])).toEqual([[base, ['feat/b']]]);

    await db.ok('destroy', 'feat/b');
    expect(await envResources(projectB)).toEqual({ composeVolumes: [], containers: [], volumes: [], networks: [], images: [] });
    expect((await db.snapshots()).map((s) => [s.name, s.used_by])).toEqual([[base, []]]);
  });

  it('--db-from forks an env as it is: its rows then, the source running again, writes apart, the fork snapshot gone with the fork', async () => {
    const db = cli(fx);
    await db.ok('create', 'feat/c');
    await db.note('feat/c', 'c before the fork');
    const d = await db.ok('create', 'feat/d', '--db-from', 'feat/c');
    expect(d.stderr).toMatch(/stopping db for a consistent copy/);
    const fork = (await db.info('feat/d')).database.snapshot as string;
    expect(fork).toMatch(/^fork-feat-c-/);
    expect((await db.snapshots()).find((s) => s.name === fork)).toMatchObject({
      used_by: ['feat/d'],
      from: expect.stringMatching(/^feat-c-/),
    });

    expect(await db.notes('feat/d')).toEqual(['c before the fork', 'seeded']);
    expect(await db.items('feat/d')).toBe(100_000);
    // The source was stopped for the copy and is up again, on its own data.
    expect((await db.info('feat/c')).status).toBe('running');
    await db.note('feat/c', 'c after the fork');
    await db.note('feat/d', 'd after the fork');
    expect(await db.notes('feat/c')).toEqual(['c after the fork', 'c before the fork', 'seeded']);
    expect(await db.notes('feat/d')).toEqual(['c before the fork', 'd after the fork', 'seeded']);

    await db.ok('destroy', 'feat/d');
    expect((await db.snapshots()).map((s) => s.name)).toEqual([base]);
    expect(await db.notes('feat/c')).toEqual(['c after the fork', 'c before the fork', 'seeded']);
    await db.ok('destroy', 'feat/c');
  });

  it('a snapshot taken under write load is consistent, and a database reset onto it starts cleanly', async () => {
    const db = cli(fx);
    await db.ok('create', 'feat/e');
    const load = transferLoad(await db.url('feat/e'));
    try {
      expect(await load.more(30, 20_000)).toBe(true);
      const taken = await db.ok('db', 'snapshot', 'feat/e', '--name', 'under-load', '--json');
      expect(taken.json).toMatchObject({ name: 'under-load', service: 'db', pg_version: expect.stringMatching(/^\d+$/) });
      // The loop lost its connection while the server was stopped, reconnected, and goes on.
      expect(await load.more(30, 20_000)).toBe(true);
      expect(load.stats().failures).toBeGreaterThan(0);
    } finally {
      await load.stop();
    }
    const live = (await sql(await db.url('feat/e'), CONSISTENCY))[0] as { total: number; mismatched: number; transfers: number };
    expect(live).toMatchObject({ total: 10_000, mismatched: 0 });

    await db.ok('create', 'feat/f');
    const reset = await db.ok('db', 'reset', 'feat/f', '--from', 'under-load', '--json');
    expect(reset.json).toMatchObject({ branch: 'feat/f', snapshot: 'under-load' });
    const copied = (await sql(await db.url('feat/f'), CONSISTENCY))[0] as { total: number; mismatched: number; transfers: number };
    expect(copied).toMatchObject({ total: 10_000, mismatched: 0 });
    // Written under load (so not the base snapshot), and no more than the source committed.
    expect(copied.transfers).toBeGreaterThanOrEqual(30);
    expect(copied.transfers).toBeLessThan(live.transfers);
    // Taken from a cleanly stopped server: no crash recovery when the clone starts.
    const { stdout, stderr } = await execa('docker', ['logs', await containerOf((await db.info('feat/f')).project, 'db')]);
    expect(`${stdout}\n${stderr}`).toMatch(/database system was shut down at/);
    expect(`${stdout}\n${stderr}`).not.toMatch(/not properly shut down|automatic recovery in progress/);

    await db.ok('destroy', 'feat/f');
    await db.ok('destroy', 'feat/e');
    await db.ok('db', 'rm-snapshot', 'under-load');
  });

  it('refuses, changing nothing: a snapshot in use, another major version, unknown envs and snapshots, a bad name', async () => {
    const db = cli(fx);
    await db.ok('create', 'feat/g');
    // A snapshot of PostgreSQL 99 data, as another image would have left it: only its labels matter here.
    await execa('docker', [
      'volume',
      'create',
      '--label',
      'dev.envs.managed=true',
      '--label',
      fx.label,
      '--label',
      'dev.envs.snapshot=pg99',
      '--label',
      'dev.envs.snapshot.service=db',
      '--label',
      'dev.envs.snapshot.image=postgres:99',
      '--label',
      'dev.envs.snapshot.pg-version=99',
      '--label',
      'dev.envs.snapshot.created=2026-01-01T00:00:00.000Z',
      `envs-snap-${fx.label.split('=')[1]}-pg99`,
    ]);
    const before = await snapshot(fx);

    expectRefusal(
      await db.run('db', 'rm-snapshot', base, '--json'),
      'SNAPSHOT_IN_USE',
      new RegExp(`Snapshot ${base} is the base of feat/g's database`),
      /Nothing was changed/,
    );
    expectRefusal(
      await db.run('db', 'reset', 'feat/g', '--from', 'pg99', '--json'),
      'SNAPSHOT_INCOMPATIBLE',
      /Snapshot pg99 holds PostgreSQL 99 data, but the env's database runs .* \(PostgreSQL \d+\)/,
      /Use a snapshot taken on PostgreSQL \d+/,
    );
    expectRefusal(await db.run('db', 'reset', 'nope', '--json'), 'ENV_NOT_FOUND', /nope/);
    expectRefusal(await db.run('db', 'url', 'nope', '--json'), 'ENV_NOT_FOUND', /nope/);
    expectRefusal(
      await db.run('db', 'snapshot', 'feat/g', '--name', 'Bad Name', '--json'),
      'USAGE',
      /"Bad Name" is not a snapshot name/,
      /lowercase letters/,
    );
    expectRefusal(await db.run('db', 'rm-snapshot', 'nope', '--json'), 'SNAPSHOT_NOT_FOUND', /No snapshot named nope/, /envs db snapshots/);
    expect(await snapshot(fx)).toEqual(before);
    expect(await db.notes('feat/g')).toEqual(['seeded']);

    await db.ok('db', 'rm-snapshot', 'pg99');
    await db.ok('destroy', 'feat/g');
  });

  it('leaves nothing once its snapshots are removed with rm-snapshot', async () => {
    const db = cli(fx);
    for (const s of await db.snapshots()) await db.ok('db', 'rm-snapshot', s.name);
    expect(await db.snapshots()).toEqual([]);
    await expectNothingLeft(fx.label);
  });
});

describe('strategy migrate: an empty database per env, then migrate and seed', () => {
  const fx = useRepo(shopFiles(`database:\n  strategy: migrate\n${commands}`), 'shopmig');

  it('migrates and seeds each env, keeps writes apart, re-runs both on reset, removes the database on destroy', async () => {
    const db = cli(fx);
    const a = await db.ok('create', 'feat/a');
    const b = await db.ok('create', 'feat/b');
    for (const r of [a, b]) {
      expect(r.stderr).toMatch(/running database.migrate\/seed for db/);
      expect(r.stderr).not.toMatch(/snapshot/);
    }
    const infoA = await db.info('feat/a');
    const projectA = infoA.project as string;
    expect(infoA.database).toEqual({ service: 'db', strategy: 'migrate', image: images.postgres });
    expect(await db.notes('feat/a')).toEqual(['seeded']);
    expect(await db.notes('feat/b')).toEqual(['seeded']);
    expect(await db.items('feat/b')).toBe(100_000);

    await db.note('feat/a', 'written in a');
    await db.note('feat/b', 'written in b');
    expect(await db.notes('feat/a')).toEqual(['seeded', 'written in a']);
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);

    const reset = await db.ok('db', 'reset', 'feat/a');
    expect(reset.stdout).toMatch(/feat\/a: database reset \(migrate and seed ran again\)/);
    expect(reset.stderr).toMatch(/running database.migrate\/seed for db/);
    expect(await db.notes('feat/a')).toEqual(['seeded']);
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);

    await db.ok('destroy', 'feat/a');
    expect(await envResources(projectA)).toEqual({ composeVolumes: [], containers: [], volumes: [], networks: [], images: [] });
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);
    await db.ok('destroy', 'feat/b');
    expect(await db.snapshots()).toEqual([]);
    await expectNothingLeft(fx.label);
  });
});

describe('strategy template: envs share one Postgres, each with a database of its own made from the snapshot', () => {
  const fx = useRepo(shopFiles(`database:\n  strategy: template\n${commands}`), 'shoptpl');

  /** Running containers of the repository that are Postgres servers (envs's own and the shared one). */
  const servers = async () => (await labelled(fx.label)).containers.length;

  it('clones by CREATE DATABASE … TEMPLATE: rows in both, writes apart, reset, --db-from, destroy drops only its database', async () => {
    const db = cli(fx);
    // The first env seeds itself on a server of its own and becomes the snapshot.
    const a = await db.ok('create', 'feat/a');
    expect(a.stderr).toMatch(/no snapshot of db yet: taking main-[0-9a-f]{7}/);
    const b = await db.ok('create', 'feat/b');
    expect(b.stderr).toMatch(/starting the shared database server envs-shoptpl-[0-9a-f]{4}-shared-[0-9a-z]+ on snapshot main-/);
    expect(b.stderr).toMatch(/database env_feat_b_[0-9a-f]{6} made from template app/);
    const c = await db.ok('create', 'feat/c');
    expect(c.stderr).not.toMatch(/starting the shared database server/);
    const infoB = await db.info('feat/b');
    expect(infoB.database).toMatchObject({ strategy: 'template', snapshot: expect.stringMatching(/^main-/) });
    // One server for A (its own) and one shared by B and C: not one each.
    expect(await servers()).toBe(2);
    const urlB = await db.url('feat/b');
    const urlC = await db.url('feat/c');
    expect(new URL(urlB).port).toBe(new URL(urlC).port);
    expect(new URL(urlB).pathname).not.toBe(new URL(urlC).pathname);

    expect(await db.items('feat/b')).toBe(100_000);
    expect(await db.items('feat/c')).toBe(100_000);
    expect(await db.notes('feat/c')).toEqual(['seeded']);
    await db.note('feat/b', 'written in b');
    await db.note('feat/c', 'written in c');
    expect(await db.notes('feat/b')).toEqual(['seeded', 'written in b']);
    expect(await db.notes('feat/c')).toEqual(['seeded', 'written in c']);

    const reset = await db.ok('db', 'reset', 'feat/b');
    expect(reset.stderr).toMatch(/DROP DATABASE env_feat_b_[0-9a-f]{6}; CREATE DATABASE env_feat_b_[0-9a-f]{6} TEMPLATE app/);
    expect(await db.notes('feat/b')).toEqual(['seeded']);
    expect(await db.notes('feat/c')).toEqual(['seeded', 'written in c']);

    // A fork on the shared server: C's database is the template, as it is now.
    await db.ok('create', 'feat/d', '--db-from', 'feat/c');
    expect(await db.notes('feat/d')).toEqual(['seeded', 'written in c']);
    await db.note('feat/d', 'written in d');
    expect(await db.notes('feat/c')).toEqual(['seeded', 'written in c']);

    const databases = async () =>
      (await sql(urlC, "select datname from pg_database where datname like 'env\\_%' order by 1")).map((r) => r.datname as string);
    expect(await databases()).toHaveLength(3);
    await db.ok('destroy', 'feat/b');
    expect(await databases()).toHaveLength(2);
    expect(await db.notes('feat/c')).toEqual(['seeded', 'written in c']);

    // The shared server goes with the last env that uses it; A's own server and the snapshot stay.
    await db.ok('destroy', 'feat/c');
    await db.ok('destroy', 'feat/d');
    expect(await servers()).toBe(1);
    await db.ok('destroy', 'feat/a');
    for (const s of await db.snapshots()) await db.ok('db', 'rm-snapshot', s.name);
    await expectNothingLeft(fx.label, { snapshots: true });
  });
});
