import type { Command } from 'commander';
import type { GcItem, GcResult } from '../../core/gc.ts';
import { printable } from '../../core/naming.ts';
import type { Define } from '../program.ts';

export function defineGc(program: Command, define: Define): void {
  program
    .command('gc')
    .description(
      'Remove what crashes and deleted worktrees or state directories left behind: interrupted envs, labelled resources, leases and files no env record owns (positive evidence only).',
    )
    .option('--dry-run', 'say what would be removed, removing nothing')
    .option('--json', 'print every item as JSON')
    .action(
      define<[{ dryRun?: boolean; json?: boolean }]>(async (ctx, options) => {
        const { runGc } = await import('../../core/gc.ts');
        const { gcDeps } = await import('../../wire.ts');
        const deps = await gcDeps({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, dryRun: Boolean(options.dryRun) });
        const result = await runGc(deps, { dryRun: Boolean(options.dryRun), signal: ctx.signal });
        ctx.result(result, gcText);
      }),
    );
}

function gcText(result: GcResult): string {
  if (result.items.length === 0) return `Nothing left behind in ${result.home} on ${result.engine.endpoint}.\n`;
  const lines = result.items.map(line);
  const verb = result.dry_run ? 'would remove' : 'removed';
  lines.push(`${verb} ${result.removed}, kept ${result.kept}${result.dry_run ? ' (dry run: nothing was changed)' : ''}`);
  return `${lines.join('\n')}\n`;
}

function line(item: GcItem): string {
  const what = `${item.action.padEnd(12)} ${item.kind} ${printable(item.name)}${item.project && item.project !== item.name ? ` (${printable(item.project)})` : ''}`;
  return `${what}: ${printable(item.reason)}${item.kept_because ? `; kept because ${printable(item.kept_because)}` : ''}`;
}
