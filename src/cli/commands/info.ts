import type { Command } from 'commander';
import { envInfo } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineInfo(program: Command, define: Define): void {
  commandFrom(program, SPECS.info)
    .option('--json', 'print the env as JSON')
    .action(
      define<[string, { showSecrets?: boolean; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open(); // spawns git at once; the command's code loads meanwhile
        const { infoEnv } = await import('../../core/list.ts');
        const deps = await opening;
        const view = await infoEnv(deps, env, { showSecrets: Boolean(options.showSecrets), cwd: ctx.cwd });
        ctx.result(view, envInfo);
      }),
    );
}
