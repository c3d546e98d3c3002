import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, realpath, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../testing/temp-dir.ts';
import { CliGitClient, openRepo } from './client.ts';
import { refSafe } from './inspect.ts';
import { runGit } from './run.ts';

const tempDir = useTempDir('inspect');
let root: string;
let repo: string;
let wt: string;
let client: CliGitClient;

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await runGit(['-c', 'protocol.file.allow=always', ...args], { cwd, env: process.env })).stdout.trim();
}

async function init(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'config', 'user.email', 'test@envs.dev');
  await git(dir, 'config', 'user.name', 'envs tests');
  await git(dir, 'config', 'commit.gpgsign', 'false');
}

async function commit(dir: string, files: Record<string, string>, message: string): Promise<void> {
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '--allow-empty', '-m', message);
}

beforeEach(async () => {
  root = await realpath(tempDir());
  repo = join(root, 'repo');
  wt = join(root, 'wt');
  await init(repo);
  await commit(repo, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' }, 'initial');
  await git(repo, 'worktree', 'add', '-q', '-b', 'feat', wt);
  client = new CliGitClient(await openRepo(repo, process.env), process.env);
});

describe('inspectWorktree', () => {
  it('finds nothing at risk in a clean worktree on its branch', async () => {
    expect(await client.inspectWorktree(wt)).toEqual({
      registered: true,
      ours: true,
      status: [],
      hidden: [],
      commits: [],
      tips: [],
      submodules: [],
      needsForce: false,
    });
  });

  it('finds edits hidden by skip-worktree and assume-unchanged, and only those that differ', async () => {
    await symlink('a.txt', join(wt, 'link'));
    await commit(wt, {}, 'link');
    await git(wt, 'update-index', '--skip-worktree', 'a.txt', 'c.txt', 'link');
    await git(wt, 'update-index', '--assume-unchanged', 'b.txt');
    await appendFile(join(wt, 'a.txt'), 'mine\n');
    await appendFile(join(wt, 'b.txt'), 'mine\n');
    await unlink(join(wt, 'link'));
    await symlink('b.txt', join(wt, 'link'));
    await unlink(join(wt, 'c.txt')); // absent, as in a sparse checkout: nothing to lose
    const inspection = await client.inspectWorktree(wt);
    expect(inspection.status).toEqual([]); // git status sees none of it
    expect(inspection.hidden).toEqual([
      { path: 'a.txt', flag: 'skip-worktree' },
      { path: 'b.txt', flag: 'assume-unchanged' },
      { path: 'link', flag: 'skip-worktree' },
    ]);
    expect(await client.hiddenEdits(wt)).toEqual(inspection.hidden);
  });

  it('names commits only a detached HEAD or a per-worktree ref reaches, and keeps them', async () => {
    await git(wt, 'checkout', '-q', '--detach');
    await commit(wt, {}, 'first detached');
    await git(wt, 'update-ref', 'refs/worktree/wip', 'HEAD');
    await commit(wt, {}, 'second detached');
    const inspection = await client.inspectWorktree(wt);
    expect(inspection.commits.map((c) => c.subject)).toEqual(['second detached', 'first detached']);
    expect(inspection.commits[0]?.short).toMatch(/^[0-9a-f]{7,}$/);
    expect(inspection.tips.map((t) => [t.name, t.from])).toEqual([
      ['HEAD', 'HEAD'],
      ['worktree/wip', 'refs/worktree/wip'],
    ]);

    const kept = await client.keepCommits('refs/envs/feat-1/20260101T000000Z', inspection.tips);
    expect(kept.map((k) => k.ref)).toEqual(['refs/envs/feat-1/20260101T000000Z/HEAD', 'refs/envs/feat-1/20260101T000000Z/worktree/wip']);
    expect(await git(repo, 'log', '--format=%s', 'refs/envs/feat-1/20260101T000000Z/HEAD')).toMatch(/^second detached\nfirst detached/);
    expect((await client.inspectWorktree(wt)).commits).toEqual([]);
    // Never overwrites a kept ref.
    await expect(client.keepCommits('refs/envs/feat-1/20260101T000000Z', inspection.tips.slice(0, 1))).rejects.toThrow(/exists/);
  });

  it('does not count commits another worktree or any ref still reaches', async () => {
    await git(wt, 'checkout', '-q', '--detach');
    await commit(wt, {}, 'detached');
    await git(repo, 'tag', 'saved', await git(wt, 'rev-parse', 'HEAD'));
    expect((await client.inspectWorktree(wt)).commits).toEqual([]);
  });

  describe('with a submodule', () => {
    let remote: string;
    beforeEach(async () => {
      remote = join(root, 'lib.git');
      const src = join(root, 'lib');
      await init(src);
      await commit(src, { 'lib.txt': 'lib\n', '.gitignore': '.env.local\n' }, 'lib');
      await git(root, 'clone', '-q', '--bare', src, remote);
      await git(wt, 'submodule', 'add', '-q', remote, 'lib');
      await git(wt, 'commit', '-qm', 'add lib');
      const sub = join(wt, 'lib');
      await git(sub, 'config', 'user.email', 'test@envs.dev');
      await git(sub, 'config', 'user.name', 'envs tests');
    });

    it('needs --force to remove, even when clean and pushed', async () => {
      const inspection = await client.inspectWorktree(wt);
      expect(inspection.needsForce).toBe(true);
      expect(inspection.submodules).toEqual([
        expect.objectContaining({ path: 'lib', checkedOut: true, status: [], hidden: [], commits: [], tips: [] }),
      ]);
      expect(inspection.submodules[0]?.gitDir).toMatch(/\.git\/worktrees\/wt\/modules\/lib$/);
    });

    it('names commits on no remote and ignored files, and keeps the commits in this repository', async () => {
      const sub = join(wt, 'lib');
      await git(sub, 'switch', '-q', '-c', 'local');
      await commit(sub, {}, 'only here');
      await writeFile(join(sub, '.env.local'), 'SECRET=1');
      await git(wt, 'commit', '-qam', 'bump lib'); // the parent records it: its own status is clean
      const inspection = await client.inspectWorktree(wt);
      expect(inspection.status).toEqual([]);
      const [lib] = inspection.submodules;
      expect(lib?.commits.map((c) => c.subject)).toEqual(['only here']);
      expect(lib?.status).toEqual([{ xy: '!!', path: '.env.local' }]);
      expect(lib?.tips.map((t) => t.name)).toEqual(['modules/lib/HEAD', 'modules/lib/heads/local']);

      const kept = await client.keepCommits('refs/envs/feat-1/s', lib?.tips ?? []);
      expect(kept.map((k) => [k.ref, k.from])).toEqual([
        ['refs/envs/feat-1/s/modules/lib/HEAD', 'submodule lib: HEAD'],
        ['refs/envs/feat-1/s/modules/lib/heads/local', 'submodule lib: refs/heads/local'],
      ]);
      expect(await git(repo, 'log', '-1', '--format=%s', 'refs/envs/feat-1/s/modules/lib/HEAD')).toBe('only here');
    });

    it('still finds the commits of a submodule that was deinitialised (its git dir stays)', async () => {
      const sub = join(wt, 'lib');
      await commit(sub, {}, 'parked work');
      await git(wt, 'commit', '-qam', 'bump lib');
      await git(wt, 'submodule', 'deinit', '-q', '-f', 'lib');
      const inspection = await client.inspectWorktree(wt);
      expect(inspection.needsForce).toBe(true);
      expect(inspection.submodules).toEqual([
        expect.objectContaining({ path: 'lib', checkedOut: false, commits: [expect.objectContaining({ subject: 'parked work' })] }),
      ]);
    });
  });

  it('tells a directory that replaced the worktree from the worktree, and forgets git’s entry only', async () => {
    await git(wt, 'checkout', '-q', '--detach');
    await commit(wt, {}, 'detached');
    await rm(wt, { recursive: true });
    expect(await client.inspectWorktree(wt)).toMatchObject({ registered: true, ours: false, status: [], hidden: [] });

    await mkdir(wt);
    await writeFile(join(wt, 'mine.txt'), 'keep me');
    const inspection = await client.inspectWorktree(wt);
    expect(inspection).toMatchObject({ registered: true, ours: false, needsForce: false });
    // Its HEAD still holds a commit nothing else reaches: named, so destroy can refuse or keep it.
    expect(inspection.commits.map((c) => c.subject)).toEqual(['detached']);

    await client.forgetWorktree(wt);
    expect(await git(repo, 'worktree', 'list', '--porcelain')).not.toContain(wt);
    expect(await readFile(join(wt, 'mine.txt'), 'utf8')).toBe('keep me');
    expect(await client.inspectWorktree(wt)).toMatchObject({ registered: false, ours: false });
  });

  it('forgets nothing that is still a worktree', async () => {
    await expect(client.forgetWorktree(wt)).rejects.toThrow(/still a worktree/);
    expect(existsSync(join(wt, '.git'))).toBe(true);
  });
});

describe('refSafe', () => {
  it.each([
    ['lib', 'lib'],
    ['vendor/a b', 'vendor/a_b'],
    ['../x/.hidden/y.lock', '_/x/_hidden/y_lock'],
    ['a..b/c.', 'a_b/c_'],
  ])('%j → %j', (path, safe) => {
    expect(refSafe(path)).toBe(safe);
  });
});
