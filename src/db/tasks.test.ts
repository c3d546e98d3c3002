import { describe, expect, it } from 'vitest';
import type { DirsSpec, Engine, TaskSpec } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { layOutClone, storePlace, type TaskContext, volumePlace } from './tasks.ts';

/** An engine that records the tasks and the directory uploads a layout asks for; a task answers `output`. */
function engine(output: string) {
  const tasks: TaskSpec[] = [];
  const uploads: DirsSpec[] = [];
  const fake = {
    runTask: async (task: TaskSpec) => {
      tasks.push(task);
      return { exitCode: 0, output };
    },
    makeDirs: async (spec: DirsSpec) => void uploads.push(spec),
  } as unknown as Engine;
  return {
    ctx: { engine: fake, image: 'postgres:17-alpine', labels: { 'dev.envs.managed': 'true' } } satisfies TaskContext,
    tasks,
    uploads,
  };
}

const snapshot = volumePlace('envs-snap-app-main', '/snapshot');
const clone = volumePlace('envs-app-feat-dbclone', '/clone');
const root = { uid: 70, gid: 70, mode: 0o700 };

describe('layOutClone', () => {
  it('auto with a known top directory: the overlay’s layers through an upload, no task container', async () => {
    const { ctx, tasks, uploads } = engine('');
    expect(await layOutClone(ctx, snapshot, clone, { prefer: 'auto', subpath: '.', root })).toBe('overlay');
    expect(tasks).toEqual([]);
    expect(uploads).toEqual([
      {
        image: 'postgres:17-alpine',
        mount: clone.mount,
        dirs: [
          { path: 'upper', uid: 70, gid: 70, mode: 0o700 },
          { path: 'work', uid: 0, gid: 0, mode: 0o755 },
        ],
        labels: ctx.labels,
      },
    ]);
  });

  it('in a store: the layers under the clone’s directory, relative to the store’s mount', async () => {
    const { ctx, uploads } = engine('');
    const inStore = storePlace('/mnt/xfs/envs', 'clones/envs-app-feat', '/store');
    await layOutClone(ctx, snapshot, inStore, { prefer: 'overlay', subpath: '.', root });
    expect(uploads[0]?.mount).toEqual({ kind: 'bind', source: '/mnt/xfs/envs', target: '/store' });
    expect(uploads[0]?.dirs.map((d) => d.path)).toEqual(['clones/envs-app-feat/upper', 'clones/envs-app-feat/work']);
  });

  it('an older snapshot (owner unknown): a task lays the overlay out (it reads the owner itself)', async () => {
    const { ctx, tasks, uploads } = engine('overlay\n');
    expect(await layOutClone(ctx, snapshot, clone, { prefer: 'auto', subpath: 'pgdata' })).toBe('overlay');
    expect(uploads).toEqual([]);
    expect(tasks.map((t) => t.cmd.slice(-4))).toEqual([['/snapshot', '/clone', 'overlay', 'pgdata']]);
  });

  it('an owner a tar header cannot hold (uids past 262143, as SSSD hands out), or an engine refusing the upload: the task lays it out', async () => {
    const big = engine('overlay\n');
    expect(
      await layOutClone(big.ctx, snapshot, clone, { prefer: 'auto', subpath: '.', root: { uid: 1_600_000_001, gid: 70, mode: 0o700 } }),
    ).toBe('overlay');
    expect(big.uploads).toEqual([]);
    expect(big.tasks.map((t) => t.cmd.at(-2))).toEqual(['overlay']);

    const refused = engine('overlay\n');
    refused.ctx.engine.makeDirs = async () => {
      throw Object.assign(new Error('bind source path does not exist: /mnt/xfs/envs'), { statusCode: 400 });
    };
    expect(await layOutClone(refused.ctx, snapshot, clone, { prefer: 'auto', subpath: '.', root })).toBe('overlay');
    expect(refused.tasks).toHaveLength(1);
  });

  it('reflink and copy always run the task (they copy files), whatever is known of the owner', async () => {
    const reflink = engine('reflink\n');
    expect(await layOutClone(reflink.ctx, snapshot, clone, { prefer: 'reflink', subpath: '.', root })).toBe('reflink');
    expect(reflink.uploads).toEqual([]);
    const copy = engine('copy\n');
    expect(await layOutClone(copy.ctx, snapshot, clone, { prefer: 'copy', subpath: '.', root })).toBe('copy');
    expect(copy.tasks.map((t) => t.cmd.at(-2))).toEqual(['copy']);
  });

  it('reflink on a file system without reflinks is refused with what to change', async () => {
    const { ctx } = engine('overlay\n');
    const error = await layOutClone(ctx, snapshot, clone, { prefer: 'reflink', subpath: '.', root }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('DB_FAILED');
    expect((error as EnvsError).hint).toMatch(/XFS.*database\.clone to auto/);
  });
});
