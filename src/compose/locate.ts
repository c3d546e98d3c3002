import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** How to run Compose: a program and the arguments that come before ours. */
export interface ComposeCommand {
  file: string;
  prefix: string[];
}

/** Where the docker CLI looks for plugins (docker/cli `cli-plugins/manager`), user's first. */
function pluginDirs(env: NodeJS.ProcessEnv): string[] {
  const config = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  return [
    join(config, 'cli-plugins'),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
    '/Applications/Docker.app/Contents/Resources/cli-plugins',
  ];
}

/**
 * The Compose v2 plugin binary, run directly: it runs standalone when the docker CLI did not start it,
 * reads DOCKER_HOST and contexts itself, and skips the docker CLI's start and its plugin-metadata round
 * trip (~30 ms per call, measured). `ENVS_COMPOSE` overrides ("docker compose", or a path);
 * when no plugin is found, `docker compose` it is.
 */
export async function locateCompose(env: NodeJS.ProcessEnv): Promise<ComposeCommand> {
  const override = env.ENVS_COMPOSE?.trim();
  if (override) {
    const [file, ...prefix] = override.split(/\s+/);
    return { file: file as string, prefix };
  }
  for (const dir of pluginDirs(env)) {
    const candidate = join(dir, 'docker-compose');
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return { file: candidate, prefix: [] };
  }
  return { file: 'docker', prefix: ['compose'] };
}
