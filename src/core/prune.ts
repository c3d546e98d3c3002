import { EnvsError } from '../errors.ts';
import type { Progress } from './converge.ts';
import type { Deps } from './deps.ts';
import type { DestroyResult } from './destroy.ts';
import { destroyEnv, destroyRefusal } from './destroy.ts';
import type { DirtyFile, LostCommit } from './dirty.ts';
import { type MergeCode, mergeDecision } from './merge-decision.ts';
import { printable } from './naming.ts';
import { isWithin } from './within.ts';

export interface PruneOptions {
  /** The branch merges go into; default: the repository's default branch. */
  base?: string;
  dryRun?: boolean;
  /** Also delete each pruned env's branch (only at the tip the merge evidence was read from). */
  deleteBranch?: boolean;
  signal?: AbortSignal;
  onProgress?: Progress;
}

/** Why an env was kept: its merge decision, or the refusal destroy would make (lower-cased error code). */
export type KeepCode =
  | Exclude<MergeCode, 'ancestor' | 'rebase' | 'squash'>
  | 'dirty'
  | 'locked'
  | 'busy'
  | 'engine-mismatch'
  | 'corrupt'
  | 'cwd'
  | 'agent';

export interface PruneEntry {
  name: string;
  branch: string;
  /** ancestor | rebase | squash for pruned envs; why it stays otherwise. */
  code: MergeCode | KeepCode | string;
  reason: string;
  /** How the base holds the branch's work, when it does (also for a merged env kept because it is dirty). */
  merged_by?: 'ancestor' | 'rebase' | 'squash';
  /** What destroy removed (not in a dry run). */
  destroyed?: DestroyResult;
  /** With --delete-branch: whether the branch went, and why not when it did not. */
  branch_deleted?: boolean;
  branch_note?: string;
  /** A destroy that failed: its error. */
  error?: { code: string; message: string; hint?: string };
  /** A dirty worktree's files and commits (as destroy reports them). */
  details?: { files?: DirtyFile[]; commits?: LostCommit[] };
}

export interface PruneResult {
  base: string;
  dry_run: boolean;
  /** Destroyed (in a dry run: would be destroyed). */
  pruned: PruneEntry[];
  kept: PruneEntry[];
  /** Merged and clean, but destroy failed: listed with the error; the command exits non-zero. */
  failed: PruneEntry[];
}

/**
 * `envs prune --merged`: every env of the repository whose branch the base holds (positive evidence, see
 * merge-decision.ts) and that `destroy` would take without --force is destroyed through destroy itself;
 * every other env is kept with the reason. Decisions are all read before the first destroy; `--dry-run`
 * stops there.
 */
export async function pruneMerged(deps: Deps, options: PruneOptions = {}): Promise<PruneResult> {
  const { records, corrupt } = await deps.records.scan();
  const base = options.base ?? (await deps.git.defaultBranch());
  const [merges, engine] = await Promise.all([
    deps.git.mergeStatus(
      base,
      records.map((r) => ({ branch: r.branch, since: r.base.commit })),
    ),
    records.length > 0 ? deps.engine.info() : undefined,
  ]);
  const result: PruneResult = { base, dry_run: Boolean(options.dryRun), pruned: [], kept: [], failed: [] };
  for (const c of corrupt) {
    result.kept.push({
      name: c.name,
      branch: c.salvaged.branch ?? '',
      code: 'corrupt',
      reason: 'its record cannot be read (`envs doctor` says how to fix it)',
    });
  }

  const candidates = await Promise.all(
    records.map(async (record) => {
      const merge = merges.get(record.branch);
      const decision = mergeDecision(record, merge, base);
      const entry: PruneEntry = { name: record.name, branch: record.branch, code: decision.code, reason: decision.reason };
      if (!decision.merged || !engine) return { record, entry, tip: undefined };
      entry.merged_by = decision.code as PruneEntry['merged_by'];
      // Removing the directory the user's shell (or agent) stands in leaves it in a deleted directory: a bulk
      // command does not do that; `envs destroy` by name still does, as asked.
      if (await isWithin(deps.cwd, record.worktree)) {
        entry.code = 'cwd';
        entry.reason = `merged (${decision.code}), but it is where envs runs (${printable(deps.cwd)}): run prune from elsewhere, or destroy it by name`;
        return { record, entry, tip: undefined };
      }
      // An agent at work there (`envs agent`) is someone's session: a bulk command does not end it.
      const agents = (await deps.app.agents(deps.records.envDir(record.name))).filter((a) => a.running);
      if (agents.length > 0) {
        entry.code = 'agent';
        entry.reason = `merged (${decision.code}), but an agent runs in it (${agents.map((a) => `${a.window}: ${a.command}`).join(', ')}): \`envs attach ${record.branch}\`, or destroy it by name once it is done`;
        return { record, entry, tip: undefined };
      }
      const refusal = await destroyRefusal(deps, record, engine);
      if (refusal) {
        Object.assign(entry, refused(refusal, decision.code));
        return { record, entry, tip: undefined };
      }
      return { record, entry, tip: merge?.tip };
    }),
  );
  for (const { entry, tip } of candidates) (tip ? result.pruned : result.kept).push(entry);
  if (options.dryRun) return sorted(result);

  const prunable = candidates.filter((c) => c.tip !== undefined);
  result.pruned = [];
  for (const { record, entry, tip } of prunable) {
    if (options.signal?.aborted) break;
    options.onProgress?.({ step: 'prune', message: `destroying ${record.branch}: ${entry.reason}` });
    try {
      entry.destroyed = await destroyEnv(deps, `name:${record.name}`, {
        cwd: deps.git.repo.root,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (error) {
      if (!EnvsError.is(error)) throw error;
      // Changed since the decision (an agent wrote a file, took the env): kept, as destroy refused before acting.
      const before = error.code !== 'DIRTY_WORKTREE' || !/containers are already removed/.test(error.message);
      if (before && ['DIRTY_WORKTREE', 'ENV_BUSY', 'WORKTREE_LOCKED'].includes(error.code)) {
        result.kept.push({ ...entry, ...refused(error, entry.code) });
      } else {
        result.failed.push({ ...entry, error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
      }
      continue;
    }
    if (options.deleteBranch && tip) Object.assign(entry, await deleteBranch(deps, record.branch, tip));
    result.pruned.push(entry);
  }
  return sorted(result);
}

/**
 * The branch of a pruned env, with `git branch -d` semantics: only when the base holds its work (the
 * evidence prune acted on, squash and rebase included, which `git branch -d` itself cannot see), only at
 * the tip that evidence was read from (compare-and-swap: a commit made since keeps the branch), and never
 * while a worktree has it checked out.
 */
async function deleteBranch(deps: Deps, branch: string, tip: string): Promise<{ branch_deleted: boolean; branch_note?: string }> {
  const elsewhere = (await deps.git.worktrees()).find((w) => w.branch === branch);
  if (elsewhere) return { branch_deleted: false, branch_note: `kept: it is checked out in ${elsewhere.path}` };
  if (await deps.git.deleteBranchIfAt(branch, tip)) return { branch_deleted: true };
  return { branch_deleted: false, branch_note: `kept: it moved since ${tip.slice(0, 8)}, where it was found merged` };
}

/** A kept entry from destroy's refusal: the code people filter on and one line saying why. */
function refused(error: EnvsError, mergedCode: string): Partial<PruneEntry> {
  const code = KEEP_CODES[error.code] ?? error.code.toLowerCase().replaceAll('_', '-');
  const merged = `merged (${mergedCode}), but`;
  if (error.code === 'DIRTY_WORKTREE') {
    const details = (error.details ?? {}) as { files?: DirtyFile[]; commits?: LostCommit[] };
    const work = [
      ...(details.files ?? []).map((f) => `${f.kind} ${printable(f.path)}`),
      ...(details.commits ?? []).map((c) => `commit ${c.short} ${printable(c.subject)}`),
    ];
    return {
      code,
      reason: `${merged} its worktree has work destroy would delete: ${work.slice(0, 5).join(', ')}${work.length > 5 ? ', …' : ''}`,
      details,
    };
  }
  return { code, reason: `${merged} ${firstLine(error.message)}` };
}

const KEEP_CODES: Record<string, KeepCode> = {
  DIRTY_WORKTREE: 'dirty',
  WORKTREE_LOCKED: 'locked',
  ENV_BUSY: 'busy',
  ENGINE_MISMATCH: 'engine-mismatch',
};

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.charAt(0).toLowerCase() + line.slice(1);
}

function sorted(result: PruneResult): PruneResult {
  const byName = (a: PruneEntry, b: PruneEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { ...result, pruned: result.pruned.sort(byName), kept: result.kept.sort(byName), failed: result.failed.sort(byName) };
}
