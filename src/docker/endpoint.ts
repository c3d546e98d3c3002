import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { run } from '../process/run.ts';

export const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/**
 * The engine endpoint the docker CLI would use: DOCKER_HOST, else the active context's endpoint
 * (DOCKER_CONTEXT or `currentContext` in the CLI config), else the default socket. dockerode ignores
 * contexts, so we resolve it once and hand the same DOCKER_HOST to dockerode and to Compose.
 */
export async function resolveDockerHost(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  const context = env.DOCKER_CONTEXT ?? (await currentContext(env));
  if (!context || context === 'default') return DEFAULT_SOCKET;
  const result = await run('docker', ['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}', context], { env });
  return result.exitCode === 0 && result.stdout.trim() ? result.stdout.trim() : DEFAULT_SOCKET;
}

async function currentContext(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { currentContext?: string };
    return config.currentContext;
  } catch {
    return undefined;
  }
}

/** dockerode options for an endpoint; undefined lets docker-modem read DOCKER_HOST/DOCKER_TLS_* itself. */
export function dockerodeOptions(host: string): { socketPath: string } | undefined {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  return undefined;
}
