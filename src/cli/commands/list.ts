import type { Command } from 'commander';
import type { UnmanagedWorktree } from '../../core/adopt.ts';
import { printable } from '../../core/naming.ts';
import { envList, table } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineList(program: Command, define: Define): void {
  commandFrom(program, SPECS.list)
    .alias('ls')
    .option('--json', 'print the envs as a JSON array')
    .action(
      define<[{ json?: boolean; merged?: boolean; idle?: boolean; idleDays?: number; base?: string; unmanaged?: boolean }]>(
        async (ctx, options) => {
          const opening = ctx.open(); // spawns git at once; the command's code loads meanwhile
          const [{ listEnvs, listOptionsFrom }, { unmanagedWorktrees }] = await Promise.all([
            import('../../core/list.ts'),
            import('../../core/adopt.ts'),
          ]);
          const deps = await opening;
          if (options.unmanaged) {
            ctx.result(await unmanagedWorktrees(deps), unmanagedText);
            return;
          }
          const listing = listOptionsFrom(options);
          // People also see the worktrees without an env (not when filtering); --json stays an array of envs.
          if (ctx.json || options.merged || options.idle) {
            ctx.result(await listEnvs(deps, listing), envList);
            return;
          }
          const [views, others] = await Promise.all([listEnvs(deps, listing), unmanagedWorktrees(deps)]);
          ctx.result(
            views,
            (v) => envList(v) + (others.length > 0 ? `\nWorktrees without an env (envs adopt <path>):\n${rows(others)}` : ''),
          );
        },
      ),
    );
}

function unmanagedText(worktrees: UnmanagedWorktree[]): string {
  if (worktrees.length === 0) return 'Every worktree of this repository has an env.\n';
  return rows(worktrees);
}

function rows(worktrees: UnmanagedWorktree[]): string {
  const lines = worktrees.map((w) => [
    `  ${printable(w.path)}`,
    w.branch ? printable(w.branch) : `(detached at ${w.head?.slice(0, 8) ?? '?'})`,
  ]);
  return `${table(lines)}\n`;
}
