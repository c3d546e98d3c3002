import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { destroyEnv } from './destroy.ts';
import { envLock } from './guards.ts';
import { LABEL } from './labels.ts';
import { slugForBranch } from './naming.ts';
import { downEnv, upEnv } from './updown.ts';
import type { EnvView } from './view.ts';

const model: ComposeModel = {
  name: 'x',
  services: { web: { image: 'nginx', ports: [{ target: 80, published: '8080', protocol: 'tcp' }] } },
};

let fakes: Fakes;
let env: EnvView;
beforeEach(async () => {
  fakes = await makeFakes(model);
  env = await createEnv(fakes.deps, { branch: 'feat/x' });
  fakes.calls.length = 0;
});
afterEach(async () => {
  await fakes.cleanup();
});

const code = (c: string) => (e: unknown) => EnvsError.is(e) && e.code === c;
const commit = { sha: 'a'.repeat(40), short: 'aaaaaaa', subject: 'detached work' };
const tip = { name: 'HEAD', source: 'HEAD', sha: commit.sha, from: 'HEAD' };

describe('destroy keeps what only the worktree has', () => {
  it('refuses hidden edits and commits only the worktree has, naming them, and touches nothing', async () => {
    fakes.inspections.set(env.worktree, {
      hidden: [{ path: 'config/local.json', flag: 'skip-worktree' }],
      commits: [commit],
      tips: [tip],
    });
    const before = structuredClone(fakes.records.get(env.name));
    const error = await destroyEnv(fakes.deps, 'feat/x').catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('DIRTY_WORKTREE');
    expect((error as Error).message).toMatch(/modified\s+config\/local\.json \(marked skip-worktree: git status does not show it\)/);
    expect((error as Error).message).toMatch(/commit\s+aaaaaaa detached work \(only this worktree has it\)/);
    expect((error as EnvsError).details).toEqual({
      files: [{ path: 'config/local.json', kind: 'modified', flag: 'skip-worktree' }],
      commits: [commit],
    });
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.get(env.name)).toEqual(before);
  });

  it('with --force keeps the commits under refs/envs/<env>/ before removing the worktree, and says so', async () => {
    fakes.inspections.set(env.worktree, {
      commits: [commit],
      tips: [tip],
      submodules: [
        {
          path: 'lib',
          gitDir: '/x/modules/lib',
          checkedOut: true,
          status: [{ xy: '??', path: 'notes.md' }],
          hidden: [],
          commits: [{ ...commit, subject: 'lib work' }],
          tips: [{ ...tip, name: 'modules/lib/HEAD', gitDir: '/x/modules/lib', from: 'submodule lib: HEAD' }],
        },
      ],
      needsForce: true,
    });
    const result = await destroyEnv(fakes.deps, 'feat/x', { force: true });
    expect(result.kept_refs).toEqual([
      { ref: `refs/envs/${env.name}/20261121T000000Z/HEAD`, commit: commit.sha, from: 'HEAD' },
      { ref: `refs/envs/${env.name}/20261121T000000Z/modules/lib/HEAD`, commit: commit.sha, from: 'submodule lib: HEAD' },
    ]);
    expect(result.forced_files).toEqual([{ path: 'lib/notes.md', kind: 'untracked' }]);
    expect(result.worktree_removed).toBe(true);
    expect(fakes.calls.filter((c) => !c.startsWith('compose down') && c !== 'app stop')).toEqual([
      'keep HEAD modules/lib/HEAD',
      'worktree remove --force',
    ]);
  });

  it('gives git --force for a worktree with clean submodules, after its own checks', async () => {
    fakes.inspections.set(env.worktree, { needsForce: true });
    const result = await destroyEnv(fakes.deps, 'feat/x');
    expect(result).toMatchObject({ worktree_removed: true, kept_refs: [], forced_files: [] });
    expect(fakes.calls).toContain('worktree remove --force');
  });

  it('leaves a directory that is no longer the worktree alone, drops git’s entry, and says so', async () => {
    fakes.inspections.set(env.worktree, { ours: false });
    await writeFile(join(env.worktree, 'mine.txt'), 'not envs’');
    const result = await destroyEnv(fakes.deps, 'feat/x');
    expect(result.worktree_removed).toBe(false);
    expect(result.worktree_note).toMatch(/is no longer a worktree of this repository; its contents were left alone/);
    expect(fakes.calls).toContain('worktree forget');
    expect(fakes.calls).not.toContain('worktree remove');
    expect(fakes.records.size).toBe(0);
  });
});

describe('up, down and destroy re-read the record under the lock', () => {
  it('keep what another process wrote between resolving and locking', async () => {
    fakes.beforeLock = async (name) => {
      if (name !== envLock(fakes.deps.repoId, env.name)) return;
      const now = fakes.records.get(env.name);
      if (now) fakes.records.set(env.name, { ...now, warnings: ['written meanwhile'], updatedAt: 'later' });
    };
    await downEnv(fakes.deps, 'feat/x');
    expect(fakes.records.get(env.name)).toMatchObject({ status: 'stopped', warnings: ['written meanwhile'] });
  });

  it('destroy stops when the env was removed meanwhile', async () => {
    fakes.beforeLock = async () => void fakes.records.delete(env.name);
    await expect(destroyEnv(fakes.deps, 'feat/x')).rejects.toSatisfy(code('ENV_NOT_FOUND'));
    expect(fakes.calls).toEqual([]);
  });

  it('lock names hold the repository, so the same branch in two clones does not share one', () => {
    expect(envLock('app-1a2b', env.name)).not.toBe(envLock('app-3c4d', env.name));
  });
});

describe('up never changes what an env is made of unasked', () => {
  it('refuses when the compose file is gone from the worktree, changing nothing', async () => {
    const before = structuredClone(fakes.records.get(env.name));
    const error = await upEnv(fakes.deps, 'feat/x').catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('COMPOSITION_CHANGED');
    expect((error as Error).message).toBe(
      "feat/x's env was made from compose.yaml, but its worktree has no compose file now: up would replace it with the embedded postgres template.",
    );
    expect((error as EnvsError).hint).toMatch(/envs up feat\/x --reconfigure/);
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.get(env.name)).toEqual(before);
  });

  it('goes on when the worktree still has the same compose files', async () => {
    await writeFile(join(env.worktree, 'compose.yaml'), 'services: {}\n');
    expect((await upEnv(fakes.deps, 'feat/x')).status).toBe('running');
  });

  it('with reconfigure, switches and removes only containers of gone services that carry this env’s labels', async () => {
    const mine = { [LABEL.managed]: 'true', [LABEL.repo]: fakes.deps.repoId, [LABEL.env]: env.name, [LABEL.project]: env.project };
    const container = (id: string, labels: Record<string, string>) => ({
      id,
      project: env.project,
      service: id,
      state: 'running',
      labels: { 'com.docker.compose.project': env.project, 'com.docker.compose.service': id, ...labels },
      ports: [],
    });
    fakes.extraContainers.push(
      container('old', mine),
      container('oneoff', { ...mine, 'com.docker.compose.oneoff': 'True' }),
      container('someone-elses', {}),
      container('other-env', { ...mine, [LABEL.env]: 'other' }),
    );
    const view = await upEnv(fakes.deps, 'feat/x', { reconfigure: true });
    expect(view.status).toBe('running');
    expect(fakes.calls).toEqual(['compose up', 'engine remove old']);
    expect(fakes.extraContainers.map((c) => c.id)).toEqual(['oneoff', 'someone-elses', 'other-env']);
    expect(fakes.records.get(env.name)).toMatchObject({ sourceFiles: [], template: 'postgres' });
  });
});

describe('create and the worktree path', () => {
  it('adds the worktree into an empty directory that is already there', async () => {
    const worktree = join(fakes.deps.records.worktreesRoot, slugForBranch('feat/empty'));
    await mkdir(worktree, { recursive: true });
    fakes.calls.length = 0;
    await createEnv(fakes.deps, { branch: 'feat/empty' });
    expect(fakes.calls[0]).toBe('worktree add feat/empty');
  });

  it('does not resume into a directory that is no longer the env’s worktree', async () => {
    fakes.deps.env.ENVS_FAILPOINT = 'after-compose-up:error';
    await expect(createEnv(fakes.deps, { branch: 'feat/replaced', keepOnFailure: true })).rejects.toThrow(/failpoint/);
    delete fakes.deps.env.ENVS_FAILPOINT;
    const [record] = [...fakes.records.values()].filter((r) => r.branch === 'feat/replaced');
    if (!record) throw new Error('no record');
    await fakes.deps.git.removeWorktree(record.worktree, false);
    await mkdir(record.worktree);
    await writeFile(join(record.worktree, 'mine.txt'), 'mine');
    const before = structuredClone(fakes.records.get(record.name));
    fakes.calls.length = 0;
    await expect(createEnv(fakes.deps, { branch: 'feat/replaced' })).rejects.toSatisfy(code('WORKTREE_PATH_TAKEN'));
    expect(fakes.calls).toEqual([]);
    expect(fakes.records.get(record.name)).toEqual(before);
  });
});
