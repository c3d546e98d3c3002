import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { sampleRecord } from '../testing/record.ts';
import type { ContainerSummary } from './deps.ts';
import { type FleetDeps, fleetCache, pool, readFleet } from './fleet.ts';
import { LABEL } from './labels.ts';

const made: Fakes[] = [];
afterEach(async () => {
  for (const f of made.splice(0)) await f.cleanup();
});

/** A repository of fakes with one running env (its worktree registered, created a day before `now`). */
async function repoWith(repoId: string, name: string, over: Parameters<typeof sampleRecord>[0] = {}) {
  const f = await makeFakes({ services: {} });
  made.push(f);
  const worktree = join(f.dir, 'worktrees', name);
  await f.deps.git.addWorktree({ path: worktree, branch: name });
  f.records.set(
    name,
    sampleRecord({
      name,
      branch: name,
      repo: f.deps.git.repo.root,
      repoId,
      worktree,
      project: `envs-${repoId}-${name}`,
      host: name,
      services: ['web'],
      ports: [{ service: 'web', target: 80, published: 21080, host_ip: '127.0.0.1', protocol: 'tcp' }],
      createdAt: '2026-11-20T00:00:00.000Z',
      updatedAt: '2026-11-20T06:00:00.000Z',
      ...over,
    }),
  );
  return f;
}

function container(repoId: string, name: string, state = 'running'): ContainerSummary {
  const project = `envs-${repoId}-${name}`;
  return { id: `${project}-web`, project, service: 'web', state, labels: { [LABEL.managed]: 'true', [LABEL.repo]: repoId }, ports: [] };
}

function fleetOf(repos: { repoId: string; f: Fakes }[], engine: Partial<FleetDeps['engine']> & { calls?: string[] } = {}): FleetDeps {
  return {
    // The router's port, as the dashboard passes it: the preview URLs are on it.
    repos: async () =>
      repos.map(({ repoId, f }) => ({ repoId, root: f.deps.git.repo.root, deps: { ...f.deps, repoId, env: { ENVS_PROXY_PORT: '4242' } } })),
    engine: {
      containers: engine.containers ?? (async () => []),
      inspect: engine.inspect ?? (async () => []),
    },
    now: () => new Date('2026-11-21T00:00:00.000Z'),
  };
}

describe('readFleet', () => {
  it('lists every env of every repository with ONE engine query, each with its own containers, urls and age', async () => {
    const a = await repoWith('ra', 'feat-a');
    const b = await repoWith('rb', 'feat-b');
    const asked: Record<string, string>[] = [];
    const fleet = await readFleet(
      fleetOf(
        [
          { repoId: 'ra', f: a },
          { repoId: 'rb', f: b },
        ],
        {
          containers: async (labels) => {
            asked.push(labels);
            // Same env name in two repositories' projects would not clash: containers go by their repo label.
            return [container('ra', 'feat-a'), container('rb', 'feat-b', 'exited(0)')];
          },
        },
      ),
    );
    expect(asked).toEqual([{ [LABEL.managed]: 'true' }]);
    expect(fleet.engine_reachable).toBe(true);
    // Sorted by repository path (temp dirs here), so compare without order.
    expect(fleet.envs.map((e) => [e.repo_id, e.name, e.status]).sort()).toEqual([
      ['ra', 'feat-a', 'running'],
      ['rb', 'feat-b', 'stopped'],
    ]);
    const envA = fleet.envs.find((e) => e.name === 'feat-a');
    expect(envA).toMatchObject({
      urls: { web: 'http://feat-a.localhost:4242' },
      direct_urls: { web: 'http://127.0.0.1:21080/' },
      age_seconds: 86_400,
      dirty: false,
    });
  });

  it('says unknown for every env, and still lists them, when the engine does not answer', async () => {
    const a = await repoWith('ra', 'feat-a');
    const fleet = await readFleet(
      fleetOf([{ repoId: 'ra', f: a }], {
        containers: async () => {
          throw new EnvsError('DOCKER_UNAVAILABLE', 'no answer in 5 s');
        },
      }),
    );
    expect(fleet.engine_reachable).toBe(false);
    expect(fleet.envs).toHaveLength(1);
    expect(fleet.envs[0]).toMatchObject({ name: 'feat-a', status: 'unknown' });
    expect(fleet.envs[0]?.problems.join(' ')).toMatch(/engine did not answer/);
  });

  it('shows a damaged record as corrupt beside the readable envs', async () => {
    const a = await repoWith('ra', 'feat-a');
    a.corrupt.set('feat-bad', {
      name: 'feat-bad',
      file: '/h/repos/ra/envs/feat-bad.json',
      reason: 'not JSON',
      salvaged: { branch: 'feat/bad' },
      newer: false,
    });
    const fleet = await readFleet(fleetOf([{ repoId: 'ra', f: a }]));
    const bad = fleet.envs.find((e) => e.name === 'feat-bad');
    expect(bad).toMatchObject({ status: 'corrupt', branch: 'feat/bad', repo_id: 'ra', repo: a.deps.git.repo.root });
    expect(bad?.problems[0]).toMatch(/feat-bad\.json.*damaged: not JSON/);
    expect(fleet.envs.find((e) => e.name === 'feat-a')?.status).toBe('stopped');
  });

  it('takes last activity from the latest of the HEAD commit, the record and a container start', async () => {
    const a = await repoWith('ra', 'feat-a');
    const now = fleetOf([{ repoId: 'ra', f: a }]);
    // Only the record: its last write.
    expect((await readFleet(now)).envs[0]).toMatchObject({ last_activity: '2026-11-20T06:00:00.000Z', last_activity_from: 'record' });
    // A later commit on the worktree's HEAD (the fakes' worktrees are at c0ffee).
    a.commitTimes.set('c0ffee', Date.parse('2026-11-20T08:00:00.000Z'));
    expect((await readFleet(now)).envs[0]).toMatchObject({ last_activity: '2026-11-20T08:00:00.000Z', last_activity_from: 'commit' });
    // A container started later still.
    const withContainer = fleetOf([{ repoId: 'ra', f: a }], {
      containers: async () => [container('ra', 'feat-a')],
      inspect: async (ids) =>
        ids.map((id) => ({
          id,
          service: 'web',
          status: 'running',
          exitCode: 0,
          restartCount: 0,
          startedAt: '2026-11-20T09:30:00Z',
          restartPolicy: 'no',
        })),
    });
    expect((await readFleet(withContainer)).envs[0]).toMatchObject({
      last_activity: '2026-11-20T09:30:00.000Z',
      last_activity_from: 'container',
    });
  });

  it('marks a dirty worktree, and notes a repository whose checkout cannot be read on its envs', async () => {
    const a = await repoWith('ra', 'feat-a');
    a.deps.git.status = async () => [{ xy: '??', path: 'notes.txt' }];
    const deps = fleetOf([{ repoId: 'ra', f: a }]);
    const repos = await deps.repos();
    const fleet = await readFleet({
      ...deps,
      repos: async () => repos.map((r) => ({ ...r, problem: 'its repository /r cannot be read' })),
    });
    expect(fleet.envs[0]).toMatchObject({ dirty: true });
    expect(fleet.envs[0]?.problems).toContain('its repository /r cannot be read');
  });
});

describe('fleetCache', () => {
  it('reads once per period, shares a read in flight, forgets failures and invalidates on demand', async () => {
    let t = 0;
    let loads = 0;
    let fail = false;
    const cache = fleetCache(
      async () => {
        loads++;
        if (fail) throw new Error('boom');
        return { envs: [], engine_reachable: true, generated_at: String(loads) };
      },
      2000,
      () => t,
    );
    await Promise.all([cache.get(), cache.get()]);
    expect(loads).toBe(1);
    t = 1999;
    await cache.get();
    expect(loads).toBe(1);
    t = 2000;
    await cache.get();
    expect(loads).toBe(2);
    cache.invalidate();
    await cache.get();
    expect(loads).toBe(3);
    cache.invalidate();
    fail = true;
    await expect(cache.get()).rejects.toThrow('boom');
    fail = false;
    expect((await cache.get()).generated_at).toBe('5');
  });
});

describe('pool', () => {
  it('runs at most `limit` jobs at once and keeps their order', async () => {
    let running = 0;
    let most = 0;
    const jobs = Array.from({ length: 10 }, (_, i) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3)));
      running--;
      return i;
    });
    expect(await pool(jobs, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
  });
});
