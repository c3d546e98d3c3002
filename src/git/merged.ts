import type { BranchMerge, CommitInfo, MergeQuery } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { runGit } from './run.ts';

/**
 * Whether a base branch already holds each branch's work, on positive evidence only (what `prune --merged`
 * and the `merged` flag of `list` rest on). Cheapest first, each step only for the branches still undecided:
 *
 * 1. one `for-each-ref` for every branch's tip and upstream (`[gone]`), one `for-each-ref --merged <base>`
 *    for ancestry (fast-forward, merge commit): two processes for all branches;
 * 2. a branch still at the commit its env was made from (`since`) is `unchanged`: never merged, no more reads;
 * 3. `git cherry <base> <tip>`: every commit's patch-id already in base → `rebase`;
 * 4. the branch's tree is its merge base's (commits that add up to no change): `noChange`, never merged;
 * 5. `git merge-tree --write-tree <base> <tip>`: merging the branch would leave base's tree as it is → `squash`;
 * 6. patch-id of the branch's whole change since the merge base among the patch-ids of base's commits since
 *    then → `squash` (a squash commit base changed the same lines after, where step 4 conflicts).
 *
 * Steps 3–6 cost two to six processes per undecided branch and run a few branches at a time.
 */

/** Base commits since a merge base whose patch-ids are compared (beyond: no evidence, never a false "merged"). */
const PATCH_SCAN = 2000;
const POOL = 4;

export async function mergeStatus(
  root: string,
  env: NodeJS.ProcessEnv,
  base: string,
  queries: MergeQuery[],
  /** More branches that are never "merged" into base: the repository's default branch. */
  protect: string[] = [],
): Promise<Map<string, BranchMerge>> {
  const git = (args: string[], okCodes?: number[], input?: string) =>
    runGit(args, { cwd: root, env, ...(okCodes ? { okCodes } : {}), ...(input !== undefined ? { input } : {}) });
  // Not --verify (it takes one name): a range or other rev syntax gives more or other lines than two ids. A leading
  // `-` is refused before (rev-parse without --verify would echo --end-of-options).
  const baseRefs = base.startsWith('-') ? undefined : await git(['rev-parse', `${base}^{commit}`, `${base}^{tree}`], [128]);
  const ids = baseRefs?.exitCode === 0 ? baseRefs.stdout.split('\n').filter(Boolean) : [];
  const [baseCommit, baseTree] = ids;
  if (ids.length !== 2 || !ids.every((id) => /^[0-9a-f]{40,64}$/.test(id)) || !baseCommit || !baseTree) {
    throw new EnvsError('UNKNOWN_REF', `"${base}" is not a commit of this repository.`, {
      hint: 'Name the branch merges go into with --base <ref> (a branch, a remote branch such as origin/main, or a commit).',
    });
  }
  const [refs, merged] = await Promise.all([
    git(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(upstream)%00%(upstream:track)', 'refs/heads/']),
    git(['for-each-ref', '--format=%(refname)', '--merged', baseCommit, 'refs/heads/']),
  ]);
  const heads = parseHeads(refs.stdout);
  const bases = await baseBranches(git, [base, ...protect]);
  const ancestors = new Set(merged.stdout.split('\n').filter(Boolean));

  const result = new Map<string, BranchMerge>();
  const undecided: { branch: string; tip: string; upstreamGone: boolean }[] = [];
  for (const { branch, since } of queries) {
    const head = heads.get(`refs/heads/${branch}`);
    if (!head) {
      result.set(branch, { branch, unchanged: false, upstreamGone: false, missing: [] });
      continue;
    }
    const known = { branch, tip: head.tip, upstreamGone: head.gone };
    const baseOf = bases.get(branch);
    if (baseOf) result.set(branch, { ...known, unchanged: false, baseOf, missing: [] });
    else if (since !== undefined && head.tip === since) result.set(branch, { ...known, unchanged: true, missing: [] });
    else if (ancestors.has(`refs/heads/${branch}`)) result.set(branch, { ...known, unchanged: false, by: 'ancestor', missing: [] });
    else undecided.push(known);
  }

  await pool(undecided, POOL, async ({ branch, tip, upstreamGone }) => {
    const known = { branch, tip, upstreamGone, unchanged: false };
    const cherry = parseCherry((await git(['cherry', '-v', '--end-of-options', baseCommit, tip])).stdout);
    const missing = cherry.filter((c) => c.sign === '+').map(({ sign: _, ...commit }) => commit);
    if (cherry.length > 0 && missing.length === 0) {
      result.set(branch, { ...known, by: 'rebase', missing: [] });
      return;
    }
    const mergeBase = await git(['merge-base', baseCommit, tip], [1]);
    const from = mergeBase.exitCode === 0 ? mergeBase.stdout.trim() : '';
    // Commits that add up to nothing (a revert pair, an empty commit, only merges from base): merging them would
    // leave base as it is too, but that is no evidence base took any work of theirs. Never "merged".
    if (from && (await sameTree(git, from, tip))) {
      result.set(branch, { ...known, noChange: true, missing });
      return;
    }
    if (await treeUnchanged(git, baseCommit, baseTree, tip)) {
      result.set(branch, { ...known, by: 'squash', missing: [] });
      return;
    }
    if (from && (await squashPatch(git, baseCommit, from, tip))) {
      result.set(branch, { ...known, by: 'squash', missing: [] });
      return;
    }
    result.set(branch, { ...known, missing });
  });
  return result;
}

/**
 * The local branches that are a base: `main` for `main`, `refs/heads/main` and `origin/main` alike (an env of
 * `main` is trivially "in" origin/main). Keyed by branch name, valued by the full ref name it matched.
 */
async function baseBranches(git: Git, names: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const name of names) {
    if (name.startsWith('-')) continue;
    const full = (await git(['rev-parse', '--symbolic-full-name', name], [128])).stdout.trim();
    const local = /^refs\/heads\/(.+)$/.exec(full)?.[1] ?? /^refs\/remotes\/[^/]+\/(.+)$/.exec(full)?.[1];
    if (local && local !== 'HEAD') found.set(local, full);
  }
  return found;
}

type Git = (args: string[], okCodes?: number[], input?: string) => ReturnType<typeof runGit>;

/** A simulated merge of the branch into base that yields base's own tree: base has all of it. */
async function treeUnchanged(git: Git, baseCommit: string, baseTree: string, tip: string): Promise<boolean> {
  // Exit 1: conflicts (no evidence). 129: a git before 2.38 without --write-tree (step 5 still runs).
  const merged = await git(['merge-tree', '--write-tree', '--no-messages', baseCommit, tip], [1, 129]);
  return merged.exitCode === 0 && merged.stdout.split('\n')[0] === baseTree;
}

/** Two commits with the same tree: nothing changed from one to the other. */
async function sameTree(git: Git, a: string, b: string): Promise<boolean> {
  const trees = (await git(['rev-parse', `${a}^{tree}`, `${b}^{tree}`])).stdout.split('\n').filter(Boolean);
  return trees.length === 2 && trees[0] === trees[1];
}

/** The branch's whole change since the merge base has the patch-id of one of base's commits since then. */
async function squashPatch(git: Git, baseCommit: string, from: string, tip: string): Promise<boolean> {
  const [change, since] = await Promise.all([
    git(['diff-tree', '-p', '--full-index', from, tip]),
    git(['log', '-p', '--full-index', '--no-merges', `--max-count=${PATCH_SCAN}`, '--format=commit %H', `${from}..${baseCommit}`]),
  ]);
  if (change.stdout.trim() === '' || since.stdout.trim() === '') return false;
  const ids = await git(['patch-id', '--stable'], undefined, `commit ${tip}\n${change.stdout}\n${since.stdout}`);
  const byCommit = ids.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string]);
  const mine = byCommit.find(([, commit]) => commit === tip)?.[0];
  return mine !== undefined && byCommit.some(([id, commit]) => commit !== tip && id === mine);
}

/** `for-each-ref` lines `<ref>\0<oid>\0<upstream>\0<track>`. */
export function parseHeads(output: string): Map<string, { tip: string; gone: boolean }> {
  const heads = new Map<string, { tip: string; gone: boolean }>();
  for (const line of output.split('\n')) {
    const [ref, tip, upstream, track] = line.split('\0');
    if (!ref || !tip) continue;
    heads.set(ref, { tip, gone: Boolean(upstream) && track === '[gone]' });
  }
  return heads;
}

/** `git cherry -v` lines: `+ <sha> <subject>` (base lacks the change) or `- <sha> <subject>` (base has it). */
export function parseCherry(output: string): (CommitInfo & { sign: '+' | '-' })[] {
  const commits: (CommitInfo & { sign: '+' | '-' })[] = [];
  for (const line of output.split('\n')) {
    const match = /^([+-]) ([0-9a-f]{40,64})(?: (.*))?$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    commits.push({ sign: match[1] as '+' | '-', sha: match[2], short: match[2].slice(0, 12), subject: match[3] ?? '' });
  }
  return commits;
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
