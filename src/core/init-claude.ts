import { appendFile, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvsError } from '../errors.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { addEnvsHooks, unifiedDiff } from './claude-settings.ts';
import type { GitClient } from './deps.ts';
import { printable } from './naming.ts';

export interface InitClaudeResult {
  file: string;
  changed: boolean;
  dry_run: boolean;
  added: string[];
  /** The command the hooks run, before ` hook worktree-create`. */
  command: string;
  diff: string;
  /** --local: the file was not ignored by git, and this line went into .git/info/exclude. */
  excluded?: string;
}

const LOCAL = join('.claude', 'settings.local.json');

/**
 * `envs init claude`: envs's worktree hooks in the repository's `.claude/settings.json` (shared with the
 * team when committed) or, with `local`, `.claude/settings.local.json` (this machine only). Idempotent: when
 * both hooks are there, the file is not written at all.
 */
export async function initClaude(
  git: Pick<GitClient, 'repo' | 'ignored'>,
  options: { command: string; local?: boolean; dryRun?: boolean },
): Promise<InitClaudeResult> {
  const { root } = git.repo;
  const relative = options.local ? LOCAL : join('.claude', 'settings.json');
  const file = join(root, relative);
  const before = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const edit = addEnvsHooks(before, options.command, relative);
  const diff = edit.changed ? unifiedDiff(before, edit.text, relative) : '';
  const result: InitClaudeResult = {
    file,
    changed: edit.changed,
    dry_run: Boolean(options.dryRun),
    added: edit.added,
    command: options.command,
    diff,
  };
  if (!edit.changed || options.dryRun) return result;
  // A symlinked settings file (shared from dotfiles) is edited where it points: the link stays a link.
  const target = await realpath(file).catch(() => file);
  const existing = await stat(target).catch(() => undefined);
  // The atomic rename would replace a read-only file without a word: read-only says "not edited by tools".
  if (existing && (existing.mode & 0o222) === 0) {
    throw new EnvsError('CLAUDE_SETTINGS_READONLY', `${printable(relative)} is read-only: envs does not edit it.`, {
      hint: `Make it writable (\`chmod u+w ${printable(file)}\`) and run \`envs init claude\` again, or add the hooks yourself (\`envs init claude --dry-run\` shows them). Nothing was changed.`,
    });
  }
  await mkdir(dirname(target), { recursive: true });
  // A settings file is the project's (often committed): it keeps its mode, a new one gets the usual 0644.
  await writeFileAtomic(target, edit.text, { mode: (existing?.mode ?? 0o644) & 0o777 });
  if (options.local) {
    const excluded = await excludeLocal(git);
    if (excluded) result.excluded = excluded;
  }
  return result;
}

/**
 * settings.local.json holds this machine's paths: Claude Code keeps the one it makes out of git, and so does
 * envs — in `.git/info/exclude` (this clone only; the project's .gitignore is the team's to change).
 */
async function excludeLocal(git: Pick<GitClient, 'repo' | 'ignored'>): Promise<string | undefined> {
  if ((await git.ignored(git.repo.root, [LOCAL])).has(LOCAL)) return undefined;
  const exclude = join(git.repo.commonDir, 'info', 'exclude');
  const current = await readFile(exclude, 'utf8').catch(() => '');
  await mkdir(dirname(exclude), { recursive: true });
  await appendFile(exclude, `${current === '' || current.endsWith('\n') ? '' : '\n'}/${LOCAL}\n`);
  return exclude;
}
