import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

describe('adopting a worktree someone else made', () => {
  const fx = useRepo({ ...webFiles(), 'README.md': 'hello\n' }, 'adoptee', async (fx) => {
    await fx.write({ '.env.local': 'API_KEY=main-secret\n' }); // gitignored: copied into envs' worktrees
  });

  it('envs adopt gives it a running env without touching a tracked file; destroy keeps the worktree', async () => {
    const path = join(fx.root, 'by-hand');
    await fx.git('worktree', 'add', '-q', '-b', 'feat/by-hand', path);
    await writeFile(join(path, 'README.md'), 'hello, edited by an agent\n');
    await writeFile(join(path, 'scratch.txt'), 'untracked work');
    const status = await fx.git('-C', path, 'status', '--porcelain');
    expect(status).toBe(' M README.md\n?? scratch.txt');
    const head = await fx.git('-C', path, 'rev-parse', 'HEAD');

    const listed = await envsOk(fx.repo, fx.home, ['list', '--unmanaged', '--json']);
    expect(listed.json).toEqual([{ path, branch: 'feat/by-hand', head }]);
    expect((await envsOk(fx.repo, fx.home, ['list'])).stdout).toMatch(
      /Worktrees without an env \(envs adopt <path>\):\n\s+\S*by-hand\s+feat\/by-hand/,
    );

    const adopted = await envsOk(fx.repo, fx.home, ['adopt', path, '--json']);
    expect(adopted.json).toMatchObject({ branch: 'feat/by-hand', worktree: path, status: 'running', adopted: true });
    expect(await httpGet(adopted.json.ports[0].published)).not.toBe('');
    // The worktree is as it was: same HEAD, same tracked changes, same contents; only the gitignored env file came in.
    expect(await fx.git('-C', path, 'rev-parse', 'HEAD')).toBe(head);
    expect(await fx.git('-C', path, 'status', '--porcelain')).toBe(status);
    expect(await readFile(join(path, 'README.md'), 'utf8')).toBe('hello, edited by an agent\n');
    expect(await readFile(join(path, 'scratch.txt'), 'utf8')).toBe('untracked work');
    expect(await readFile(join(path, '.env.local'), 'utf8')).toContain('API_KEY=main-secret');
    expect((await envsOk(fx.repo, fx.home, ['list', '--unmanaged', '--json'])).json).toEqual([]);

    // Adopting it twice is ENV_EXISTS, changing nothing.
    const before = await snapshot(fx, [path]);
    const again = await envs(fx.repo, fx.home, ['adopt', path, '--json']);
    expect(again.json.error.code).toBe('ENV_EXISTS');
    expect(await snapshot(fx, [path])).toEqual(before);

    // Destroy removes the env's resources and keeps the worktree envs did not make, work and all.
    const destroyed = await envsOk(fx.repo, fx.home, ['destroy', 'feat/by-hand', '--json']);
    expect(destroyed.json).toMatchObject({ worktree_removed: false, worktree_note: expect.stringMatching(/was kept \(envs adopted it/) });
    await expectNothingLeft(fx.label);
    expect(await fx.git('-C', path, 'status', '--porcelain')).toContain(' M README.md\n?? scratch.txt');
    expect(await readFile(join(path, 'scratch.txt'), 'utf8')).toBe('untracked work');
    expect((await envsOk(fx.repo, fx.home, ['list', '--unmanaged', '--json'])).json).toEqual([{ path, branch: 'feat/by-hand', head }]);
  });

  it('create of a branch another worktree holds adopts that worktree; destroy --worktree removes it with the usual checks', async () => {
    const path = join(fx.root, 'agent-made');
    await fx.git('worktree', 'add', '-q', '-b', 'feat/agent', path);
    const created = await envsOk(fx.repo, fx.home, ['create', 'feat/agent', '--json']);
    expect(created.json).toMatchObject({ worktree: path, status: 'running', adopted: true });

    await writeFile(join(path, 'notes.md'), 'work');
    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/agent', '--worktree', '--json']);
    expect(refused.json.error.code).toBe('DIRTY_WORKTREE');
    // The way out it names removes the worktree, as asked: without --worktree, --force would keep it.
    expect(refused.json.error.hint).toContain('envs destroy feat/agent --worktree --force');
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/agent', '--json'])).json.status).toBe('running');

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/agent', '--worktree', '--force']);
    expect(existsSync(path)).toBe(false);
    await expectNothingLeft(fx.label);
  });

  it('refuses the main checkout, a directory that is no worktree, and a detached worktree, changing nothing', async () => {
    const detached = join(fx.root, 'detached');
    await fx.git('worktree', 'add', '-q', '--detach', detached);
    const before = await snapshot(fx);
    const main = await envs(fx.repo, fx.home, ['adopt', fx.repo, '--json']);
    expect(main.json.error).toMatchObject({ code: 'NOT_A_WORKTREE', message: expect.stringMatching(/main checkout/) });
    const elsewhere = await envs(fx.repo, fx.home, ['adopt', fx.home, '--json']);
    expect(elsewhere.json.error).toMatchObject({ code: 'NOT_A_WORKTREE', message: expect.stringMatching(/is not a worktree of/) });
    const noBranch = await envs(fx.repo, fx.home, ['adopt', detached, '--json']);
    expect(noBranch.json.error).toMatchObject({ code: 'NOT_A_WORKTREE', message: expect.stringMatching(/detached HEAD/) });
    expect(await snapshot(fx)).toEqual(before);
  });

  it("refuses another env's worktree switched to a new branch: one worktree never holds two envs", async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/first', '--json'])).json;
    await fx.git('-C', env.worktree, 'switch', '-q', '-c', 'feat/second');
    const before = await snapshot(fx, [env.worktree]);
    for (const args of [
      ['create', 'feat/second'],
      ['adopt', env.worktree],
    ]) {
      const refused = await envs(fx.repo, fx.home, [...args, '--json']);
      expect(refused.json.error, args.join(' ')).toMatchObject({
        code: 'BRANCH_CHECKED_OUT',
        message: expect.stringMatching(/the worktree of env feat-first-/),
      });
    }
    expect(await snapshot(fx, [env.worktree])).toEqual(before);
    await fx.git('-C', env.worktree, 'switch', '-q', 'feat/first');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/first']);
    await expectNothingLeft(fx.label);
  });
});
