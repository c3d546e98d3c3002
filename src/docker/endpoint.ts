import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvsError } from '../errors.ts';

export const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';
const TLS_VARIABLES = ['DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'] as const;

/** The engine envs talks to, resolved once: dockerode and Compose both get exactly this. */
export interface EngineEndpoint {
  /** In DOCKER_HOST form: `unix:///…`, `tcp://…`, `ssh://…`. */
  host: string;
  /** The variables Compose runs with to reach it (DOCKER_HOST, and a context's TLS files). */
  env: Record<string, string>;
}

/**
 * The engine endpoint the docker CLI would use: DOCKER_HOST, else the active context's endpoint
 * (DOCKER_CONTEXT or `currentContext` in the CLI config), else the default socket. A context that does not
 * exist is an error naming it — never a fall back to the default socket, which may be another engine than
 * the one Compose would then fail to reach. Contexts are read from the docker CLI's store directly
 * (`contexts/meta/<sha256 of the name>/meta.json`), so no docker process runs.
 */
export async function resolveEngine(env: NodeJS.ProcessEnv): Promise<EngineEndpoint> {
  if (env.DOCKER_HOST) {
    const tls = Object.fromEntries(TLS_VARIABLES.filter((k) => env[k]).map((k) => [k, env[k] as string]));
    return { host: env.DOCKER_HOST, env: { DOCKER_HOST: env.DOCKER_HOST, ...tls } };
  }
  const config = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  const chosen = env.DOCKER_CONTEXT ? { name: env.DOCKER_CONTEXT, by: 'DOCKER_CONTEXT' } : await currentContext(config);
  if (!chosen || chosen.name === 'default') return { host: DEFAULT_SOCKET, env: { DOCKER_HOST: DEFAULT_SOCKET } };

  const digest = createHash('sha256').update(chosen.name).digest('hex');
  const meta = await readFile(join(config, 'contexts', 'meta', digest, 'meta.json'), 'utf8').then(
    (text) => JSON.parse(text) as { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } },
    () => undefined,
  );
  const docker = meta?.Endpoints?.docker;
  if (!docker?.Host) {
    throw new EnvsError('DOCKER_CONTEXT_UNKNOWN', `The docker context "${chosen.name}" (from ${chosen.by}) does not exist.`, {
      hint: `\`docker context ls\` lists the contexts: name one of them${chosen.by === 'DOCKER_CONTEXT' ? ' in DOCKER_CONTEXT, or unset it' : ', or `docker context use default`'}. Nothing was changed.`,
    });
  }
  const tls = join(config, 'contexts', 'tls', digest, 'docker');
  const hasTls = await stat(join(tls, 'ca.pem')).then(
    () => true,
    () => false,
  );
  return {
    host: docker.Host,
    env: {
      DOCKER_HOST: docker.Host,
      ...(hasTls ? { DOCKER_CERT_PATH: tls, ...(docker.SkipTLSVerify ? {} : { DOCKER_TLS_VERIFY: '1' }) } : {}),
    },
  };
}

/**
 * The environment Compose runs with: the resolved endpoint said explicitly, and no DOCKER_CONTEXT, so
 * Compose can never pick another engine than the one envs checked.
 */
export function composeEnvironment(env: NodeJS.ProcessEnv, endpoint: EngineEndpoint): NodeJS.ProcessEnv {
  const { DOCKER_CONTEXT: _context, ...rest } = env;
  return { ...rest, ...endpoint.env };
}

async function currentContext(config: string): Promise<{ name: string; by: string } | undefined> {
  const file = join(config, 'config.json');
  try {
    const name = (JSON.parse(await readFile(file, 'utf8')) as { currentContext?: string }).currentContext;
    return name ? { name, by: `currentContext in ${file}` } : undefined;
  } catch {
    return undefined;
  }
}

export interface DockerodeOptions {
  socketPath?: string;
  protocol?: 'http' | 'https' | 'ssh';
  host?: string;
  port?: string;
  username?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * dockerode options for an endpoint and its connection variables (EngineEndpoint.env), so dockerode talks to
 * the engine Compose talks to — never to whatever docker-modem would read from this process's environment.
 */
export function dockerodeOptions(host: string, connection: Record<string, string> = {}): DockerodeOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host);
  if (url.protocol === 'ssh:') return { protocol: 'ssh', host: url.hostname, port: url.port || '22', username: url.username };
  const certs = connection.DOCKER_CERT_PATH;
  const tls = connection.DOCKER_TLS_VERIFY === '1' || url.port === '2376' || certs !== undefined;
  return {
    protocol: tls ? 'https' : 'http',
    host: url.hostname,
    port: url.port || (tls ? '2376' : '2375'),
    ...(certs
      ? {
          ca: readFileSync(join(certs, 'ca.pem')),
          cert: readFileSync(join(certs, 'cert.pem')),
          key: readFileSync(join(certs, 'key.pem')),
        }
      : {}),
  };
}
