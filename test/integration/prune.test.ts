import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/**
 * The merge matrix of `envs prune --merged`: each way a branch reaches main (fast-forward, merge commit,
 * squash, rebase, a squash of a pushed branch whose upstream is then deleted) and each thing that must keep an
 * env (not merged, merged but dirty, merged then worked on again, a gone upstream with work main lacks, no
 * commits yet). Prune must act on exactly the merged clean ones, through destroy, and say why for every env.
 */

/** Containers of an env's Compose project, running or not. */
async function containers(project: string): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
  return stdout.split('\n').filter(Boolean);
}

const PRUNED = ['feat/ff', 'feat/merge-commit', 'feat/squash', 'feat/rebase', 'feat/gone-merged'];
const KEPT: Record<string, { code: string; reason: RegExp }> = {
  'feat/not-merged': { code: 'not-merged', reason: /^not merged: 2 commits not in main: [0-9a-f]{8} wip work, [0-9a-f]{8} more work$/ },
  'feat/dirty': { code: 'dirty', reason: /^merged \(squash\), but its worktree has work destroy would delete: untracked notes\.md$/ },
  'feat/extra': { code: 'not-merged', reason: /^not merged: 1 commit not in main: [0-9a-f]{8} after the merge$/ },
  'feat/gone-unmerged': {
    code: 'upstream-gone',
    reason:
      /^its upstream is gone, but 2 commits not in main: [0-9a-f]{8} wip work, [0-9a-f]{8} more work \(a deleted remote branch is no proof of a merge\)$/,
  },
  'feat/fresh': { code: 'no-commits', reason: /^no commits yet: the branch is still at [0-9a-f]{8}, where the env was made$/ },
};
const MERGED_BY: Record<string, string> = {
  'feat/ff': 'ancestor',
  'feat/merge-commit': 'ancestor',
  'feat/squash': 'squash',
  'feat/rebase': 'rebase',
  'feat/gone-merged': 'squash',
  'feat/dirty': 'squash',
};

describe('prune --merged: the merge matrix', () => {
  const fx = useRepo(webFiles(), 'pruner', async (fx) => {
    const origin = join(fx.root, 'origin.git');
    await execa('git', ['init', '-q', '--bare', '-b', 'main', origin]);
    await fx.git('remote', 'add', 'origin', origin);
    await fx.git('push', '-q', '-u', 'origin', 'main');
  });
  const worktrees: Record<string, { worktree: string; project: string; name: string }> = {};
  const inEnv = (branch: string, ...args: string[]) => fx.git('-C', worktrees[branch]?.worktree ?? '/nonexistent', ...args);
  /** A commit in the env's worktree, as an agent makes it. */
  const work = async (branch: string, file: string, content: string, message: string) => {
    await writeFile(join(worktrees[branch]?.worktree ?? '/nonexistent', file), content);
    await inEnv(branch, 'add', file);
    await inEnv(branch, 'commit', '-q', '-m', message);
  };

  it('decides each case, changes nothing with --dry-run, then prunes exactly the merged clean envs', async () => {
    for (const branch of [...PRUNED, ...Object.keys(KEPT)]) {
      const env = (await envsOk(fx.repo, fx.home, ['create', branch, '--json'])).json;
      worktrees[branch] = { worktree: env.worktree, project: env.project, name: env.name };
    }
    const slug = (b: string) => b.replace('/', '-');
    // Two commits each: a squash of one commit would have that commit's patch-id (a rebase, to git cherry).
    for (const branch of Object.keys(worktrees)) {
      if (branch === 'feat/fresh') continue;
      await work(branch, `${slug(branch)}.txt`, branch, 'wip work');
      await work(branch, `${slug(branch)}-2.txt`, branch, 'more work');
    }

    // Merges into main, each its own way (main moves on with each, so only the first is a fast-forward).
    await fx.git('merge', '-q', '--ff-only', 'feat/ff');
    for (const branch of ['feat/merge-commit', 'feat/extra']) await fx.git('merge', '-q', '--no-ff', '-m', `Merge ${branch}`, branch);
    for (const branch of ['feat/squash', 'feat/dirty']) {
      await fx.git('merge', '-q', '--squash', branch);
      await fx.git('commit', '-q', '-m', `${branch} (#1)`);
    }
    await fx.git('cherry-pick', 'main..feat/rebase');
    // Pushed branches, one squash-merged, the other's pull request closed; both deleted on the remote: [gone].
    await inEnv('feat/gone-merged', 'push', '-q', '-u', 'origin', 'feat/gone-merged');
    await inEnv('feat/gone-unmerged', 'push', '-q', '-u', 'origin', 'feat/gone-unmerged');
    await fx.git('merge', '-q', '--squash', 'feat/gone-merged');
    await fx.git('commit', '-q', '-m', 'feat/gone-merged (#2)');
    await fx.git('push', '-q', 'origin', '--delete', 'feat/gone-merged', 'feat/gone-unmerged');
    await fx.git('fetch', '-q', '--prune', 'origin');
    expect(await fx.git('for-each-ref', '--format=%(upstream:track)', 'refs/heads/feat/gone-merged')).toBe('[gone]');
    // What must keep a merged env: work in its worktree, or work on its branch after the merge.
    await writeFile(join(worktrees['feat/dirty']?.worktree ?? '', 'notes.md'), 'not committed');
    await work('feat/extra', 'extra.txt', 'more', 'after the merge');

    // list flags what prune would take, with how each was merged.
    const listed = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json as { branch: string; merged?: boolean; merged_by?: string }[];
    expect(Object.fromEntries(listed.map((v) => [v.branch, v.merged_by ?? v.merged]))).toEqual({
      ...MERGED_BY,
      ...Object.fromEntries(Object.keys(KEPT).flatMap((b) => (MERGED_BY[b] ? [] : [[b, false]]))),
    });
    const onlyMerged = (await envsOk(fx.repo, fx.home, ['list', '--merged', '--json'])).json as { branch: string }[];
    expect(onlyMerged.map((v) => v.branch).sort()).toEqual(Object.keys(MERGED_BY).sort());
    const human = (await envsOk(fx.repo, fx.home, ['list'])).stdout;
    expect(human).toMatch(/feat\/squash\s.*merged\(squash\)/);
    expect(human).toMatch(/feat\/dirty\s.*dirty,merged\(squash\)/);

    // --dry-run: every decision, and nothing changed.
    const before = await snapshot(fx, [worktrees['feat/dirty']?.worktree ?? '']);
    const dry = (await envsOk(fx.repo, fx.home, ['prune', '--merged', '--dry-run', '--json'])).json;
    expect(dry).toMatchObject({ base: 'main', dry_run: true, failed: [] });
    expectDecisions(dry);
    const dryHuman = await envsOk(fx.repo, fx.home, ['prune', '--merged', '--dry-run']);
    expect(dryHuman.stdout).toMatch(
      /^· would prune {2}feat\/squash \(env [a-z0-9-]+\): merged: main already has the branch's whole change \(squash\)$/m,
    );
    expect(dryHuman.stdout).toMatch(/^· kept {4}feat\/dirty \(env [a-z0-9-]+\): merged \(squash\), but its worktree has work/m);
    expect(dryHuman.stdout).toMatch(/^5 would prune, 5 kept \(base main\) — dry run, nothing was changed\.$/m);
    expect(dryHuman.stdout.trim().split('\n')).toHaveLength(12);
    expect(await snapshot(fx, [worktrees['feat/dirty']?.worktree ?? ''])).toEqual(before);

    // The real run, deleting the merged branches: squash- and rebase-merged ones too.
    const pruned = await envsOk(fx.repo, fx.home, ['prune', '--merged', '--delete-branch', '--json']);
    expect(pruned.json).toMatchObject({ dry_run: false, failed: [] });
    expectDecisions(pruned.json);
    for (const entry of pruned.json.pruned) {
      expect(entry).toMatchObject({ branch_deleted: true, destroyed: { name: entry.name, worktree_removed: true } });
    }
    for (const branch of PRUNED) {
      const env = worktrees[branch];
      expect(existsSync(env?.worktree ?? '')).toBe(false);
      expect(await containers(env?.project ?? '')).toEqual([]);
      expect(await fx.git('branch', '--list', branch)).toBe('');
    }
    for (const branch of Object.keys(KEPT)) {
      const env = worktrees[branch];
      expect(existsSync(env?.worktree ?? '')).toBe(true);
      expect(await containers(env?.project ?? '')).toHaveLength(1);
      expect(await fx.git('branch', '--list', branch)).toContain(branch);
    }
    expect(existsSync(join(worktrees['feat/dirty']?.worktree ?? '', 'notes.md'))).toBe(true);
    const remaining = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json as { branch: string; status: string }[];
    expect(remaining.map((v) => [v.branch, v.status]).sort()).toEqual(
      Object.keys(KEPT)
        .map((b) => [b, 'running'])
        .sort(),
    );

    // Once the dirty env's work is gone it is pruned; without --delete-branch its branch stays.
    await rm(join(worktrees['feat/dirty']?.worktree ?? '', 'notes.md'));
    const again = await envsOk(fx.repo, fx.home, ['prune', '--merged']);
    expect(again.stdout).toMatch(
      /^✓ pruned {2}feat\/dirty \(env [a-z0-9-]+\): merged: main already has the branch's whole change \(squash\)$/m,
    );
    expect(again.stdout).toMatch(/^1 pruned, 4 kept \(base main\)$/m);
    expect(existsSync(worktrees['feat/dirty']?.worktree ?? '')).toBe(false);
    expect(await containers(worktrees['feat/dirty']?.project ?? '')).toEqual([]);
    expect(await fx.git('branch', '--list', 'feat/dirty')).toContain('feat/dirty');

    // Idle: nothing is 7 days old here; with 0 days everything is.
    expect((await envsOk(fx.repo, fx.home, ['list', '--idle', '--json'])).json).toEqual([]);
    const idle = (await envsOk(fx.repo, fx.home, ['list', '--idle', '--idle-days', '0', '--json'])).json as {
      idle: boolean;
      last_activity: string;
    }[];
    expect(idle).toHaveLength(4);
    for (const v of idle) expect(Date.parse(v.last_activity)).toBeGreaterThan(Date.now() - 600_000);

    for (const branch of Object.keys(KEPT)) {
      if (branch !== 'feat/dirty') await envsOk(fx.repo, fx.home, ['destroy', branch, '--force']);
    }
  });

  it('refuses without --merged and with a base that is no commit, changing nothing', async () => {
    const before = await snapshot(fx);
    const bare = await envs(fx.repo, fx.home, ['prune', '--json']);
    expect(bare.exitCode).toBe(2);
    expect(bare.json.error).toMatchObject({ code: 'USAGE', message: 'Say what to prune: `envs prune --merged`.' });
    const base = await envs(fx.repo, fx.home, ['prune', '--merged', '--base', 'no-such-branch']);
    expect(base.exitCode).toBe(1);
    expect(base.stderr).toMatch(/^error: "no-such-branch" is not a commit of this repository\.\nhint: .*--base <ref>/);
    expect(await snapshot(fx)).toEqual(before);
  });
});

/** Every env is in `pruned` or `kept` with the matrix's code and reason. */
function expectDecisions(result: { pruned: Record<string, unknown>[]; kept: Record<string, unknown>[] }): void {
  expect(result.pruned.map((e) => e.branch).sort()).toEqual([...PRUNED].sort());
  for (const entry of result.pruned) {
    const by = MERGED_BY[entry.branch as string];
    expect(entry).toMatchObject({ code: by, merged_by: by });
    expect(entry.reason).toMatch(
      by === 'ancestor'
        ? /^merged: main contains its tip/
        : by === 'rebase'
          ? /^merged: every commit's change is in main \(rebase\)$/
          : /\(squash\)/,
    );
  }
  expect(result.pruned.find((e) => e.branch === 'feat/gone-merged')?.reason).toMatch(/; its upstream is gone$/);
  expect(result.kept.map((e) => e.branch).sort()).toEqual(Object.keys(KEPT).sort());
  for (const entry of result.kept) {
    const want = KEPT[entry.branch as string];
    expect(entry.code).toBe(want?.code);
    expect(entry.reason).toMatch(want?.reason ?? /^$/);
  }
  expect(result.kept.find((e) => e.branch === 'feat/dirty')).toMatchObject({
    merged_by: 'squash',
    details: { files: [{ path: 'notes.md', kind: 'untracked' }] },
  });
}
