import type { Command } from 'commander';
import { destroySummary } from '../output.ts';
import type { Define } from '../program.ts';

export function defineDestroy(program: Command, define: Define): void {
  program
    .command('destroy')
    .alias('rm')
    .description('Remove an env: containers, volumes, networks, ports, worktree. The branch is kept.')
    .argument('<env>', 'branch, env name or worktree path')
    .option('-f, --force', 'also delete modified, untracked and precious ignored files in the worktree')
    .option('--json', 'print what was removed as JSON')
    .action(
      define<[string, { force?: boolean; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open(); // spawns git at once; the command's code loads meanwhile
        const { destroyEnv } = await import('../../core/destroy.ts');
        const deps = await opening;
        const result = await destroyEnv(deps, env, {
          force: Boolean(options.force),
          cwd: ctx.cwd,
          signal: ctx.signal,
          onProgress: ctx.progress,
        });
        ctx.result(result, destroySummary);
      }),
    );
}
