import type { Command } from 'commander';
import type { UnmanagedWorktree } from '../../core/adopt.ts';
import { printable } from '../../core/naming.ts';
import { envList, table } from '../output.ts';
import type { Define } from '../program.ts';

export function defineList(program: Command, define: Define): void {
  program
    .command('list')
    .alias('ls')
    .description('Every env of this repository: status, ports, URL, worktree, dirty and merged flags.')
    .option('--unmanaged', 'list the worktrees of this repository that have no env instead (for `envs adopt <path>`)')
    .option('--json', 'print the envs as a JSON array')
    .action(
      define<[{ unmanaged?: boolean; json?: boolean }]>(async (ctx, options) => {
        const opening = ctx.open(); // spawns git at once; the command's code loads meanwhile
        const [{ listEnvs }, { unmanagedWorktrees }] = await Promise.all([import('../../core/list.ts'), import('../../core/adopt.ts')]);
        const deps = await opening;
        if (options.unmanaged) {
          ctx.result(await unmanagedWorktrees(deps), unmanagedText);
          return;
        }
        if (ctx.json) {
          ctx.result(await listEnvs(deps), envList);
          return;
        }
        // People also see the worktrees without an env; --json stays an array of envs.
        const [views, others] = await Promise.all([listEnvs(deps), unmanagedWorktrees(deps)]);
        ctx.result(
          views,
          (v) => envList(v) + (others.length > 0 ? `\nWorktrees without an env (envs adopt <path>):\n${rows(others)}` : ''),
        );
      }),
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
