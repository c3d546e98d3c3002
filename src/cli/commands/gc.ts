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

const RESOURCES = new Set(['container', 'volume', 'network', 'image']);

/**
 * One line per item, but engine resources kept for the same reason (another state directory's, another host's:
 * on a shared engine, often dozens) are one line per reason, naming their projects; `--json` lists each.
 */
export function gcText(result: GcResult): string {
  if (result.items.length === 0) return `Nothing left behind in ${result.home} on ${result.engine.endpoint}.\n`;
  const groups = new Map<string, GcItem[]>();
  const lines: string[] = [];
  for (const item of result.items) {
    if (item.action !== 'kept' || !RESOURCES.has(item.kind) || !item.kept_because) {
      lines.push(line(item));
      continue;
    }
    const group = groups.get(item.kept_because);
    if (group) group.push(item);
    else {
      groups.set(item.kept_because, [item]);
      lines.push(`\0${item.kept_because}`);
    }
  }
  for (const [i, text] of lines.entries()) {
    if (!text.startsWith('\0')) continue;
    const items = groups.get(text.slice(1)) ?? [];
    if (items.length === 1 && items[0]) {
      lines[i] = line(items[0]);
      continue;
    }
    const projects = [...new Set(items.map((it) => it.project ?? it.name))];
    const named = projects.slice(0, 3).map(printable).join(', ') + (projects.length > 3 ? ', …' : '');
    lines[i] =
      `${'kept'.padEnd(12)} ${items.length} resources of ${projects.length} project${projects.length === 1 ? '' : 's'} (${named}); kept because ${printable(text.slice(1))}`;
  }
  const verb = result.dry_run ? 'would remove' : 'removed';
  lines.push(`${verb} ${result.removed}, kept ${result.kept}${result.dry_run ? ' (dry run: nothing was changed)' : ''}`);
  return `${lines.join('\n')}\n`;
}

function line(item: GcItem): string {
  const what = `${item.action.padEnd(12)} ${item.kind} ${printable(item.name)}${item.project && item.project !== item.name ? ` (${printable(item.project)})` : ''}`;
  return `${what}: ${printable(item.reason)}${item.kept_because ? `; kept because ${printable(item.kept_because)}` : ''}`;
}
