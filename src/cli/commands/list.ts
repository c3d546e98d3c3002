import type { Command } from 'commander';
import { envList } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineList(program: Command, define: Define): void {
  commandFrom(program, SPECS.list)
    .alias('ls')
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
