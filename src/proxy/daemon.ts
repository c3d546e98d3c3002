import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import { selfIdentity } from './control.ts';
import { ensureToken, proxyFiles, readPidFile, writePidFile } from './files.ts';
import { type Handler, startRouter } from './server.ts';

export interface DaemonOptions {
  home: string;
  port: number;
  /** The envs bin (the dashboard runs the CLI's own commands with it). */
  cliPath: string;
  /** Ends the router (SIGTERM through the CLI's runner). */
  signal: AbortSignal;
  /** The dashboard for `envs.localhost` (wired at the composition root); a placeholder without it. */
  dashboard?: (ctx: { home: string; port: number; token: string; cliPath: string }) => Handler;
  log?: (line: string) => void;
}

/**
 * The router in the foreground (`envs proxy run`, what `envs proxy start` detaches). It writes its pid file
 * once it listens, and ends by itself when its ENVS_HOME is gone (a deleted test home leaks nothing) or its
 * pid file names another process (a newer router took over).
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const files = proxyFiles(options.home);
  const token = await ensureToken(files);
  const router = await startRouter({
    home: options.home,
    port: options.port,
    token,
    log,
    ...(options.dashboard
      ? { dashboard: options.dashboard({ home: options.home, port: options.port, token, cliPath: options.cliPath }) }
      : {}),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new EnvsError(
        'PROXY_FAILED',
        `Port ${options.port} is taken on loopback: another program (or another user's router) holds it.`,
        {
          hint: 'Set ENVS_PROXY_PORT to a free port.',
        },
      );
    }
    throw error;
  });
  const started = new Date();
  await writePidFile(files.pid, {
    pid: process.pid,
    identity: await selfIdentity(),
    port: options.port,
    home: options.home,
    started_at: started.toISOString(),
  });
  log(
    `listening on ${router.addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(' and ')} port ${options.port} (pid ${process.pid})`,
  );

  await new Promise<void>((resolve) => {
    const watchdog = setInterval(() => {
      if (!existsSync(options.home)) {
        log(`${options.home} is gone: stopping`);
        return finish();
      }
      void readPidFile(files.pid).then((current) => {
        if (current?.pid !== process.pid) {
          log('the pid file names another process: stopping');
          finish();
        }
      });
    }, 1_000);
    const finish = () => {
      clearInterval(watchdog);
      options.signal.removeEventListener('abort', finish);
      resolve();
    };
    if (options.signal.aborted) finish();
    options.signal.addEventListener('abort', finish);
  });
  await router.close();
  const current = await readPidFile(files.pid);
  if (current?.pid === process.pid) await rm(files.pid, { force: true });
  log('stopped');
}
