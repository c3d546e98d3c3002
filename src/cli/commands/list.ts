import type { Command } from 'commander';
import { envList } from '../output.ts';
import type { Define } from '../program.ts';

export function defineList(program: Command, define: Define): void {
  program
    .command('list')
    .alias('ls')
    .description('Every env of this repository: status, ports, URL, worktree, dirty and merged flags.')
    .option('--json', 'print the envs as a JSON array')
    .action(
      define<[{ json?: boolean }]>(async (ctx) => {
        const opening = ctx.open(); // spawns git at once; the command's code loads meanwhile
        const { listEnvs } = await import('../../core/list.ts');
        const deps = await opening;
        ctx.result(await listEnvs(deps), envList);
      }),
    );
}
