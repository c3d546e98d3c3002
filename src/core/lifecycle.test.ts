import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { resetEnvDatabase } from './db-commands.ts';
import type { ContainerSummary } from './deps.ts';
import { destroyEnv } from './destroy.ts';
import { listEnvs } from './list.ts';
import { upEnv } from './updown.ts';

const model: ComposeModel = {
  name: 'x',
  services: {
    db: {
      image: 'postgres:17-alpine',
      environment: { POSTGRES_PASSWORD: 'pw' },
      ports: [{ target: 5432, published: '5432', protocol: 'tcp' }],
    },
    web: { image: 'nginx', ports: [{ target: 80, published: '8080', protocol: 'tcp' }] },
  },
};

let fakes: Fakes;
beforeEach(async () => {
  fakes = await makeFakes(model);
});
afterEach(async () => {
  await fakes.cleanup();
});

describe('create', () => {
  it('records a running env with the bindings the engine reports and a DATABASE_URL', async () => {
    const view = await createEnv(fakes.deps, { branch: 'feat/x' });
    expect(view.status).toBe('running');
    expect(view.ports.map((p) => p.service)).toEqual(['db', 'web']);
    expect(view.env.DATABASE_URL).toMatch(/^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres$/);
    expect(fakes.records.get(view.name)?.phase).toBe('ready');
    // The repository's first env seeds itself and becomes the snapshot the next ones clone.
    expect(fakes.calls).toEqual([
      'worktree add feat/x',
      'app install',
      'compose up',
      'compose stop',
      'engine runTask',
      'engine createVolume envs-snapdata-repo-1234-main-c0ffee',
      'engine runTask',
      'engine createVolume envs-snap-repo-1234-main-c0ffee',
      'compose up',
    ]);
    expect(view.database).toEqual({ service: 'db', strategy: 'volume-clone', image: 'postgres:17-alpine', made_snapshot: 'main-c0ffee' });
  });

  it("clones the repository's snapshot for the next env, before its database first starts", async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    fakes.calls.length = 0;
    const view = await createEnv(fakes.deps, { branch: 'feat/y' });
    expect(view.database).toMatchObject({ snapshot: 'main-c0ffee', method: 'overlay' });
    // Laid out while git adds the worktree, before compose up.
    const at = (call: string | RegExp) => fakes.calls.findIndex((c) => (typeof call === 'string' ? c === call : call.test(c)));
    expect(at(/^engine createVolume envs-repo-1234-feat-y-.*-dbclone$/)).toBeGreaterThanOrEqual(0);
    expect(at('engine runTask')).toBeLessThan(at('compose up'));
    expect(at('worktree add feat/y')).toBeLessThan(at('compose up'));
    expect(fakes.calls).not.toContain('compose stop');
  });

  it('rolls back everything it made when compose up fails, and keeps the error', async () => {
    fakes.upResults.push({ ok: false, stderr: 'Error response from daemon: pull access denied for nope' });
    const error = await createEnv(fakes.deps, { branch: 'feat/x' }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('COMPOSE_FAILED');
    expect(String((error as Error).message)).toMatch(/pull access denied/);
    expect(fakes.calls).toEqual([
      'worktree add feat/x',
      'app install',
      'compose up',
      'app stop',
      expect.stringMatching(/^compose down envs-repo-1234-feat-x-/),
      'worktree remove',
      'branch delete feat/x@c0ffee',
    ]);
    expect(fakes.records.size).toBe(0);
    expect(await fakes.deps.ports.leases()).toEqual([]);
  });

  it('keeps a failed env for destroy with --keep-on-failure', async () => {
    fakes.upResults.push({ ok: false, stderr: 'boom' });
    await expect(createEnv(fakes.deps, { branch: 'feat/x', keepOnFailure: true })).rejects.toThrow(/boom/);
    const [record] = [...fakes.records.values()];
    expect(record?.status).toBe('failed');
    expect((await fakes.deps.ports.leases()).length).toBe(2);
    await destroyEnv(fakes.deps, 'feat/x');
    expect(fakes.records.size).toBe(0);
    expect(await fakes.deps.ports.leases()).toEqual([]);
  });

  it('moves a leased port that someone else took, and tries again', async () => {
    // Find out which port db will get, then make compose report it taken once.
    const plan = await createEnv(fakes.deps, { branch: 'feat/probe' });
    const dbPort = plan.ports.find((p) => p.service === 'db')?.published;
    await destroyEnv(fakes.deps, 'feat/probe');
    fakes.calls.length = 0;
    fakes.upResults.push({
      ok: false,
      stderr: `Error starting userland proxy: listen tcp4 127.0.0.1:${dbPort}: bind: address already in use`,
    });

    const view = await createEnv(fakes.deps, { branch: 'feat/probe' });
    expect(fakes.calls.filter((c) => c === 'compose up')).toHaveLength(2);
    expect(view.ports.find((p) => p.service === 'db')?.published).not.toBe(dbPort);
    expect((await fakes.deps.ports.leases()).map((l) => l.port)).not.toContain(dbPort);
  });

  it('refuses a second env for the same branch', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    await expect(createEnv(fakes.deps, { branch: 'feat/x' })).rejects.toSatisfy((e: unknown) => EnvsError.is(e) && e.code === 'ENV_EXISTS');
  });

  it('needs no default branch when the start is given, and refuses a bad name plainly without one', async () => {
    // No origin/HEAD, main or master, the main checkout detached: common in CI checkouts.
    fakes.deps.git.defaultBase = async () => {
      throw new EnvsError('UNKNOWN_REF', "Could not tell this repository's default branch.");
    };
    const view = await createEnv(fakes.deps, { branch: 'feat/x', from: 'main' });
    expect(view.status).toBe('running');
    const error = await createEnv(fakes.deps, { branch: 'bad name' }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('INVALID_BRANCH');
    const none = await createEnv(fakes.deps, { branch: 'feat/y' }).catch((e: unknown) => e);
    expect(EnvsError.is(none) && none.code).toBe('UNKNOWN_REF');
  });

  /** Makes `git worktree add` wait (up to a second) until the env's ports are leased, and say whether they were. */
  function addWaitingForLeases(then: 'add' | 'fail'): { leasedFirst?: boolean } {
    const seen: { leasedFirst?: boolean } = {};
    const add = fakes.deps.git.addWorktree;
    fakes.deps.git.addWorktree = async (o) => {
      const until = Date.now() + 1_000;
      while ((await fakes.deps.ports.leases()).length === 0 && Date.now() < until) await sleep(5);
      seen.leasedFirst = (await fakes.deps.ports.leases()).length > 0;
      if (then === 'fail') throw new EnvsError('GIT_FAILED', 'git worktree add failed: disk full');
      await add(o);
    };
    return seen;
  }

  it('leases its ports while git adds the worktree', async () => {
    const seen = addWaitingForLeases('add');
    const view = await createEnv(fakes.deps, { branch: 'feat/x' });
    expect(seen.leasedFirst).toBe(true);
    expect(view.status).toBe('running');
    expect((await fakes.deps.ports.leases()).map((l) => l.port).sort()).toEqual(view.ports.map((p) => p.published).sort());
  });

  it('releases the ports leased beside a worktree add that fails', async () => {
    const seen = addWaitingForLeases('fail');
    const error = await createEnv(fakes.deps, { branch: 'feat/x' }).catch((e: unknown) => e);
    expect(seen.leasedFirst).toBe(true);
    expect(EnvsError.is(error) && error.code).toBe('GIT_FAILED');
    expect(await fakes.deps.ports.leases()).toEqual([]);
    expect(fakes.records.size).toBe(0);
  });

  it('pulls a missing image only once the worktree and its env files are there (Compose reads its .env)', async () => {
    let looks = 0;
    fakes.deps.engine.imagesPresent = async (refs) => new Set(looks++ === 0 ? [] : refs);
    const phases: (string | undefined)[] = [];
    fakes.deps.compose.pull = async () => {
      phases.push([...fakes.records.values()][0]?.phase);
      fakes.calls.push('compose pull');
      return { ok: true, stderr: '' };
    };
    await createEnv(fakes.deps, { branch: 'feat/x' });
    // Past the worktree and env-files phases: in converge's own.
    expect(phases).toEqual(['ports']);
    expect(fakes.calls.indexOf('worktree add feat/x')).toBeLessThan(fakes.calls.indexOf('compose pull'));
    expect(fakes.calls.indexOf('compose pull')).toBeLessThan(fakes.calls.indexOf('compose up'));
  });

  it('changes nothing when the engine is down', async () => {
    fakes.engineDown = true;
    await expect(createEnv(fakes.deps, { branch: 'feat/x' })).rejects.toSatisfy(
      (e: unknown) => EnvsError.is(e) && e.code === 'DOCKER_UNAVAILABLE',
    );
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.size).toBe(0);
  });
});

describe('create: the database probe beside the stack wait', () => {
  /**
   * The database's container started just now by the fakes' clock, which stands still: by its age alone it
   * would never have been up the 250 ms the wait asks, so only its probe's answer can end the wait.
   */
  function youngDatabase(): void {
    const inspect = fakes.deps.engine.inspect;
    fakes.deps.engine.inspect = async (ids) =>
      (await inspect(ids)).map((d) =>
        d.id.includes('feat-y') && d.id.endsWith('-db') ? { ...d, startedAt: fakes.deps.now().toISOString() } : d,
      );
  }

  it('asks Postgres while the wait runs, on the published port, and a database that answers is up (asked once more after)', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' }); // the snapshot
    youngDatabase();
    const asked = probedPorts();
    const view = await createEnv(fakes.deps, { branch: 'feat/y' });
    expect(view.status).toBe('running');
    const port = view.ports.find((p) => p.service === 'db')?.published;
    expect(asked).toEqual([port, port]);
  });

  /** The engine's first listing of feat/y's containers (the one right after up) seen through `change`. */
  function firstListingOfY(change: (c: ContainerSummary) => ContainerSummary): void {
    let listings = 0;
    const containers = fakes.deps.engine.containers;
    fakes.deps.engine.containers = async (labels) => {
      const found = await containers(labels);
      return labels['com.docker.compose.project']?.includes('feat-y') && listings++ === 0 ? found.map(change) : found;
    };
  }

  /** The ports Postgres is asked on, in order; it always answers. */
  function probedPorts(): number[] {
    const asked: number[] = [];
    fakes.deps.probes.postgres = async (target) => {
      asked.push(target.port);
      return true;
    };
    return asked;
  }

  it('asks the port read after the wait when the engine showed another one right after up', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    firstListingOfY((c) => ({ ...c, ports: c.ports.map((p) => ({ ...p, published: p.published + 1 })) }));
    const asked = probedPorts();
    const view = await createEnv(fakes.deps, { branch: 'feat/y' });
    const port = view.ports.find((p) => p.service === 'db')?.published as number;
    expect(asked).toEqual([port + 1, port]);
  });

  it('holds a young database that does not answer yet, like any young container', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    youngDatabase();
    fakes.deps.probes.postgres = (_target, _deadline, signal) =>
      new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false)));
    const cancel = new AbortController();
    const creating = createEnv(fakes.deps, { branch: 'feat/y', signal: cancel.signal }).then(
      () => 'created',
      (e: unknown) => (EnvsError.is(e) ? e.code : String(e)),
    );
    const first = await Promise.race([creating, sleep(300).then(() => 'still waiting')]);
    cancel.abort();
    expect(first).toBe('still waiting');
    expect(await creating).toBe('CANCELLED');
    // Cancelled, not failed: no rollback on clients bound to the aborted signal; left for `create` to resume.
    const left = [...fakes.records.values()].find((r) => r.branch === 'feat/y');
    expect(left).toMatchObject({ status: 'creating', phase: 'compose-up' });
    expect(fakes.calls.some((c) => c.startsWith('worktree remove'))).toBe(false);
  });

  it('reports the wait’s failure, not the probe’s, and stops the probe', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    const containers = fakes.deps.engine.containers;
    fakes.deps.engine.containers = async (labels) =>
      (await containers(labels)).map((c) =>
        c.service === 'web' && c.project.includes('feat-y') ? { ...c, state: 'exited (3)', ports: [] } : c,
      );
    const inspect = fakes.deps.engine.inspect;
    fakes.deps.engine.inspect = async (ids) =>
      (await inspect(ids)).map((d) => (d.id.endsWith('-web') ? { ...d, status: 'exited', exitCode: 3 } : d));
    let stopped: AbortSignal | undefined;
    fakes.deps.probes.postgres = (_target, _deadline, signal) => {
      stopped = signal;
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false)));
    };
    const error = await createEnv(fakes.deps, { branch: 'feat/y' }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('SERVICE_FAILED');
    expect(String((error as Error).message)).toMatch(/Service web exited with code 3/);
    expect(stopped?.aborted).toBe(true);
  });

  it('asks again when the port read after the wait is not the one it asked', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    // Right after up the engine shows no database port yet (a restart): the early probe has nothing to ask.
    firstListingOfY((c) => ({ ...c, ports: [] }));
    const asked = probedPorts();
    const view = await createEnv(fakes.deps, { branch: 'feat/y' });
    expect(asked).toEqual([view.ports.find((p) => p.service === 'db')?.published]);
  });
});

describe('create: the env files the plan read', () => {
  const collected = { sources: [{ path: '.env', from: 'default' as const, content: Buffer.from('A=1\n') }], skipped: [] };

  /** What each writing of the env files was given to write from (undefined: it reads them itself). */
  function writtenFrom(): unknown[] {
    fakes.deps.app.collectEnvFiles = async () => collected;
    const given: unknown[] = [];
    const write = fakes.deps.app.writeEnvFiles;
    fakes.deps.app.writeEnvFiles = async (input) => {
      given.push(input.collected);
      return write(input);
    };
    return given;
  }

  it('are written as read, not read from the main checkout again', async () => {
    const given = writtenFrom();
    await createEnv(fakes.deps, { branch: 'feat/x' });
    expect(given).toEqual([collected]);
  });

  it('are read again when an image had to be pulled meanwhile (the pull may take minutes)', async () => {
    const given = writtenFrom();
    let looks = 0;
    fakes.deps.engine.imagesPresent = async (refs) => new Set(looks++ === 0 ? [] : refs);
    await createEnv(fakes.deps, { branch: 'feat/x' });
    expect(given).toEqual([undefined]);
  });
});

describe('list', () => {
  it('asks the engine once, however many envs there are', async () => {
    for (const branch of ['feat/a', 'feat/b', 'feat/c']) await createEnv(fakes.deps, { branch });
    fakes.engineCalls.containers = 0;
    const views = await listEnvs(fakes.deps);
    expect(views.map((v) => [v.branch, v.status])).toEqual(
      [
        ['feat/a', 'running'],
        ['feat/b', 'running'],
        ['feat/c', 'running'],
      ].sort(),
    );
    expect(fakes.engineCalls.containers).toBe(1);
  });
});

describe('destroy needs positive evidence', () => {
  it('touches nothing when the engine does not answer', async () => {
    const view = await createEnv(fakes.deps, { branch: 'feat/x' });
    fakes.calls.length = 0;
    fakes.engineDown = true;
    await expect(destroyEnv(fakes.deps, 'feat/x')).rejects.toSatisfy((e: unknown) => EnvsError.is(e) && e.code === 'DOCKER_UNAVAILABLE');
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.get(view.name)?.status).toBe('running');
  });

  it('touches nothing on another engine than the env’s', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    fakes.calls.length = 0;
    fakes.engineId = 'engine-2';
    await expect(destroyEnv(fakes.deps, 'feat/x')).rejects.toSatisfy((e: unknown) => EnvsError.is(e) && e.code === 'ENGINE_MISMATCH');
    await expect(upEnv(fakes.deps, 'feat/x')).rejects.toSatisfy((e: unknown) => EnvsError.is(e) && e.code === 'ENGINE_MISMATCH');
    expect(fakes.calls).toEqual([]);
  });
});

describe('a network the engine cannot create', () => {
  it('is reported as that, with what to change, not as something in the containers’ logs', async () => {
    const fakes = await makeFakes(model);
    try {
      fakes.upResults.push({
        ok: false,
        stderr:
          'failed to create network envs_default: Error response from daemon: could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
      });
      const error = await createEnv(fakes.deps, { branch: 'feat/pools' }).catch((e: unknown) => e);
      expect(EnvsError.is(error) && error.code).toBe('NETWORK_FAILED');
      expect((error as EnvsError).hint).toMatch(/address pools/);
      expect((error as EnvsError).hint).not.toMatch(/logs/);
    } finally {
      await fakes.cleanup();
    }
  });
});

/** The env's clone as its record on disk names it. */
function cloneOnDisk(name: string) {
  return fakes.records.get(name)?.database?.clone;
}

describe('db reset', () => {
  it('names the new clone in the record before the old one is deleted, so a reset that stops after the layout leaves an env up can start', async () => {
    await createEnv(fakes.deps, { branch: 'main-env' }); // seeds, and takes the snapshot the next env clones
    const env = await createEnv(fakes.deps, { branch: 'feat/y' });
    const old = cloneOnDisk(env.name);
    expect(old?.volume).toMatch(/-dbclone$/);
    fakes.calls.length = 0;
    fakes.upResults.push({ ok: false, stderr: 'Error response from daemon: no space left on device' });
    const error = await resetEnvDatabase(fakes.deps, 'feat/y', {}).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('COMPOSE_FAILED');
    const now = cloneOnDisk(env.name);
    expect(now?.volume).toMatch(/-dbclone$/);
    expect(now?.volume).not.toBe(old?.volume);
    // The old clone's deletion started only once the new one was laid out (and recorded).
    const at = (prefix: string) => fakes.calls.findIndex((c) => c.startsWith(prefix));
    expect(at('engine startTask')).toBeGreaterThan(at(`engine createVolume ${now?.volume}`));
  });

  it('keeps the old clone, named in the record and not deleted, when the new one cannot be laid out', async () => {
    await createEnv(fakes.deps, { branch: 'main-env' });
    const env = await createEnv(fakes.deps, { branch: 'feat/z' });
    const old = cloneOnDisk(env.name);
    fakes.calls.length = 0;
    const engine = fakes.deps.engine;
    const runTask = engine.runTask;
    engine.runTask = async () => ({ exitCode: 1, output: 'cp: No space left on device' });
    const error = await resetEnvDatabase(fakes.deps, 'feat/z', {}).catch((e: unknown) => e);
    engine.runTask = runTask;
    expect(EnvsError.is(error) && error.code).toBe('DB_FAILED');
    expect(cloneOnDisk(env.name)).toEqual(old);
    expect(fakes.calls.some((c) => c.startsWith('engine startTask'))).toBe(false);
  });
});
