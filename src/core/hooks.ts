/**
 * Claude Code's worktree hooks (https://code.claude.com/docs/en/hooks): with a WorktreeCreate hook
 * configured, Claude Code does not make the worktree itself; the hook does, and prints its absolute path on
 * stdout (a non-zero exit fails the creation). WorktreeRemove is its counterpart when a worktree Claude
 * Code used goes: the hook does the removal. Payloads are JSON on stdin; field names moved between versions
 * (`worktree_name` / `name`, `base_commit` / `base_ref`), so both spellings are read and unknown fields
 * ignored.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { EnvsError } from '../errors.ts';
import type { Progress } from './converge.ts';
import { createEnv } from './create.ts';
import type { Deps } from './deps.ts';
import { type DestroyResult, destroyEnv } from './destroy.ts';
import { withWorktreeLock } from './guards.ts';
import { printable } from './naming.ts';
import type { EnvView } from './view.ts';

/**
 * Claude Code's own branch for a worktree it makes is `worktree-<name>` (in `.claude/worktrees/<name>`,
 * `claude --worktree <name>`): the hook keeps that name, so a branch is the same with or without envs.
 */
export const DEFAULT_BRANCH_PREFIX = 'worktree-';

const common = {
  hook_event_name: z.string().optional(),
  session_id: z.string().optional(),
  transcript_path: z.string().optional(),
  cwd: z.string().min(1).optional(),
};
const createSchema = z.object({
  ...common,
  worktree_name: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  base_commit: z.string().min(1).optional(),
  base_ref: z.string().min(1).optional(),
});
const removeSchema = z.object({ ...common, worktree_path: z.string().min(1) });

export interface CreatePayload {
  name: string;
  base?: string;
  cwd?: string;
}
export interface RemovePayload {
  worktreePath: string;
  cwd?: string;
}

/** The WorktreeCreate payload, or HOOK_PAYLOAD_INVALID saying what is wrong with it. */
export function parseCreatePayload(text: string): CreatePayload {
  const data = parsed(createSchema, text, 'WorktreeCreate');
  const name = data.worktree_name ?? data.name;
  if (!name) throw invalid('WorktreeCreate', 'it has no worktree_name (or name)');
  const base = data.base_commit ?? data.base_ref;
  return { name, ...(base ? { base } : {}), ...(data.cwd ? { cwd: data.cwd } : {}) };
}

/** The WorktreeRemove payload, or HOOK_PAYLOAD_INVALID. */
export function parseRemovePayload(text: string): RemovePayload {
  const data = parsed(removeSchema, text, 'WorktreeRemove');
  if (!isAbsolute(data.worktree_path)) throw invalid('WorktreeRemove', `worktree_path "${printable(data.worktree_path)}" is not absolute`);
  return { worktreePath: data.worktree_path, ...(data.cwd ? { cwd: data.cwd } : {}) };
}

function parsed<T extends z.ZodType>(schema: T, text: string, event: string): z.infer<T> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(event, text.trim() === '' ? 'stdin was empty' : 'stdin is not JSON');
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalid(event, issue ? `${issue.path.join('.') || 'the payload'}: ${issue.message}` : 'it is not an object');
  }
  const hookEvent = (result.data as { hook_event_name?: string }).hook_event_name;
  if (hookEvent !== undefined && hookEvent !== event) {
    throw invalid(event, `it is a ${printable(hookEvent)} event (is the hook wired to the wrong event in .claude/settings.json?)`);
  }
  return result.data;
}

function invalid(event: string, why: string): EnvsError {
  return new EnvsError('HOOK_PAYLOAD_INVALID', `Not a Claude Code ${event} payload: ${why}.`, {
    hint: `envs hook reads the JSON Claude Code sends on stdin; \`envs init claude\` wires it to the right events.`,
  });
}

export interface HookRunOptions {
  signal?: AbortSignal;
  onProgress?: Progress;
}

/**
 * WorktreeCreate: the env of branch `<prefix><name>` (made, resumed, or — when its branch is already
 * checked out in another worktree — adopted there), its worktree's absolute path returned. A new branch
 * starts at the payload's base commit; an existing one is used as it is. Run again for the same name, it
 * returns the same path without changing anything.
 */
export async function worktreeCreateHook(
  deps: Deps,
  payload: CreatePayload,
  options: HookRunOptions & { prefix?: string } = {},
): Promise<{ path: string; branch: string; view?: EnvView }> {
  const branch = `${options.prefix ?? DEFAULT_BRANCH_PREFIX}${payload.name}`;
  const existing = (await deps.records.list()).find((r) => r.branch === branch);
  if (existing && existing.status !== 'creating' && existing.status !== 'failed') {
    if (!(await realpath(existing.worktree).catch(() => undefined))) {
      throw new EnvsError('ENV_EXISTS', `${printable(branch)} has an env whose worktree ${printable(existing.worktree)} is gone.`, {
        hint: `Remove the env with \`envs destroy ${printable(branch)}\`, then start the session again.`,
      });
    }
    options.onProgress?.({ step: 'worktree', message: `${branch} has an env already (${existing.name}): using its worktree` });
    return { path: existing.worktree, branch };
  }
  const state = await deps.git.branchState(branch);
  const from = payload.base && !state.local ? payload.base : undefined;
  const view = await createEnv(deps, {
    branch,
    ...(from ? { from } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }).catch((error: unknown) => {
    // The base came from Claude Code's payload, not from a --from the user typed.
    if (from && EnvsError.is(error) && error.code === 'UNKNOWN_REF') {
      throw new EnvsError('UNKNOWN_REF', `The payload's base ${printable(from)}: no such branch, tag or commit in ${deps.git.repo.root}.`, {
        hint: 'Claude Code starts a worktree from a commit of this repository: `git fetch` if it exists only on the remote.',
      });
    }
    throw error;
  });
  return { path: view.worktree, branch, view };
}

export type RemoveOutcome =
  | { removed: 'env'; result: DestroyResult }
  | { removed: 'worktree'; path: string }
  | { removed: 'nothing'; path: string; note: string };

/**
 * WorktreeRemove: the env whose worktree is at that path is destroyed with destroy's safety rules (work that
 * would be lost refuses it: DIRTY_WORKTREE, env intact), its worktree removed even when adopted (Claude Code
 * asked for the worktree to go). A worktree of the repository without an env goes with `git worktree
 * remove`, which refuses modified or untracked files itself. A path that is no worktree of the repository
 * is left alone. An env whose agent (`envs agent`) runs is refused (AGENT_RUNNING): the agent is not the hook's.
 */
export async function worktreeRemoveHook(deps: Deps, payload: RemovePayload, options: HookRunOptions = {}): Promise<RemoveOutcome> {
  const path = await real(payload.worktreePath);
  const records = await deps.records.list();
  const paths = await Promise.all(records.map((r) => real(r.worktree)));
  const record = records.find((_, i) => paths[i] === path);
  if (record) {
    // Destroy stops agents; Claude Code leaving a worktree is no one's decision to stop an agent someone
    // started there with `envs agent` (its conversation is work too).
    const running = (await deps.app.agents(deps.records.envDir(record.name))).find((a) => a.running);
    if (running) {
      const shown = printable(record.branch);
      throw new EnvsError(
        'AGENT_RUNNING',
        `An agent runs in ${shown}'s env (${printable(running.command)}, window ${running.window}): the worktree stays.`,
        { hint: `See it with \`envs attach ${shown}\`; \`envs destroy ${shown}\` stops it and removes the env. Nothing was changed.` },
      );
    }
    const result = await destroyEnv(deps, `name:${record.name}`, {
      worktree: 'remove',
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { removed: 'env', result };
  }
  const worktrees = await deps.git.worktrees();
  const entries = await Promise.all(worktrees.map(async (w) => ({ w, path: await real(w.path) })));
  const entry = entries.find((e) => e.path === path);
  if (!entry) {
    return {
      removed: 'nothing',
      path: payload.worktreePath,
      note: `${payload.worktreePath} is not a worktree of ${deps.git.repo.root}: nothing was removed.`,
    };
  }
  if (entry === entries[0] || entry.path === deps.git.repo.root) {
    throw new EnvsError('NOT_A_WORKTREE', `${printable(payload.worktreePath)} is the main checkout: the hook removes worktrees only.`, {
      hint: 'Nothing was changed.',
    });
  }
  options.onProgress?.({ step: 'worktree', message: `git worktree remove ${entry.w.path} (it has no env)` });
  // Without --force: git itself refuses a worktree with modified or untracked files.
  await withWorktreeLock(deps, `git worktree remove for ${entry.w.path}`, () => deps.git.removeWorktree(entry.w.path, false));
  return { removed: 'worktree', path: entry.w.path };
}

async function real(path: string): Promise<string> {
  return realpath(resolve(path)).catch(() => resolve(path));
}
