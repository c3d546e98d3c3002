import type { Command } from 'commander';
import { EnvsError } from '../../errors.ts';
import { envList } from '../output.ts';
import type { Define } from '../program.ts';

export function defineList(program: Command, define: Define): void {
  program
    .command('list')
    .alias('ls')
    .description('Every env of this repository: status, ports, URL, worktree, dirty, merged and idle flags.')
    .option('--merged', 'only the envs whose branch is merged into the base (what `prune --merged` considers)')
    .option('--idle', 'only the envs idle for --idle-days')
    .option('--idle-days <n>', 'days without a commit, a container start or an envs change that make an env idle (default 7)')
    .option('--base <ref>', "the branch `merged` is judged against (default: the repository's default branch)")
    .option('--json', 'print the envs as a JSON array')
    .action(
      define<[{ json?: boolean; merged?: boolean; idle?: boolean; idleDays?: string; base?: string }]>(async (ctx, options) => {
        const idleDays = options.idleDays === undefined ? undefined : Number(options.idleDays);
        if (idleDays !== undefined && !(Number.isFinite(idleDays) && idleDays >= 0)) {
          throw new EnvsError('USAGE', `--idle-days takes a number of days, not "${options.idleDays}".`, {
            hint: 'For example `envs list --idle --idle-days 3`.',
          });
        }
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
