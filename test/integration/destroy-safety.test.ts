import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';

describe('destroy never loses work without --force', () => {
  const fx = useRepo(webFiles(), 'careful');

  it('refuses an env with an untracked file, names it, changes nothing; --force removes it', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/untracked', '--json'])).json;
    await writeFile(join(env.worktree, 'notes.md'), 'the agent wrote this');

    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/untracked']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/work that destroy would delete:\n\s+untracked\s+notes\.md/);
    expect(refused.stderr).toMatch(/--force/);
    // Nothing changed: the file, the worktree and the running container are all still there.
    expect(existsSync(join(env.worktree, 'notes.md'))).toBe(true);
    expect(await httpGet(env.ports[0].published)).not.toBe('');
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/untracked', '--json'])).json.status).toBe('running');

    const asJson = await envs(fx.repo, fx.home, ['destroy', 'feat/untracked', '--json']);
    expect(asJson.json.error).toMatchObject({ code: 'DIRTY_WORKTREE', details: { files: [{ path: 'notes.md', kind: 'untracked' }] } });

    const forced = await envsOk(fx.repo, fx.home, ['destroy', 'feat/untracked', '--force', '--json']);
    expect(forced.json.forced_files).toEqual([{ path: 'notes.md', kind: 'untracked' }]);
    expect(existsSync(env.worktree)).toBe(false);
    await expectNothingLeft(fx.label);
    expect(await fx.git('branch', '--list', 'feat/untracked')).toContain('feat/untracked');
  });

  it('refuses modified tracked files and precious ignored files, but not build output', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/ignored', '--json'])).json;
    await mkdir(join(env.worktree, 'node_modules', 'left-pad'), { recursive: true });
    await writeFile(join(env.worktree, 'node_modules', 'left-pad', 'index.js'), '');
    await writeFile(join(env.worktree, '.env.local'), 'API_KEY=mine');
    await writeFile(join(env.worktree, 'compose.yaml'), '# edited\n', { flag: 'a' });

    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/ignored', '--json']);
    expect(refused.json.error.code).toBe('DIRTY_WORKTREE');
    expect(refused.json.error.details.files).toEqual([
      { path: 'compose.yaml', kind: 'modified' },
      { path: '.env.local', kind: 'ignored' },
    ]);

    // Commit the edit and move the secret away: node_modules alone does not block.
    await fx.git('-C', env.worktree, 'commit', '-qam', 'edit');
    await rename(join(env.worktree, '.env.local'), join(fx.root, 'saved.env'));
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/ignored']);
    expect(existsSync(env.worktree)).toBe(false);
    // The commit made in the env survives on its branch.
    expect(await fx.git('log', '-1', '--format=%s', 'feat/ignored')).toBe('edit');
  });
});

describe('plan', () => {
  const fx = useRepo(webFiles(), 'planner');

  it('prints the generated compose file and changes nothing', async () => {
    const worktreesBefore = await fx.git('worktree', 'list', '--porcelain');
    const branchesBefore = await fx.git('branch', '--list');

    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/planned', '--json'])).json;
    expect(plan.branch).toBe('feat/planned');
    expect(plan.compose_yaml).toMatch(/^name: envs-planner-[0-9a-f]{4}-feat-planned-[0-9a-f]{6}$/m);
    expect(plan.compose_yaml).toMatch(/host_ip: 127\.0\.0\.1/);
    expect(plan.compose.services.web.ports).toEqual([
      expect.objectContaining({ target: 80, host_ip: '127.0.0.1', published: String(plan.ports[0].published) }),
    ]);
    expect(plan.steps[0]).toMatch(/^git worktree add --no-track -b feat\/planned /);

    expect(await fx.git('worktree', 'list', '--porcelain')).toBe(worktreesBefore);
    expect(await fx.git('branch', '--list')).toBe(branchesBefore);
    expect(existsSync(plan.worktree)).toBe(false);
    // No state, no lease, no record: at most the (empty) directory its scratch copy lived in.
    expect(await readdir(fx.home, { recursive: true }).catch(() => [])).toEqual(existsSync(fx.home) ? ['tmp'] : []);
    await expectNothingLeft(fx.label);

    const human = await envsOk(fx.repo, fx.home, ['plan', 'feat/planned']);
    expect(human.stdout).toMatch(/nothing has been changed/);
    expect(human.stdout).toMatch(/Generated compose file/);
  });
});
