import type { BranchMerge } from './deps.ts';
import { printable } from './naming.ts';

/**
 * Whether an env's branch is merged into a base, as `prune --merged` and `list` decide it (pure). Only
 * positive evidence counts (src/git/merged.ts): a branch that never moved since its env was made is not
 * "merged" (an env just created from main is trivially an ancestor of main), a deleted branch proves
 * nothing, and a `[gone]` upstream is never proof by itself: a remote branch is deleted for closed pull
 * requests too.
 */
export type MergeCode =
  | 'ancestor'
  | 'rebase'
  | 'squash'
  | 'no-commits'
  | 'no-branch'
  | 'base'
  | 'not-merged'
  | 'upstream-gone'
  | 'no-change';

export interface MergeDecision {
  merged: boolean;
  code: MergeCode;
  /** One line for people. */
  reason: string;
}

const SHOWN = 3;

export function mergeDecision(
  env: { branch: string; base: { commit: string } },
  merge: BranchMerge | undefined,
  base: string,
): MergeDecision {
  const b = printable(base);
  const gone = merge?.upstreamGone ? '; its upstream is gone' : '';
  if (env.branch === base.replace(/^refs\/heads\//, '')) return keep('base', `it is the base branch (${b})`);
  if (merge?.baseOf) return keep('base', `it is the base branch or the default branch (${printable(merge.baseOf)}): envs never prunes it`);
  if (!merge?.tip) return keep('no-branch', `its branch ${printable(env.branch)} no longer exists: nothing to compare with ${b}`);
  if (merge.unchanged) {
    return keep('no-commits', `no commits yet: the branch is still at ${env.base.commit.slice(0, 8)}, where the env was made`);
  }
  if (merge.by === 'ancestor')
    return { merged: true, code: 'ancestor', reason: `merged: ${b} contains its tip (fast-forward or merge commit)${gone}` };
  if (merge.by === 'rebase') return { merged: true, code: 'rebase', reason: `merged: every commit's change is in ${b} (rebase)${gone}` };
  if (merge.by === 'squash')
    return { merged: true, code: 'squash', reason: `merged: ${b} already has the branch's whole change (squash)${gone}` };
  const missing = merge.missing;
  const listed = missing
    .slice(0, SHOWN)
    .map((c) => `${c.short.slice(0, 8)} ${printable(c.subject)}`)
    .join(', ');
  const commits =
    missing.length === 0
      ? `no evidence ${b} has its changes`
      : `${missing.length} commit${missing.length === 1 ? '' : 's'} not in ${b}: ${listed}${missing.length > SHOWN ? ', …' : ''}`;
  if (merge.noChange) {
    const named = missing.length > 0 ? `: ${commits}` : '';
    return keep(
      'no-change',
      `no change to merge: its commits add up to no change since it left ${b} (reverted, empty, or only merges from ${b})${named}`,
    );
  }
  if (merge.upstreamGone)
    return keep('upstream-gone', `its upstream is gone, but ${commits} (a deleted remote branch is no proof of a merge)`);
  return keep('not-merged', `not merged: ${commits}`);
}

function keep(code: MergeCode, reason: string): MergeDecision {
  return { merged: false, code, reason };
}
