import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../state/atomic.ts';
import { addEnvsHooks, unifiedDiff } from './claude-settings.ts';

export interface InitClaudeResult {
  file: string;
  changed: boolean;
  dry_run: boolean;
  added: string[];
  /** The command the hooks run, before ` hook worktree-create`. */
  command: string;
  diff: string;
}

/**
 * `envs init claude`: envs's worktree hooks in the repository's `.claude/settings.json` (shared with the
 * team when committed) or, with `local`, `.claude/settings.local.json` (this machine only). Idempotent: when
 * both hooks are there, the file is not written at all.
 */
export async function initClaude(root: string, options: { command: string; local?: boolean; dryRun?: boolean }): Promise<InitClaudeResult> {
  const relative = join('.claude', options.local ? 'settings.local.json' : 'settings.json');
  const file = join(root, relative);
  const before = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const edit = addEnvsHooks(before, options.command, relative);
  const diff = edit.changed ? unifiedDiff(before, edit.text, relative) : '';
  if (edit.changed && !options.dryRun) {
    await mkdir(dirname(file), { recursive: true });
    // A settings file is the project's (often committed): it keeps its mode, a new one gets the usual 0644.
    const mode = ((await stat(file).catch(() => undefined))?.mode ?? 0o644) & 0o777;
    await writeFileAtomic(file, edit.text, { mode });
  }
  return { file, changed: edit.changed, dry_run: Boolean(options.dryRun), added: edit.added, command: options.command, diff };
}
