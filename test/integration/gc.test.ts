import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../../src/core/failpoints.ts';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft, labelled } from '../support/docker.ts';
import { type Fixture, useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

const CREATE_POINTS = FAILPOINTS.filter((p) => !p.startsWith('destroy-'));
const DESTROY_POINTS = FAILPOINTS.filter((p) => p.startsWith('destroy-'));

/** Leases left in a state directory's registries. */
async function leases(home: string): Promise<{ ports: unknown[]; subnets: unknown[] }> {
  const read = async (file: string) =>
    JSON.parse(await readFile(join(home, file), 'utf8').catch(() => '{"leases":[]}')).leases as unknown[];
  return { ports: await read('ports.json'), subnets: await read('subnets.json') };
}

interface Item {
  kind: string;
  name: string;
  project?: string;
  action: string;
}

/** The items of this fixture's repository (its projects are `envs-<repoId>-…`; worktree entries under its home). */
function ours(fx: Fixture, items: Item[]): Item[] {
  const repoId = fx.label.split('=')[1] ?? '';
  return items.filter((i) => i.project?.startsWith(`envs-${repoId}-`) || i.name.startsWith(fx.root));
}

/** After gc: nothing of the repository on the engine, no leases, no envs, no worktree entries of envs. */
async function expectAllGone(fx: Fixture, home = fx.home): Promise<void> {
  await expectNothingLeft(fx.label);
  expect(await leases(home)).toEqual({ ports: [], subnets: [] });
  expect((await envsOk(fx.repo, home, ['list', '--json'])).json).toEqual([]);
  expect(await fx.git('worktree', 'list', '--porcelain')).not.toMatch(/prunable|feat-/);
}

describe('gc after a SIGKILL at every failpoint of create and destroy', () => {
  const fx = useRepo(webFiles(), 'gckill');

  it.each(CREATE_POINTS)('create killed %s: gc finishes it through destroy', async (point) => {
    const killed = await envs(fx.repo, fx.home, ['create', 'feat/killed'], { ENVS_FAILPOINT: point });
    expect(killed.exitCode).not.toBe(0);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toMatchObject([{ status: 'partial' }]);
    const gc = await envsOk(fx.repo, fx.home, ['gc', '--json']);
    expect(gc.json.items).toContainEqual(
      expect.objectContaining({ kind: 'env', action: 'removed', reason: expect.stringMatching(/create was interrupted/) }),
    );
    // Other users of the engine (other tests, older envs) have resources gc lists and keeps: only this repository's count.
    expect(ours(fx, gc.json.items).filter((i) => i.action === 'kept')).toEqual([]);
    await expectAllGone(fx);
    expect(await readdir(join(fx.home, 'worktrees', fx.label.split('=')[1] ?? ''))).toEqual([]);
    // A second gc finds nothing: the first one left no half-removed state of its own.
    expect(ours(fx, (await envsOk(fx.repo, fx.home, ['gc', '--json'])).json.items)).toEqual([]);
    await fx.git('branch', '-D', 'feat/killed');
  });

  it.each(DESTROY_POINTS)('destroy killed %s: gc finishes it', async (point) => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/halfgone', '--json'])).json;
    const killed = await envs(fx.repo, fx.home, ['destroy', 'feat/halfgone'], { ENVS_FAILPOINT: point });
    expect(killed.exitCode).not.toBe(0);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toMatchObject([{ status: 'partial' }]);
    const gc = await envsOk(fx.repo, fx.home, ['gc', '--json']);
    expect(gc.json.items).toContainEqual(
      expect.objectContaining({ kind: 'env', name: env.name, action: 'removed', reason: expect.stringMatching(/destroy was interrupted/) }),
    );
    await expectAllGone(fx);
    expect(existsSync(env.worktree)).toBe(false);
    await fx.git('branch', '-D', 'feat/halfgone');
  });
});

describe('gc of an env whose worktree was deleted by hand', () => {
  const fx = useRepo(webFiles(), 'gcworktree');

  it('--dry-run changes nothing; gc then removes its resources, leases and record', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/vanished', '--json'])).json;
    const other = (await envsOk(fx.repo, fx.home, ['create', 'feat/kept', '--json'])).json;
    await rm(env.worktree, { recursive: true, force: true });

    const before = await snapshot(fx);
    const dry = await envsOk(fx.repo, fx.home, ['gc', '--dry-run', '--json']);
    expect(dry.json.dry_run).toBe(true);
    expect(dry.json.items).toContainEqual(
      expect.objectContaining({
        kind: 'env',
        name: env.name,
        action: 'would remove',
        reason: expect.stringMatching(/worktree .* was deleted/),
      }),
    );
    expect(dry.json.items).toContainEqual(expect.objectContaining({ kind: 'worktree-entry', name: env.worktree, action: 'would remove' }));
    expect(dry.json.items.some((i: { name: string }) => i.name === other.name)).toBe(false);
    expect(await snapshot(fx)).toEqual(before);

    const gc = await envsOk(fx.repo, fx.home, ['gc']);
    expect(gc.stdout).toMatch(/removed +env feat-vanished-\w+ .*its worktree .* was deleted/);
    expect((await labelled(`dev.envs.project=${env.project}`)).containers).toEqual([]);
    expect(await fx.git('worktree', 'list')).not.toMatch(/feat-vanished/);
    // The healthy env is untouched: still running, its ports still leased.
    const [listed] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(listed).toMatchObject({ name: other.name, status: 'running' });
    expect((await leases(fx.home)).ports).toHaveLength(1);

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/kept']);
    await expectAllGone(fx);
  });
});

describe('gc of envs that only look gone', () => {
  const fx = useRepo(webFiles(), 'gcmoved');

  it('keeps an env whose worktree was moved (git worktree move) and one stopped by a hand-run compose down', async () => {
    const moved = (await envsOk(fx.repo, fx.home, ['create', 'feat/moved', '--json'])).json;
    const stopped = (await envsOk(fx.repo, fx.home, ['create', 'feat/stopped', '--json'])).json;
    await writeFile(join(moved.worktree, 'notes.md'), 'uncommitted work\n');
    const to = join(fx.root, 'elsewhere');
    await fx.git('worktree', 'move', moved.worktree, to);
    await execa('docker', ['compose', '-p', stopped.project, 'down']);

    const before = await snapshot(fx);
    const dry = await envsOk(fx.repo, fx.home, ['gc', '--dry-run', '--json']);
    const gc = await envsOk(fx.repo, fx.home, ['gc', '--json']);
    for (const run of [dry, gc]) {
      expect(ours(fx, run.json.items)).toEqual([
        expect.objectContaining({
          kind: 'env',
          name: moved.name,
          action: 'kept',
          kept_because: `its branch feat/moved is checked out in ${to} (a worktree moved by hand?): \`envs destroy feat/moved\` removes the env if it may go`,
        }),
      ]);
    }
    expect(await snapshot(fx)).toEqual(before);
    expect(await readFile(join(to, 'notes.md'), 'utf8')).toBe('uncommitted work\n');
    // Both envs still there; the stopped one is merely stopped (`envs up` brings it back).
    const listed = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json as { name: string; status: string }[];
    expect(listed.map((e) => e.name)).toEqual([moved.name, stopped.name]);
    expect(listed[1]?.status).toBe('stopped');
    expect((await labelled(`dev.envs.project=${moved.project}`)).containers).toHaveLength(1);
    await envs(fx.repo, fx.home, ['destroy', '--force', moved.name]);
    await envsOk(fx.repo, fx.home, ['destroy', stopped.name]);
    await fx.git('worktree', 'remove', '--force', to);
    await expectAllGone(fx);
  });
});

describe('gc and other state directories', () => {
  const fx = useRepo(webFiles(), 'gchome');
  let other = '';
  afterAll(async () => {
    if (other) await rm(other, { recursive: true, force: true });
  });

  it("never removes an existing state directory's resources", async () => {
    other = await mkdtemp(join(fx.root, 'home2-'));
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/theirs', '--json'])).json;
    const before = await snapshot(fx);
    const gc = await envsOk(fx.repo, other, ['gc', '--json']);
    const mine = gc.json.items.filter((i: { project?: string }) => i.project === env.project);
    expect(mine.length).toBeGreaterThanOrEqual(2); // its container and network at least
    for (const item of mine) {
      expect(item).toMatchObject({ action: 'kept', kept_because: expect.stringMatching(/another state directory .* still exists/) });
    }
    expect(await snapshot(fx)).toEqual(before);
    const [listed] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(listed.status).toBe('running');
  });

  it('removes the resources of a state directory that was deleted', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json[0];
    await rm(fx.home, { recursive: true, force: true });
    const gc = await envsOk(fx.repo, other, ['gc', '--json']);
    const mine = gc.json.items.filter((i: { project?: string }) => i.project === env.project);
    expect(mine.map((i: { kind: string }) => i.kind)).toEqual(expect.arrayContaining(['container', 'network']));
    for (const item of mine) expect(item).toMatchObject({ action: 'removed', reason: expect.stringMatching(/state directory .* is gone/) });
    // git's entry of the worktree that lived in the deleted state directory goes too.
    expect(gc.json.items).toContainEqual(expect.objectContaining({ kind: 'worktree-entry', name: env.worktree, action: 'removed' }));
    await expectNothingLeft(fx.label);
    expect(await fx.git('worktree', 'list', '--porcelain')).not.toMatch(/prunable|feat-theirs/);
    await fx.git('branch', '-D', 'feat/theirs');
  });
});

/** A unix socket answering the Engine API's ping and info as another engine (another ID), with empty lists. */
async function fakeEngine(socket: string): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    if (req.url?.startsWith('/_ping')) return res.end('OK');
    if (req.url?.includes('/info')) return res.end(JSON.stringify({ ID: 'OTHER:ENGINE:ID', ServerVersion: '26.1.0' }));
    if (req.url?.includes('/volumes')) return res.end(JSON.stringify({ Volumes: [] }));
    return res.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return server;
}

describe('gc deletes nothing without positive evidence about the engine', () => {
  const fx = useRepo(webFiles(), 'gcengine');

  it('with the engine down, or another engine active, gc removes nothing and says why', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/left', '--json'])).json;
    await rm(env.worktree, { recursive: true, force: true }); // something gc would remove on the right engine
    const before = await snapshot(fx);

    const down = await envs(fx.repo, fx.home, ['gc'], { DOCKER_HOST: `unix://${join(fx.root, 'dead.sock')}` });
    expect(down.exitCode).toBe(1);
    expect(down.stderr.split('\n')[0]).toMatch(/does not answer.*gc removed nothing/);
    const downJson = await envs(fx.repo, fx.home, ['gc', '--json'], { DOCKER_HOST: `unix://${join(fx.root, 'dead.sock')}` });
    expect(downJson.json.error.code).toBe('DOCKER_UNAVAILABLE');
    expect(await snapshot(fx)).toEqual(before);

    const socket = join(fx.root, 'other.sock');
    const server = await fakeEngine(socket);
    try {
      const other = await envs(fx.repo, fx.home, ['gc', '--json'], { DOCKER_HOST: `unix://${socket}` });
      expect(other.exitCode).toBe(1);
      expect(other.json.error).toMatchObject({
        code: 'ENGINE_MISMATCH',
        message: expect.stringMatching(/another Docker engine.*gc removed nothing/),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await snapshot(fx)).toEqual(before);

    // Back on the env's engine, gc removes it.
    await envsOk(fx.repo, fx.home, ['gc']);
    await expectAllGone(fx);
  });
});

describe('gc of resources of this state directory that no record names', () => {
  const fx = useRepo(webFiles(), 'gcnorecord');

  it('a record deleted by hand: its containers, network, leases and env state go by the home label', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/unrecorded', '--json'])).json;
    const repoId = fx.label.split('=')[1] ?? '';
    await rm(join(fx.home, 'repos', repoId, 'envs', `${env.name}.json`));
    const gc = await envsOk(fx.repo, fx.home, ['gc', '--json']);
    const mine = gc.json.items.filter((i: Item) => i.project === env.project);
    expect(mine.map((i: Item) => i.kind)).toEqual(expect.arrayContaining(['container', 'network']));
    for (const item of mine)
      expect(item).toMatchObject({ action: 'removed', reason: expect.stringMatching(/no env record in this state directory/) });
    expect(gc.json.items).toContainEqual(expect.objectContaining({ kind: 'env-dir', name: env.name, action: 'removed' }));
    await expectNothingLeft(fx.label);
    expect(await leases(fx.home)).toEqual({ ports: [], subnets: [] });
    expect(existsSync(join(fx.home, 'repos', repoId, 'envs', env.name))).toBe(false);
    // Its worktree is the user's to remove: without a record gc cannot tell whether it holds work.
    expect(existsSync(env.worktree)).toBe(true);
    await fx.git('worktree', 'remove', '--force', env.worktree);
    await fx.git('branch', '-D', 'feat/unrecorded');
  });
});
