import type { Command } from 'commander';
import { EnvsError } from '../../errors.ts';
import type { Define } from '../program.ts';

export function defineOpen(program: Command, define: Define): void {
  program
    .command('open')
    .description("Print an env's preview URL (http://<env>.localhost:<port>); --browser opens it.")
    .argument('<env>', 'branch, env name or worktree path')
    .option('--browser', 'open it in the default browser (xdg-open / open)')
    .option('--json', 'print the URLs as JSON')
    .action(
      define<[string, { browser?: boolean; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open();
        const [{ infoEnv }, { ensureRouter, previewTarget }] = await Promise.all([
          import('../../core/list.ts'),
          import('../../proxy/auto.ts'),
        ]);
        const deps = await opening;
        const view = await infoEnv(deps, env, { cwd: ctx.cwd });
        const preview = previewTarget(view);
        if (!preview) {
          throw new EnvsError('NO_PREVIEW', `Env ${view.name} has no HTTP service or host process with a port to preview.`, {
            hint: 'Publish an HTTP port in the compose file, add a host process with a port, or set `preview: <service>` in envs.yaml.',
          });
        }
        // With ENVS_PROXY=off and no router running, the router's URL would be refused: the target's own one works.
        const routed = (await ensureRouter(ctx)) !== undefined;
        const direct = view.direct_urls[preview.name];
        const shown = routed || !direct ? preview.url : direct;
        if (!routed && !ctx.json) {
          const instead = direct ? `; this is ${preview.name}'s own address` : '';
          ctx.out.stderr(
            `warning: the preview router is not running (ENVS_PROXY=off)${instead}. \`envs proxy start\` serves ${preview.url}\n`,
          );
        }
        if (options.browser) {
          const { run } = await import('../../process/run.ts');
          await run(process.platform === 'darwin' ? 'open' : 'xdg-open', [shown], { signal: ctx.signal });
        }
        ctx.result({ name: view.name, url: shown, routed, urls: view.urls }, (r) => `${r.url}\n`);
      }),
    );
}
