import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { resolveEnv } from './resolve.ts';
import type { EnvView } from './view.ts';

const model: ComposeModel = { name: 'x', services: { web: { image: 'nginx' } } };

let fakes: Fakes;
let a: EnvView;
let b: EnvView;
beforeEach(async () => {
  fakes = await makeFakes(model);
  a = await createEnv(fakes.deps, { branch: 'feat/a' });
  // A branch named like env a: `feat-a-<hash>` is both a's env name and b's branch.
  b = await createEnv(fakes.deps, { branch: a.name });
});
afterEach(async () => {
  await fakes.cleanup();
});

async function refusal(arg: string, cwd?: string): Promise<EnvsError> {
  const error = await resolveEnv(fakes.deps, arg, cwd).catch((e: unknown) => e);
  if (!EnvsError.is(error)) throw new Error(`expected a refusal for ${arg}, got ${JSON.stringify(error)}`);
  return error;
}

describe('resolveEnv', () => {
  it('finds an env by env name, branch or a path in its worktree when only one matches', async () => {
    expect((await resolveEnv(fakes.deps, 'feat/a')).name).toBe(a.name);
    expect((await resolveEnv(fakes.deps, b.name)).name).toBe(b.name);
    await mkdir(join(a.worktree, 'src'));
    expect((await resolveEnv(fakes.deps, '.', join(a.worktree, 'src'))).name).toBe(a.name);
    expect((await resolveEnv(fakes.deps, join(b.worktree, 'gone/deeper'))).name).toBe(b.name); // a path need not exist
  });

  it('refuses a name that is one env’s name and another’s branch, and says how to name each', async () => {
    const error = await refusal(a.name);
    expect(error.code).toBe('AMBIGUOUS_ENV');
    expect(error.message).toBe(
      [
        `"${a.name}" names 2 envs:`,
        `  env ${a.name} (branch feat/a), by its env name: say name:${a.name} or branch:feat/a`,
        `  env ${b.name} (branch ${a.name}), by its branch: say name:${b.name} or branch:${a.name}`,
      ].join('\n'),
    );
    expect(error.details?.candidates).toEqual([
      expect.objectContaining({ name: a.name, matched_by: 'env name', use: `name:${a.name}` }),
      expect.objectContaining({ name: b.name, matched_by: 'branch', use: `name:${b.name}` }),
    ]);
    expect((await resolveEnv(fakes.deps, `name:${a.name}`)).name).toBe(a.name);
    expect((await resolveEnv(fakes.deps, `branch:${a.name}`)).name).toBe(b.name);
  });

  it('refuses a branch that is also a path inside another env’s worktree', async () => {
    const c = await createEnv(fakes.deps, { branch: 'docs' });
    await mkdir(join(a.worktree, 'docs'));
    const error = await refusal('docs', a.worktree);
    expect(error.code).toBe('AMBIGUOUS_ENV');
    expect(error.details?.candidates).toEqual([
      expect.objectContaining({ name: c.name, matched_by: 'branch' }),
      expect.objectContaining({ name: a.name, matched_by: 'worktree path' }),
    ]);
    expect((await resolveEnv(fakes.deps, './docs', a.worktree)).name).toBe(a.name);
    expect((await resolveEnv(fakes.deps, 'branch:docs', a.worktree)).name).toBe(c.name);
    // Without such a directory the word is the branch.
    expect((await resolveEnv(fakes.deps, 'docs', b.worktree)).name).toBe(c.name);
  });

  it('does not count one env twice when two ways name it', async () => {
    expect((await resolveEnv(fakes.deps, b.name, join(b.worktree, '..'))).name).toBe(b.name);
  });

  it('says when nothing matches, also with a prefix', async () => {
    expect((await refusal('feat/nope')).code).toBe('ENV_NOT_FOUND');
    expect((await refusal('name:feat/a')).code).toBe('ENV_NOT_FOUND');
    expect((await refusal('branch:nope')).code).toBe('ENV_NOT_FOUND');
  });
});
