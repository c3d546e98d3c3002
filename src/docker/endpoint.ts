import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
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

/**
 * dockerode options for an endpoint, from the given environment only (the endpoint's connection variables
 * merged over the command's: a context's TLS files). docker-modem reads DOCKER_HOST, DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH from process.env and merges them under ours, so every key it might take from there is
 * set here (undefined when unused): dockerode talks to the engine Compose talks to, nothing else.
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
  const certs = env.DOCKER_CERT_PATH;
  const tls = ((env.DOCKER_TLS_VERIFY ?? '') !== '' && env.DOCKER_TLS_VERIFY !== '0') || url.port === '2376' || certs !== undefined;
  const dir = certs ?? join(env.HOME || homedir(), '.docker');
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name)) : undefined);
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
