import { describe, expect, it } from 'vitest';
import type { BranchMerge } from './deps.ts';
import { mergeDecision } from './merge-decision.ts';

const env = { branch: 'feat/x', base: { commit: 'b'.repeat(40) } };
const merge = (more: Partial<BranchMerge>): BranchMerge => ({
  branch: 'feat/x',
  tip: 'c'.repeat(40),
  unchanged: false,
  upstreamGone: false,
  missing: [],
  ...more,
});
const commit = (n: number) => ({ sha: `${n}`.repeat(40), short: `${n}`.repeat(12), subject: `change ${n}` });

describe('mergeDecision', () => {
  it('merged on each kind of evidence, saying which', () => {
    expect(mergeDecision(env, merge({ by: 'ancestor' }), 'main')).toEqual({
      merged: true,
      code: 'ancestor',
      reason: 'merged: main contains its tip (fast-forward or merge commit)',
    });
    expect(mergeDecision(env, merge({ by: 'rebase' }), 'main')).toMatchObject({
      merged: true,
      code: 'rebase',
      reason: expect.stringMatching(/rebase/),
    });
    expect(mergeDecision(env, merge({ by: 'squash', upstreamGone: true }), 'origin/main')).toEqual({
      merged: true,
      code: 'squash',
      reason: "merged: origin/main already has the branch's whole change (squash); its upstream is gone",
    });
  });

  it('a branch that never moved is not merged, whatever ancestry says', () => {
    expect(mergeDecision(env, merge({ unchanged: true, by: 'ancestor' }), 'main')).toEqual({
      merged: false,
      code: 'no-commits',
      reason: 'no commits yet: the branch is still at bbbbbbbb, where the env was made',
    });
  });

  it('commits that add up to no change: kept, nothing was merged', () => {
    expect(mergeDecision(env, merge({ noChange: true, missing: [commit(1)] }), 'main')).toEqual({
      merged: false,
      code: 'no-change',
      reason:
        'no change to merge: its commits add up to no change since it left main (reverted, empty, or only merges from main): 1 commit not in main: 11111111 change 1',
    });
  });

  it('not merged: names the commits the base lacks (three, then …)', () => {
    const d = mergeDecision(env, merge({ missing: [commit(1), commit(2), commit(3), commit(4)] }), 'main');
    expect(d).toEqual({
      merged: false,
      code: 'not-merged',
      reason: 'not merged: 4 commits not in main: 11111111 change 1, 22222222 change 2, 33333333 change 3, …',
    });
    expect(mergeDecision(env, merge({}), 'main').reason).toBe('not merged: no evidence main has its changes');
  });

  it('a [gone] upstream with commits the base lacks is kept, and says why', () => {
    expect(mergeDecision(env, merge({ upstreamGone: true, missing: [commit(5)] }), 'main')).toEqual({
      merged: false,
      code: 'upstream-gone',
      reason: 'its upstream is gone, but 1 commit not in main: 55555555 change 5 (a deleted remote branch is no proof of a merge)',
    });
  });

  it('no branch, or the base itself: never merged', () => {
    expect(mergeDecision(env, merge({ tip: undefined as never }), 'main')).toMatchObject({ merged: false, code: 'no-branch' });
    expect(mergeDecision(env, undefined, 'main')).toMatchObject({ merged: false, code: 'no-branch' });
    expect(mergeDecision(env, merge({ by: 'ancestor' }), 'feat/x')).toMatchObject({ merged: false, code: 'base' });
    expect(mergeDecision(env, merge({ by: 'ancestor', baseOf: 'refs/remotes/origin/feat/x' }), 'origin/feat/x')).toEqual({
      merged: false,
      code: 'base',
      reason: 'it is the base branch or the default branch (refs/remotes/origin/feat/x): envs never prunes it',
    });
  });
});
