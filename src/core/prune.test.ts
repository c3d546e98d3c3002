import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { pruneMerged } from './prune.ts';

const model: ComposeModel = {
  name: 'x',
  services: { web: { image: 'nginx', ports: [{ target: 80, published: '8080', protocol: 'tcp' }] } },
};
const commit = { sha: '1'.repeat(40), short: '1'.repeat(12), subject: 'wip' };

let fakes: Fakes;
beforeEach(async () => {
  fakes = await makeFakes(model);
});
afterEach(async () => {
  await fakes.cleanup();
});

describe('pruneMerged', () => {
  it('a destroy that fails midway is reported as failed; the other merged envs are still pruned', async () => {
    const a = await createEnv(fakes.deps, { branch: 'feat/a' });
    const b = await createEnv(fakes.deps, { branch: 'feat/b' });
    await createEnv(fakes.deps, { branch: 'feat/c' });
    fakes.merges.set('feat/a', { by: 'squash' });
    fakes.merges.set('feat/b', { by: 'rebase' });
    fakes.merges.set('feat/c', { missing: [commit] });
    // An agent writes into feat/a's worktree after prune decided and destroy stopped its containers.
    fakes.beforeLock = async (name) => {
      if (name.includes(a.name)) fakes.inspections.set(a.worktree, { status: [{ xy: '??', path: 'late.txt' }] });
    };
    fakes.calls.length = 0;

    const result = await pruneMerged(fakes.deps);
    expect(result.pruned.map((e) => [e.branch, e.code])).toEqual([['feat/b', 'rebase']]);
    expect(result.pruned[0]?.destroyed).toMatchObject({ name: b.name, worktree_removed: true });
    expect(result.kept.map((e) => [e.branch, e.code, e.reason])).toEqual([
      ['feat/c', 'not-merged', 'not merged: 1 commit not in main: 11111111 wip'],
    ]);
    expect(result.failed).toEqual([
      expect.objectContaining({ branch: 'feat/a', merged_by: 'squash', error: expect.objectContaining({ code: 'DIRTY_WORKTREE' }) }),
    ]);
    expect(result.failed[0]?.error?.message).toMatch(/containers are already removed; the worktree was kept/);
    expect(fakes.records.has(a.name)).toBe(true);
    expect(fakes.records.has(b.name)).toBe(false);
  });

  it('keeps a merged env with an agent running in it (`envs agent`), naming it; the others still go', async () => {
    const a = await createEnv(fakes.deps, { branch: 'feat/a' });
    await createEnv(fakes.deps, { branch: 'feat/b' });
    fakes.merges.set('feat/a', { by: 'squash' });
    fakes.merges.set('feat/b', { by: 'squash' });
    const agentDir = fakes.deps.records.envDir(a.name);
    const deps = {
      ...fakes.deps,
      app: {
        ...fakes.deps.app,
        agents: async (stateDir: string) =>
          stateDir === agentDir ? [{ window: 'agent', running: true, pid: 1, command: 'claude', startedAt: '', session: 's' }] : [],
      },
    };
    const result = await pruneMerged(deps);
    expect(result.pruned.map((e) => e.branch)).toEqual(['feat/b']);
    expect(result.kept).toEqual([
      expect.objectContaining({
        branch: 'feat/a',
        code: 'agent',
        reason: expect.stringMatching(/an agent runs in it \(agent: claude\): `envs attach feat\/a`/),
      }),
    ]);
    expect(fakes.records.has(a.name)).toBe(true);
  });

  it('never deletes the directory it runs in: a merged env whose worktree holds the cwd is kept', async () => {
    const a = await createEnv(fakes.deps, { branch: 'feat/a' });
    const b = await createEnv(fakes.deps, { branch: 'feat/b' });
    fakes.merges.set('feat/a', { by: 'squash' });
    fakes.merges.set('feat/b', { by: 'squash' });
    const deps = { ...fakes.deps, cwd: `${a.worktree}/src` };
    const result = await pruneMerged(deps);
    expect(result.pruned.map((e) => e.branch)).toEqual(['feat/b']);
    expect(result.kept).toEqual([
      expect.objectContaining({
        branch: 'feat/a',
        code: 'cwd',
        merged_by: 'squash',
        reason: `merged (squash), but it is where envs runs (${a.worktree}/src): run prune from elsewhere, or destroy it by name`,
      }),
    ]);
    expect(fakes.records.has(a.name)).toBe(true);
    expect(fakes.records.has(b.name)).toBe(false);
  });

  it('with the engine down it decides nothing and changes nothing', async () => {
    await createEnv(fakes.deps, { branch: 'feat/a' });
    fakes.merges.set('feat/a', { by: 'ancestor' });
    fakes.engineDown = true;
    fakes.calls.length = 0;
    const error = await pruneMerged(fakes.deps).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('DOCKER_UNAVAILABLE');
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.size).toBe(1);
  });

  it('--dry-run reads only; --delete-branch deletes the merged branch at the tip found merged', async () => {
    const a = await createEnv(fakes.deps, { branch: 'feat/a' });
    fakes.merges.set('feat/a', { by: 'ancestor', tip: 'c0ffee' });
    fakes.calls.length = 0;
    const dry = await pruneMerged(fakes.deps, { dryRun: true, deleteBranch: true });
    expect(dry.pruned.map((e) => e.branch)).toEqual(['feat/a']);
    expect(dry.pruned[0]?.destroyed).toBeUndefined();
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.has(a.name)).toBe(true);

    const real = await pruneMerged(fakes.deps, { deleteBranch: true });
    expect(real.pruned[0]).toMatchObject({ branch: 'feat/a', branch_deleted: true });
    expect(fakes.calls).toContain('branch delete feat/a@c0ffee');
  });
});
