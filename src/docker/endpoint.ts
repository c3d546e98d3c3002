import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
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
  const dir = env.DOCKER_CONFIG ?? join(env.HOME || homedir(), '.docker');
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { currentContext?: string };
    return config.currentContext;
  } catch {
    return undefined;
  }
}

/**
 * dockerode options for an endpoint, from the given environment only. docker-modem reads DOCKER_HOST,
 * DOCKER_TLS_VERIFY, DOCKER_CERT_PATH from process.env and merges them under ours, so every key it might
 * take from there is set here (undefined when unused).
 */
export function dockerodeOptions(host: string, env: NodeJS.ProcessEnv): Docker.DockerOptions {
  const none = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  if (host.startsWith('unix://')) return { ...none, socketPath: host.slice('unix://'.length) };
  if (host.startsWith('npipe://')) return { ...none, socketPath: host.slice('npipe://'.length) };
  const url = new URL(host.includes('//') ? host : `tcp://${host}`);
  if (url.protocol === 'ssh:') {
    return {
      ...none,
      host: url.hostname,
      port: url.port || 22,
      protocol: 'ssh',
      username: url.username,
      sshOptions: { agent: env.SSH_AUTH_SOCK },
    };
  }
  const tls = (env.DOCKER_TLS_VERIFY ?? '') !== '' && env.DOCKER_TLS_VERIFY !== '0' ? true : url.port === '2376';
  const certs = env.DOCKER_CERT_PATH ?? join(env.HOME || homedir(), '.docker');
  const read = (name: string) => (existsSync(join(certs, name)) ? readFileSync(join(certs, name)) : undefined);
  return {
    ...none,
    host: url.hostname,
    port: url.port || (tls ? 2376 : 2375),
    protocol: tls ? 'https' : 'http',
    ...(tls ? { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') } : {}),
  };
}

/** The unix socket of an endpoint, when it is one. */
export function socketPathOf(host: string): string | undefined {
  return host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}
