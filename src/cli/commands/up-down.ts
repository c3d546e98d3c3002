import type { Command } from 'commander';
import { envSummary } from '../output.ts';
import type { Define } from '../program.ts';

const ENV_ARG = 'branch, env name or worktree path (name:<env name> or branch:<branch> when one word names two envs)';

export function defineUpDown(program: Command, define: Define): void {
  program
    .command('up')
    .description("Start an env's containers again (same ports, same data), applying compose-file changes.")
    .argument('<env>', ENV_ARG)
    .option(
      '--reconfigure',
      'let the env change what it is made of (other compose files, or none) and remove its containers of services that are gone',
    )
    .option('--json', 'print the env as JSON')
    .action(
      define<[string, { reconfigure?: boolean; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open({ pingEarly: true }); // git and the engine ping start at once; the command's code loads meanwhile
        const [{ upEnv }, { afterStart }] = await Promise.all([import('../../core/updown.ts'), import('../../proxy/auto.ts')]);
        const deps = await opening;
        const view = await upEnv(deps, env, {
          cwd: ctx.cwd,
          signal: ctx.signal,
          onProgress: ctx.progress,
          reconfigure: Boolean(options.reconfigure),
        });
        await afterStart({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, progress: ctx.progress }, view);
        ctx.result(view, (v) => envSummary(v));
      }),
    );
  program
    .command('down')
    .description("Stop an env's containers, keeping its data, ports and worktree.")
    .argument('<env>', ENV_ARG)
    .option('--json', 'print the env as JSON')
    .action(
      define<[string, { json?: boolean }]>(async (ctx, env) => {
        const opening = ctx.open({ pingEarly: true }); // git and the engine ping start at once; the command's code loads meanwhile
        const { downEnv } = await import('../../core/updown.ts');
        const deps = await opening;
        const view = await downEnv(deps, env, { cwd: ctx.cwd, signal: ctx.signal, onProgress: ctx.progress });
        ctx.result(view, (v) => envSummary(v));
      }),
    );
}
