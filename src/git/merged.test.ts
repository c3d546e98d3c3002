import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { mergeStatus, parseCherry, parseHeads } from './merged.ts';
import { runGit } from './run.ts';

const tempDir = useTempDir('merged');
let repo: string;

async function git(...args: string[]): Promise<string> {
  return (await runGit(args, { cwd: repo, env: process.env })).stdout.trim();
}

async function commit(files: Record<string, string>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) await writeFile(join(repo, path), content);
  await git('add', '-A');
  await git('commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
}

/** A branch off main with the given commits (one file each); main is checked out again after. */
async function branch(name: string, commits: Record<string, string>[]): Promise<string> {
  await git('checkout', '-q', '-b', name, 'main');
  for (const [i, files] of commits.entries()) await commit(files, `${name} ${i + 1}`);
  await git('checkout', '-q', 'main');
  return git('rev-parse', name);
}

const status = (queries: { branch: string; since?: string }[], base = 'main') => mergeStatus(repo, process.env, base, queries);

beforeEach(async () => {
  repo = join(await realpath(tempDir()), 'repo');
  await mkdir(repo);
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.email', 'test@envs.dev');
  await git('config', 'user.name', 'envs tests');
  await git('config', 'commit.gpgsign', 'false');
  await commit({ 'a.txt': 'one\ntwo\nthree\n' }, 'initial');
});

describe('mergeStatus', () => {
  it('fast-forward and merge commit: ancestor', async () => {
    await branch('ff', [{ 'ff.txt': 'x' }]);
    await branch('mc', [{ 'mc.txt': 'y' }]);
    await git('merge', '-q', '--ff-only', 'ff');
    await git('merge', '-q', '--no-ff', '-m', 'merge mc', 'mc');
    const result = await status([{ branch: 'ff' }, { branch: 'mc' }]);
    expect(result.get('ff')).toMatchObject({ by: 'ancestor', unchanged: false, missing: [] });
    expect(result.get('mc')).toMatchObject({ by: 'ancestor' });
  });

  it('squash: the simulated merge leaves main as it is', async () => {
    await branch('sq', [{ 'b.txt': 'b' }, { 'c.txt': 'c' }]);
    await git('merge', '-q', '--squash', 'sq');
    await git('commit', '-q', '-m', 'squashed');
    expect((await status([{ branch: 'sq' }])).get('sq')).toMatchObject({ by: 'squash', missing: [] });
  });

  it("squash that main changed again after: the branch's whole patch-id is one of main's commits", async () => {
    await branch('sq', [{ 'a.txt': 'one\nTWO\nthree\n' }, { 'c.txt': 'c' }]);
    await git('merge', '-q', '--squash', 'sq');
    await git('commit', '-q', '-m', 'squashed');
    await commit({ 'a.txt': 'one\n2\nthree\n' }, 'changed the same line again'); // merge-tree conflicts now
    expect((await status([{ branch: 'sq' }])).get('sq')).toMatchObject({ by: 'squash' });
  });

  it("rebase: every commit's patch-id is in main", async () => {
    await branch('rb', [{ 'a.txt': 'one\nTWO\nthree\n' }, { 'd.txt': 'd' }]);
    // Main moves first, so the picked commits get other parents (and other ids, within the same second too).
    await commit({ 'other.txt': 'o' }, 'main moved on');
    await git('cherry-pick', 'main..rb');
    await commit({ 'a.txt': 'one\n2\nthree\n' }, 'and changed the line again');
    expect((await status([{ branch: 'rb' }])).get('rb')).toMatchObject({ by: 'rebase' });
  });

  it('not merged: the commits main lacks, with their subjects', async () => {
    const tip = await branch('wip', [{ 'w.txt': 'w' }, { 'v.txt': 'v' }]);
    const result = (await status([{ branch: 'wip' }])).get('wip');
    expect(result?.by).toBeUndefined();
    expect(result?.tip).toBe(tip);
    expect(result?.missing.map((c) => c.subject)).toEqual(['wip 1', 'wip 2']);
  });

  it('merged, then one more commit: not merged, that commit named', async () => {
    await branch('more', [{ 'm.txt': 'm' }]);
    await git('merge', '-q', '--squash', 'more');
    await git('commit', '-q', '-m', 'squashed');
    await git('checkout', '-q', 'more');
    await commit({ 'n.txt': 'n' }, 'after the merge');
    await git('checkout', '-q', 'main');
    const result = (await status([{ branch: 'more' }])).get('more');
    expect(result?.by).toBeUndefined();
    expect(result?.missing.map((c) => c.subject)).toEqual(['after the merge']);
  });

  it('a branch still where its env was made is unchanged, though main trivially contains it', async () => {
    const at = await branch('fresh', []);
    expect((await status([{ branch: 'fresh', since: at }])).get('fresh')).toMatchObject({ unchanged: true, tip: at });
    expect((await status([{ branch: 'fresh' }])).get('fresh')).toMatchObject({ unchanged: false, by: 'ancestor' });
  });

  it('a missing branch has no tip; a [gone] upstream is reported, not taken as a merge', async () => {
    await branch('gone', [{ 'g.txt': 'g' }]);
    await git('config', 'branch.gone.remote', 'origin');
    await git('config', 'branch.gone.merge', 'refs/heads/gone');
    await git('remote', 'add', 'origin', join(repo, 'nowhere'));
    const result = await status([{ branch: 'gone' }, { branch: 'nope' }]);
    expect(result.get('gone')).toMatchObject({ upstreamGone: true, missing: [expect.objectContaining({ subject: 'gone 1' })] });
    expect(result.get('gone')?.by).toBeUndefined();
    expect(result.get('nope')).toEqual({ branch: 'nope', unchanged: false, upstreamGone: false, missing: [] });
  });

  it('commits that add up to no change are no evidence of a merge: a revert pair, an empty commit, only a merge from main', async () => {
    const at = await git('rev-parse', 'main');
    await branch('reverted', [{ 'x.txt': 'x' }]);
    await git('checkout', '-q', 'reverted');
    await git('revert', '--no-edit', 'HEAD');
    await git('checkout', '-q', '-b', 'empty', 'main');
    await git('commit', '-q', '--allow-empty', '-m', 'note to self');
    await git('checkout', '-q', 'main');
    await commit({ 'm.txt': 'm' }, 'main moved on');
    await git('checkout', '-q', '-b', 'synced', at);
    await git('merge', '-q', '--no-ff', '-m', 'merge main into synced', 'main');
    await git('checkout', '-q', 'main');
    await commit({ 'n.txt': 'n' }, 'main moved on again');
    const result = await status(['reverted', 'empty', 'synced'].map((b) => ({ branch: b, since: at })));
    for (const b of ['reverted', 'empty', 'synced']) {
      expect(result.get(b)?.noChange, b).toBe(true);
      expect(result.get(b)?.by, b).toBeUndefined();
    }
    expect(result.get('empty')?.missing.map((c) => c.subject)).toEqual(['note to self']);
  });

  it('the base under another name, and the default branch, are the base: never merged into it', async () => {
    const at = await git('rev-parse', 'main');
    await commit({ 'm.txt': 'm' }, 'main moved on');
    await git('update-ref', 'refs/remotes/origin/main', 'main');
    await git('branch', 'develop', 'main');
    await git('checkout', '-q', 'develop');
    await commit({ 'd.txt': 'd' }, 'develop moved on');
    await git('checkout', '-q', '--detach');
    const q = [{ branch: 'main', since: at }];
    expect((await status(q, 'origin/main')).get('main')).toMatchObject({ baseOf: 'refs/remotes/origin/main' });
    expect((await status(q, 'refs/heads/main')).get('main')).toMatchObject({ baseOf: 'refs/heads/main' });
    // main is in develop, but it is the repository's default branch.
    expect((await mergeStatus(repo, process.env, 'develop', q, ['main'])).get('main')).toMatchObject({ baseOf: 'refs/heads/main' });
    expect((await status(q, 'develop')).get('main')).toMatchObject({ by: 'ancestor' });
    expect((await status(q, 'develop')).get('main')?.baseOf).toBeUndefined();
  });

  it('a base that is no commit: UNKNOWN_REF', async () => {
    const error = await status([], 'no-such-base').catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('UNKNOWN_REF');
    expect(EnvsError.is(await status([], '--all').catch((e: unknown) => e))).toBe(true);
  });

  it('parses for-each-ref and cherry output', () => {
    expect(parseHeads('refs/heads/a\0aaa\0refs/remotes/origin/a\0[gone]\nrefs/heads/b\0bbb\0\0\n')).toEqual(
      new Map([
        ['refs/heads/a', { tip: 'aaa', gone: true }],
        ['refs/heads/b', { tip: 'bbb', gone: false }],
      ]),
    );
    const sha = 'a'.repeat(40);
    expect(parseCherry(`+ ${sha} add x\n- ${sha}\n`)).toEqual([
      { sign: '+', sha, short: sha.slice(0, 12), subject: 'add x' },
      { sign: '-', sha, short: sha.slice(0, 12), subject: '' },
    ]);
  });
});
