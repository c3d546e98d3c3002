import type { EnvView } from '../core/view.ts';
import { EnvsError } from '../errors.ts';
import { envsHome } from '../state/paths.ts';
import { routerStatus, startRouterDaemon, waitForPreview } from './control.ts';
import { proxyPortFrom } from './targets.ts';

export interface AutoContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  progress?: (event: { step: string; message: string }) => void;
}

/** `ENVS_PROXY=off` turns the automatic router off (create/up/open do not start it). */
export function autoStartEnabled(env: NodeJS.ProcessEnv): boolean {
  return !/^(off|0|false|no)$/i.test(env.ENVS_PROXY ?? '');
}

/** The router's port from the environment, or a CONFIG_INVALID error naming the variable. */
export function proxyPort(env: NodeJS.ProcessEnv): number {
  const port = proxyPortFrom(env);
  if (port === undefined) {
    throw new EnvsError('CONFIG_INVALID', `ENVS_PROXY_PORT "${env.ENVS_PROXY_PORT}" is not a port number.`, {
      hint: 'Give a port between 1 and 65535 (default 1355).',
    });
  }
  return port;
}

/** Starts this user's router when it is not running (unless ENVS_PROXY=off); returns its port, or undefined. */
export async function ensureRouter(ctx: AutoContext): Promise<number | undefined> {
  const home = envsHome(ctx.env, ctx.cwd);
  if (!autoStartEnabled(ctx.env)) {
    const status = await routerStatus(home);
    return status.running ? status.port : undefined;
  }
  const port = proxyPort(ctx.env);
  const { status } = await startRouterDaemon({ home, port, cliPath: process.argv[1] as string, env: ctx.env });
  return status.running ? status.port : port;
}

/** The preview target of a view: its name and its URL (the one on `<host>.localhost` itself, not under it). */
export function previewTarget(view: Pick<EnvView, 'urls'>): { name: string; url: string } | undefined {
  const found = Object.entries(view.urls).find(([, url]) => /^http:\/\/[a-z0-9-]+\.localhost:\d+$/.test(url));
  return found ? { name: found[0], url: found[1] } : undefined;
}

/** The preview URL of a view. */
export function previewUrl(view: Pick<EnvView, 'urls'>): string | undefined {
  return previewTarget(view)?.url;
}

/**
 * After create/up: the router runs, and the preview URL is reported only once a request through the router
 * gets an answer below 500; else a warning says so. Envs without an HTTP target cost nothing.
 */
export async function afterStart(ctx: AutoContext, view: EnvView): Promise<void> {
  const url = previewUrl(view);
  let port: number | undefined;
  try {
    port = await ensureRouter(ctx);
  } catch (error) {
    view.warnings.push(
      `The preview router is not running: ${(error as Error).message}${EnvsError.is(error) && error.hint ? ` ${error.hint}` : ''}`,
    );
    return;
  }
  if (!url || port === undefined) return;
  const host = new URL(url).hostname;
  const timeoutMs = Number(ctx.env.ENVS_PROXY_READY_TIMEOUT ?? 20) * 1000;
  ctx.progress?.({ step: 'preview', message: `waiting for ${url} to answer through the router` });
  const { ready, last } = await waitForPreview(port, host, Number.isFinite(timeoutMs) ? timeoutMs : 20_000, ctx.signal);
  if (!ready) {
    view.warnings.push(
      `${url} did not answer below 500 within ${Math.round(timeoutMs / 1000)} s (last: ${last ? `${last.status}${last.ours ? ` ${last.ours}` : ''}` : 'no answer'}); it may still be starting.`,
    );
  }
}
