import { realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import type { InitClaudeResult } from '../../core/init-claude.ts';
import { printable, printableLines } from '../../core/naming.ts';
import type { Define } from '../program.ts';

export function defineInit(program: Command, define: Define): void {
  const init = program.command('init').description('Set envs up for other tools.');
  init
    .command('claude')
    .description("Add envs's WorktreeCreate/WorktreeRemove hooks to .claude/settings.json, so Claude Code's worktrees get envs.")
    .option('--local', 'write .claude/settings.local.json (this machine only) instead of the shared settings.json')
    .option('--dry-run', 'show the change without writing it')
    .option('--json', 'print the result as JSON')
    .action(
      define<[{ local?: boolean; dryRun?: boolean; json?: boolean }]>(async (ctx, options) => {
        const opening = ctx.open();
        const { initClaude } = await import('../../core/init-claude.ts');
        const deps = await opening;
        const command = await hookCommand(ctx.env);
        const result = await initClaude(deps.git, {
          command: command.base,
          ...(options.local ? { local: true } : {}),
          ...(options.dryRun ? { dryRun: true } : {}),
        });
        ctx.result({ ...result, envs_on_path: command.onPath }, (r) => initText(r, command.onPath));
      }),
    );
}

function initText(result: InitClaudeResult, onPath: boolean): string {
  const file = printable(result.file);
  if (!result.changed) return `${file} has envs's worktree hooks already: nothing to do.\n`;
  const lines = [printableLines(result.diff).trimEnd()];
  lines.push(
    result.dry_run
      ? `Would add the ${result.added.join(' and ')} hook${result.added.length > 1 ? 's' : ''} to ${file} (--dry-run: nothing written).`
      : `Added the ${result.added.join(' and ')} hook${result.added.length > 1 ? 's' : ''} to ${file}: \`claude --worktree <name>\` now makes an env (branch worktree-<name>).`,
  );
  if (result.excluded) {
    lines.push(
      `${printable(result.file)} is this machine's own: added to ${printable(result.excluded)} so git does not offer to commit it.`,
    );
  }
  if (!onPath) {
    lines.push(
      '`envs` is not on PATH, so the hooks run this copy by its absolute path: fine for settings.local.json; for a settings file you commit, put envs on PATH (`npm link`) and run `envs init claude` again after removing these entries.',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The command the hooks run: `envs` when the `envs` on PATH is this very CLI (a settings file stays
 * portable), else this CLI by absolute path, with the Node.js running it (Claude Code's shell may find
 * neither `envs` nor the right `node`).
 */
async function hookCommand(env: NodeJS.ProcessEnv): Promise<{ base: string; onPath: boolean }> {
  const self = await realpath(process.argv[1] ?? '').catch(() => process.argv[1] ?? '');
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    if ((await realpath(join(dir, 'envs')).catch(() => undefined)) === self) return { base: 'envs', onPath: true };
  }
  return { base: `${quote(process.execPath)} ${quote(self)}`, onPath: false };
}

/** POSIX shell single quotes (Claude Code runs hook commands through a shell). */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
