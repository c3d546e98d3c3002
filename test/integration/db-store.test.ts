import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envsOk } from '../support/cli.ts';
import { POSTGRES_WITH_INIT } from '../support/db-fixture.ts';
import { expectNothingLeft, sweep } from '../support/docker.ts';
import { sql } from '../support/net.ts';
import { type Fixture, makeRepo } from '../support/repo.ts';
import { until } from '../support/until.ts';
import { makeXfs, removeXfs, type Xfs } from '../support/xfs.ts';

/**
 * `database.store` on a file system with reflinks (XFS `reflink=1` on a loop file, as users put it on a disk of
 * their own): the default clone is an overlay whose copy-ups the kernel makes as reflinks (Postgres opens a
 * table's files read-write on its first query, so an overlay copies them up then); `clone: reflink` makes a
 * reflink copy of the whole data directory instead. Both against a real engine and a real Postgres.
 */
const ITEMS = 200_000;

function files(store: string, clone?: string): Record<string, string> {
  return {
    'compose.yaml': POSTGRES_WITH_INIT,
    'db/init/01-items.sql': `create table items (id int primary key, name text not null);
insert into items select g, repeat('x', 100) || g from generate_series(1, ${ITEMS}) g;
create table notes (body text not null);
`,
    'envs.yaml': `database:\n  store: ${store}\n${clone ? `  clone: ${clone}\n` : ''}`,
  };
}

let xfs: Xfs | undefined;
let why = '';
const repos: Fixture[] = [];

beforeAll(async () => {
  const made = await makeXfs('envs-it-xfs', '4G');
  xfs = made.xfs;
  why = made.why ?? '';
}, 60_000);

afterAll(async () => {
  // A failed case leaves its envs: everything with the repository's labels goes (snapshots included).
  for (const fx of repos) {
    await sweep(fx.label);
    await fx.cleanup();
  }
  if (xfs) await removeXfs(xfs);
}, 120_000);

async function repo(name: string, clone?: string) {
  const store = join((xfs as Xfs).mount, name);
  await execa('mkdir', ['-p', store]);
  const fx = await makeRepo(files(store, clone), name);
  repos.push(fx);
  const ok = (...args: string[]) => envsOk(fx.repo, fx.home, args);
  const url = async (branch: string) => (await ok('db', 'url', branch)).stdout.trim();
  return {
    fx,
    store,
    ok,
    url,
    method: async (branch: string) => (await ok('info', branch, '--json')).json.database.method as string,
    count: async (branch: string) => (await sql(await url(branch), 'select count(*)::int as n from items'))[0]?.n,
    notes: async (branch: string) => (await sql(await url(branch), 'select body from notes')).map((r) => r.body),
    /** The clones in the store: one directory per database made from a snapshot. */
    clones: async () => (await readdir(join(store, 'clones')).catch(() => [])).sort(),
  };
}

/**
 * How much of a file's data is shared with another file (a reflink): xfs_bmap -v lists each extent with its
 * size in 512-byte blocks and, when it has any, its flags in octal (0100000: shared).
 */
async function sharedBlocks(file: string): Promise<{ blocks: number; shared: number }> {
  const { stdout } = await execa('xfs_bmap', ['-v', file]);
  const extents = stdout
    .split('\n')
    .slice(2)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 6 && cols[2] !== 'hole')
    .map((cols) => ({ blocks: Number(cols[5]), shared: (Number.parseInt(cols[6] ?? '0', 8) & 0o100000) !== 0 }));
  return {
    blocks: extents.reduce((n, e) => n + e.blocks, 0),
    shared: extents.filter((e) => e.shared).reduce((n, e) => n + e.blocks, 0),
  };
}

describe.skipIf(process.getuid?.() !== 0)('database.store on an XFS file system with reflinks', () => {
  it('clones as an overlay whose copy-ups are reflinks: rows in each env, writes apart, reset, destroy and rm-snapshot clean the store', async () => {
    expect(xfs, why).toBeDefined();
    const r = await repo('shop');
    await r.ok('create', 'main-env');
    expect((await r.ok('create', 'feat/a')).stderr).toMatch(/cloned snapshot \S+ as an overlay on it/);
    await r.ok('create', 'feat/b');
    expect(await r.method('feat/a')).toBe('overlay');
    expect(await r.count('feat/a')).toBe(ITEMS);
    expect(await r.count('feat/b')).toBe(ITEMS);

    // The first query opened the table's file read-write: the overlay copied it up, as a reflink of the snapshot's.
    const [clone] = (await r.clones()).filter((c) => c.includes('feat-a'));
    const relation = (await sql(await r.url('feat/a'), "select pg_relation_filepath('items') as p"))[0]?.p as string;
    const copied = join(r.store, 'clones', clone as string, 'upper', relation);
    // (The server may have written a few pages since, its hint bits: those blocks are its own now.)
    const data = await sharedBlocks(copied);
    expect(data.blocks).toBeGreaterThan(4_000); // ~26 MB of rows
    expect(data.shared / data.blocks).toBeGreaterThan(0.9);

    await sql(await r.url('feat/a'), "insert into notes values ('only in a')");
    await sql(await r.url('feat/a'), 'delete from items where id <= 1000');
    expect(await r.notes('feat/a')).toEqual(['only in a']);
    expect(await r.notes('feat/b')).toEqual([]);
    expect(await r.count('feat/b')).toBe(ITEMS);

    const before = await r.clones();
    await r.ok('db', 'reset', 'feat/a');
    expect(await r.notes('feat/a')).toEqual([]);
    expect(await r.count('feat/a')).toBe(ITEMS);
    // The reset's new clone replaced the old one in the store (deleted by a task nobody waits for); feat/b's is
    // untouched.
    const after = await until(
      "the old clone's directory to go",
      async () => {
        const now = await r.clones();
        return now.length === before.length ? now : undefined;
      },
      20_000,
    );
    expect(after.filter((c) => c.includes('feat-b'))).toEqual(before.filter((c) => c.includes('feat-b')));
    expect(after.filter((c) => c.includes('feat-a'))).not.toEqual(before.filter((c) => c.includes('feat-a')));

    for (const branch of ['feat/a', 'feat/b', 'main-env']) await r.ok('destroy', branch);
    expect(await r.clones()).toEqual([]);
    for (const s of (await r.ok('db', 'snapshots', '--json')).json.snapshots) await r.ok('db', 'rm-snapshot', s.name);
    expect(await readdir(join(r.store, 'snapshots', r.fx.label.split('=')[1] as string)).catch(() => [])).toEqual([]);
    await expectNothingLeft(r.fx.label);
  }, 240_000);

  it('clone: reflink copies the data directory as reflinks: an env apart from its snapshot, and the store cleaned', async () => {
    expect(xfs, why).toBeDefined();
    const r = await repo('ledger', 'reflink');
    await r.ok('create', 'main-env');
    expect((await r.ok('create', 'feat/c')).stderr).toMatch(/as a reflink copy/);
    expect(await r.method('feat/c')).toBe('reflink');
    expect(await r.count('feat/c')).toBe(ITEMS);
    await sql(await r.url('feat/c'), "insert into notes values ('c')");
    expect(await r.notes('feat/c')).toEqual(['c']);
    expect(await r.notes('main-env')).toEqual([]);
    await r.ok('db', 'reset', 'feat/c');
    expect(await r.notes('feat/c')).toEqual([]);
    for (const branch of ['feat/c', 'main-env']) await r.ok('destroy', branch);
    expect(await r.clones()).toEqual([]);
    for (const s of (await r.ok('db', 'snapshots', '--json')).json.snapshots) await r.ok('db', 'rm-snapshot', s.name);
    await expectNothingLeft(r.fx.label);
  }, 240_000);
});
