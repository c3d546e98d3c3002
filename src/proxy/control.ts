import { readFile, rm } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import { isAlive, killGroup, logTail, processIdentity, sleep, startDetached } from '../process/group.ts';
import { ensurePrivateDir } from '../state/atomic.ts';
import { type PidFile, proxyFiles, readPidFile } from './files.ts';
import { STATUS_PATH } from './targets.ts';

export interface RouteView {
  url: string;
  env: string;
  branch: string;
  repo: string;
  status: string;
  target: string;
  kind: 'service' | 'process';
  port: number;
}

export type RouterStatus =
  | { running: false; log: string }
  | {
      running: true;
      pid: number;
      port: number;
      /** False when the process is there but did not answer its status request. */
      responding: boolean;
      started_at: string;
      uptime_s: number;
      routes: RouteView[];
      log: string;
    };

/** Whether the pid file names a live process that is our router (same start time, `proxy run` in its command line). */
async function ours(pidFile: PidFile | undefined): Promise<PidFile | undefined> {
  if (!pidFile || !(await isAlive(pidFile.pid, pidFile.identity))) return undefined;
  const cmdline = await readFile(`/proc/${pidFile.pid}/cmdline`, 'utf8').catch(() => undefined);
  // Without /proc (macOS) the start-time identity is empty: the pid's liveness is all there is.
  return cmdline === undefined || /\0proxy\0run(\0|$)/.test(cmdline) ? pidFile : undefined;
}

/** GET on the router itself with the token; undefined when it does not answer in time. */
function askStatus(port: number, token: string): Promise<any | undefined> {
  return new Promise((resolve) => {
    const req = http().request(
      { host: '127.0.0.1', port, path: STATUS_PATH, headers: { host: `127.0.0.1:${port}`, 'x-envs-token': token }, timeout: 2_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? JSON.parse(body) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export async function routerStatus(home: string): Promise<RouterStatus> {
  const files = proxyFiles(home);
  const pidFile = await ours(await readPidFile(files.pid));
  if (!pidFile) return { running: false, log: files.log };
  const token = (await readFile(files.token, 'utf8').catch(() => '')).trim();
  const answer = await askStatus(pidFile.port, token);
  const responding = answer?.pid === pidFile.pid;
  return {
    running: true,
    pid: pidFile.pid,
    port: pidFile.port,
    responding,
    started_at: pidFile.started_at,
    uptime_s: Math.round((Date.now() - Date.parse(pidFile.started_at)) / 1000),
    routes: responding ? answer.routes : [],
    log: files.log,
  };
}

export interface StartOptions {
  home: string;
  port: number;
  /** The envs bin the router runs as (`<node> <cliPath> proxy run`). */
  cliPath: string;
  env: NodeJS.ProcessEnv;
}

/** Starts the router unless it runs; waits until it listens. */
export async function startRouterDaemon(options: StartOptions): Promise<{ started: boolean; status: RouterStatus }> {
  const current = await routerStatus(options.home);
  if (current.running) return { started: false, status: current };
  const files = proxyFiles(options.home);
  await ensurePrivateDir(files.dir);
  const offset = await readFile(files.log).then(
    (b) => b.length,
    () => 0,
  );
  const pid = await startDetached(process.execPath, [options.cliPath, 'proxy', 'run'], {
    cwd: options.home,
    env: { ...options.env, ENVS_HOME: options.home, ENVS_PROXY_PORT: String(options.port) },
    logFile: files.log,
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await sleep(50);
    const status = await routerStatus(options.home);
    // Another start won the race: its router serves.
    if (status.running && status.responding) return { started: status.pid === pid, status };
    if (!(await isAlive(pid))) {
      const again = await routerStatus(options.home);
      if (again.running && again.responding) return { started: false, status: again };
      const said = await logTail(files.log, offset, 5);
      throw new EnvsError('PROXY_FAILED', `The preview router did not start${said ? `: ${said.split('\n').at(-1)}` : '.'}`, {
        hint: `See ${files.log}. Another program may hold port ${options.port}: set ENVS_PROXY_PORT to another port.`,
      });
    }
  }
  throw new EnvsError('PROXY_FAILED', `The preview router (pid ${pid}) did not answer within 10 s.`, { hint: `See ${files.log}.` });
}

/** Stops our router (only a process the pid file proves to be it), waiting until it is gone. */
export async function stopRouterDaemon(home: string): Promise<{ stopped: boolean; pid?: number }> {
  const files = proxyFiles(home);
  const recorded = await readPidFile(files.pid);
  const pidFile = await ours(recorded);
  if (!pidFile) {
    // A stale file of a router that died (or a pid reused by another program): nothing to signal.
    if (recorded) await rm(files.pid, { force: true });
    return { stopped: false };
  }
  // The router leads its own session (started detached): its group is only itself.
  await killGroup(pidFile.pid, { graceMs: 3_000, identity: pidFile.identity });
  await rm(files.pid, { force: true });
  return { stopped: true, pid: pidFile.pid };
}

/** The identity to write into the pid file for this process. */
export async function selfIdentity(): Promise<string> {
  return processIdentity(process.pid);
}

// ---------------------------------------------------------------- readiness

export interface Probe {
  status: number;
  /** Our own error page (`x-envs-error`), not the app's answer. */
  ours: string | undefined;
}

/** One GET through the router on 127.0.0.1 with the preview's Host (Node does not resolve *.localhost). */
export function probe(port: number, host: string, timeoutMs = 2_000): Promise<Probe | undefined> {
  return new Promise((resolve) => {
    const req = http().request(
      { host: '127.0.0.1', port, path: '/', headers: { host: `${host}:${port}`, accept: 'text/html' }, timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        const ours = res.headers['x-envs-error'];
        resolve({ status: res.statusCode ?? 0, ours: typeof ours === 'string' ? ours : undefined });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Waits until the preview answers below 500 through the router (not with our own error page); false at the deadline. */
export async function waitForPreview(
  port: number,
  host: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ ready: boolean; last: Probe | undefined }> {
  const deadline = Date.now() + timeoutMs;
  let last: Probe | undefined;
  for (;;) {
    last = await probe(port, host, Math.min(2_000, Math.max(100, deadline - Date.now())));
    if (last && last.status < 500 && !last.ours) return { ready: true, last };
    if (Date.now() >= deadline || signal?.aborted) return { ready: false, last };
    await sleep(150);
  }
}

/**
 * `node:http` as CommonJS, loaded on first use: create and up load this module after every start, and an ESM
 * import of node:http fills in its WebSocket getter, which loads undici (~40 ms of CPU; see docker/api.ts).
 */
function http(): typeof import('node:http') {
  return process.getBuiltinModule('node:http');
}
