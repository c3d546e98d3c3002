import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { destroyEnv } from './destroy.ts';
import { infoEnv, listEnvs } from './list.ts';
import { slugForBranch } from './naming.ts';
import { upEnv } from './updown.ts';

const model: ComposeModel = {
  name: 'x',
  services: { web: { image: 'nginx', ports: [{ target: 80, published: '8080', protocol: 'tcp' }] } },
};

let fakes: Fakes;
beforeEach(async () => {
  fakes = await makeFakes(model);
});
afterEach(async () => {
  await fakes.cleanup();
});

async function refused(promise: Promise<unknown>, code: string): Promise<EnvsError> {
  const error = await promise.catch((e: unknown) => e);
  expect(EnvsError.is(error) && error.code, String(error)).toBe(code);
  return error as EnvsError;
}

describe('a corrupt env record', () => {
  beforeEach(() => {
    const name = slugForBranch('feat/bad');
    fakes.corrupt.set(name, { name, file: `/state/${name}.json`, reason: 'it is not valid JSON', salvaged: {}, newer: false });
  });

  it('shows that env as corrupt, with its file, and every other env as usual', async () => {
    await createEnv(fakes.deps, { branch: 'feat/ok' });
    const views = await listEnvs(fakes.deps);
    expect(views.map((v) => [v.branch, v.status])).toEqual([
      ['', 'corrupt'],
      ['feat/ok', 'running'],
    ]);
    expect(views[0]?.problems[0]).toMatch(/\(\/state\/feat-bad-[0-9a-f]{6}\.json\) is damaged: it is not valid JSON/);
    expect((await infoEnv(fakes.deps, 'feat/bad')).status).toBe('corrupt');
    expect((await infoEnv(fakes.deps, 'feat/ok')).status).toBe('running');
  });

  it('stops create, up and destroy of that env with STATE_CORRUPT and a way out, changing nothing', async () => {
    for (const call of [
      () => createEnv(fakes.deps, { branch: 'feat/bad' }),
      () => upEnv(fakes.deps, 'feat/bad'),
      () => destroyEnv(fakes.deps, 'feat/bad', { force: true }),
    ]) {
      const error = await refused(call(), 'STATE_CORRUPT');
      expect(error.exitCode).toBe(1);
      expect(error.hint).toMatch(/envs doctor --fix.*docker compose -p envs-repo-1234-feat-bad-[0-9a-f]{6} down --volumes/);
    }
    expect(fakes.calls).toEqual([]);
  });

  it('leaves create and destroy of other envs working', async () => {
    await createEnv(fakes.deps, { branch: 'feat/other' });
    await destroyEnv(fakes.deps, 'feat/other');
    expect(fakes.records.size).toBe(0);
  });
});

describe('a corrupt port registry', () => {
  it('stops destroy before its first side effect (not after `down -v`)', async () => {
    const view = await createEnv(fakes.deps, { branch: 'feat/x' });
    fakes.calls.length = 0;
    await writeFile(join(fakes.dir, 'ports.json'), 'garbage');
    const before = structuredClone(fakes.records.get(view.name));
    const error = await refused(destroyEnv(fakes.deps, 'feat/x'), 'STATE_CORRUPT');
    expect(error.hint).toMatch(/envs doctor --fix/);
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.get(view.name)).toEqual(before);
  });

  it('stops create before its first side effect (so no rollback can trip over it)', async () => {
    await writeFile(join(fakes.dir, 'ports.json'), '{"version":1}');
    await refused(createEnv(fakes.deps, { branch: 'feat/y' }), 'STATE_CORRUPT');
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.size).toBe(0);
  });
});

describe('paths given as <env>', () => {
  it('resolve against the cwd envs was opened with, never process.cwd()', async () => {
    const view = await createEnv(fakes.deps, { branch: 'feat/here' });
    fakes.deps.cwd = join(view.worktree, 'sub');
    expect((await infoEnv(fakes.deps, '.')).name).toBe(view.name);
  });
});
