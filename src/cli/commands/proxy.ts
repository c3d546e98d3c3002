import type { Command } from 'commander';
import { printable as p } from '../../core/naming.ts';
import type { RouterStatus } from '../../proxy/control.ts';
import { envsHome } from '../../state/paths.ts';
import { table } from '../output.ts';
import type { Define } from '../program.ts';

function statusText(status: RouterStatus): string {
  if (!status.running) return 'The preview router is not running (`envs proxy start` starts it; create and up do too).\n';
  const uptime = status.uptime_s < 120 ? `${status.uptime_s} s` : `${Math.round(status.uptime_s / 60)} min`;
  const lines = [
    `● router running (pid ${status.pid}) on 127.0.0.1:${status.port} and [::1]:${status.port}, up ${uptime}${status.responding ? '' : ' — NOT answering'}`,
    `  log  ${p(status.log)}`,
  ];
  if (status.routes.length > 0) {
    lines.push(
      table([
        ['  URL', 'ENV', 'STATUS', 'TARGET'],
        ...status.routes.map((r) => [`  ${p(r.url)}`, p(r.env), p(r.status), `${p(r.target)} → ${r.port}`]),
      ]),
    );
  } else lines.push('  no envs to route yet');
  return `${lines.join('\n')}\n`;
}

export function defineProxy(program: Command, define: Define): void {
  const proxy = program.command('proxy').description('The preview router: http://<env>.localhost:<port> (one per user, loopback only).');
  proxy
    .command('start')
    .description('Start the router in the background (ENVS_PROXY_PORT, default 1355).')
    .option('--json', 'print its status as JSON')
    .action(
      define<[{ json?: boolean }]>(async (ctx) => {
        const { startRouterDaemon } = await import('../../proxy/control.ts');
        const { proxyPort } = await import('../../proxy/auto.ts');
        const home = envsHome(ctx.env, ctx.cwd);
        const { started, status } = await startRouterDaemon({
          home,
          port: proxyPort(ctx.env),
          cliPath: process.argv[1] as string,
          env: ctx.env,
        });
        ctx.result({ started, ...status }, (s) => `${started ? '' : 'Already running.\n'}${statusText(s)}`);
      }),
    );
  proxy
    .command('stop')
    .description('Stop the router (only the process its pid file proves to be it).')
    .option('--json', 'print what was stopped as JSON')
    .action(
      define<[{ json?: boolean }]>(async (ctx) => {
        const { stopRouterDaemon } = await import('../../proxy/control.ts');
        const result = await stopRouterDaemon(envsHome(ctx.env, ctx.cwd));
        ctx.result(result, (r) => (r.stopped ? `Stopped the router (pid ${r.pid}).\n` : 'The router was not running.\n'));
      }),
    );
  proxy
    .command('status')
    .description('Whether the router runs: pid, port, uptime, routes.')
    .option('--json', 'print its status as JSON')
    .action(
      define<[{ json?: boolean }]>(async (ctx) => {
        const { routerStatus } = await import('../../proxy/control.ts');
        ctx.result(await routerStatus(envsHome(ctx.env, ctx.cwd)), statusText);
      }),
    );
  proxy
    .command('run', { hidden: true })
    .description('Run the router in the foreground (what `start` detaches).')
    .action(
      define<[]>(async (ctx) => {
        ctx.endOnSignal();
        const [{ runDaemon }, { proxyPort }, { dashboardHandler }] = await Promise.all([
          import('../../proxy/daemon.ts'),
          import('../../proxy/auto.ts'),
          import('../../proxy/dashboard/index.ts'),
        ]);
        await runDaemon({
          home: envsHome(ctx.env, ctx.cwd),
          port: proxyPort(ctx.env),
          cliPath: process.argv[1] as string,
          signal: ctx.signal,
          dashboard: dashboardHandler,
        });
      }),
    );
}
