import type { Command } from 'commander';
import { envSummary } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineUpDown(program: Command, define: Define): void {
  commandFrom(program, SPECS.up)
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
          ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
        });
        await afterStart({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, progress: ctx.progress }, view);
        ctx.result(view, (v) => envSummary(v));
      }),
    );
  commandFrom(program, SPECS.down)
    .option('--json', 'print the env as JSON')
    .action(
      define<[string, { json?: boolean }]>(async (ctx, env) => {
        const opening = ctx.open({ pingEarly: true }); // git and the engine ping start at once; the command's code loads meanwhile
        const { downEnv } = await import('../../core/updown.ts');
        const deps = await opening;
        const view = await downEnv(deps, env, {
          cwd: ctx.cwd,
          signal: ctx.signal,
          onProgress: ctx.progress,
          ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
        });
        ctx.result(view, (v) => envSummary(v));
      }),
    );
}
