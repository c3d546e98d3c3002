import type { Command } from 'commander';
import type { DestroyResult } from '../../core/destroy.ts';
import { printable } from '../../core/naming.ts';
import { isWithin } from '../../core/within.ts';
import { destroySummary } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineDestroy(program: Command, define: Define): void {
  commandFrom(program, SPECS.destroy)
    .alias('rm')
    .option('--json', 'print what was removed as JSON')
    .action(
      define<[string, { force?: boolean; worktree?: boolean; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open({ pingEarly: true }); // git and the engine ping start at once; the command's code loads meanwhile
        const { destroyEnv } = await import('../../core/destroy.ts');
        const deps = await opening;
        const result = await destroyEnv(deps, env, {
          force: Boolean(options.force),
          ...(options.worktree ? { worktree: 'remove' as const } : {}),
          cwd: ctx.cwd,
          signal: ctx.signal,
          onProgress: ctx.progress,
          ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
        });
        // The shell that ran this is left in a directory that is gone (prune refuses this case; a named destroy goes on).
        const cwdGone = result.worktree_removed && (await isWithin(ctx.cwd, result.worktree));
        ctx.result(result, (r) => destroySummary(r) + destroyNotes(r, cwdGone));
      }),
    );
}

/** What destroy left alone or kept, beyond the summary line. */
function destroyNotes(result: DestroyResult, cwdGone: boolean): string {
  const lines: string[] = [];
  if (cwdGone) {
    lines.push('  note: your current directory was inside the removed worktree, which no longer exists: cd elsewhere.');
  }
  if (result.worktree_note) lines.push(`  ${printable(result.worktree_note)}`);
  if (result.kept_refs.length > 0) {
    lines.push('  --force kept commits only the worktree had (restore with `git branch <name> <ref>`):');
    for (const kept of result.kept_refs) lines.push(`    ${kept.ref}  ${kept.commit.slice(0, 12)}  (was ${printable(kept.from)})`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
