import type { Command } from 'commander';
import { envList } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineList(program: Command, define: Define): void {
  commandFrom(program, SPECS.list)
    .alias('ls')
    .option('--json', 'print the envs as a JSON array')
    .action(
      define<[{ json?: boolean; merged?: boolean; idle?: boolean; idleDays?: number; base?: string }]>(async (ctx, options) => {
        const idleDays = options.idleDays;
        const opening = ctx.open(); // spawns git at once; the command's code loads meanwhile
        const { listEnvs } = await import('../../core/list.ts');
        const deps = await opening;
        const views = await listEnvs(deps, {
          ...(options.base !== undefined ? { base: options.base } : {}),
          ...(idleDays !== undefined ? { idleDays } : {}),
          merged: Boolean(options.merged),
          idle: Boolean(options.idle),
        });
        ctx.result(views, envList);
      }),
    );
}
