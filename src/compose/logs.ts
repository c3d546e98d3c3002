import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EnvRecord } from '../core/record.ts';
import { locateCompose } from './locate.ts';

/** Compose variables that would point `docker compose logs` at another project (we say -p and -f). */
const STRIPPED = ['COMPOSE_PROJECT_NAME', 'COMPOSE_FILE', 'COMPOSE_PROFILES', 'COMPOSE_PATH_SEPARATOR', 'COMPOSE_ENV_FILES'];

export interface ComposeLogsCommand {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * `docker compose logs` for an env's services (`envs logs` runs it on the terminal, `envs mcp` collects it).
 * Without the generated file, Compose finds the project by its labels; `/` holds no compose file for it to
 * pick up.
 */
export async function composeLogsCommand(
  record: EnvRecord,
  env: NodeJS.ProcessEnv,
  options: { follow?: boolean; tail?: number; name?: string; noColor?: boolean },
): Promise<ComposeLogsCommand> {
  const compose = await locateCompose(env);
  const hasFile = await stat(record.composeFile).then(
    () => true,
    () => false,
  );
  const projectDir = (await stat(record.projectDir).then(
    (s) => s.isDirectory(),
    () => false,
  ))
    ? record.projectDir
    : dirname(record.composeFile);
  const args = [
    ...compose.prefix,
    '-p',
    record.project,
    ...(hasFile ? ['-f', record.composeFile, '--project-directory', projectDir] : []),
    'logs',
    ...(options.noColor ? ['--no-color'] : []),
    ...(options.follow ? ['--follow'] : []),
    ...(options.tail !== undefined ? ['--tail', String(options.tail)] : []),
    ...(options.name !== undefined ? [options.name] : []),
  ];
  return {
    file: compose.file,
    args,
    cwd: hasFile ? projectDir : '/',
    env: Object.fromEntries(Object.entries(env).filter(([key]) => !STRIPPED.includes(key))),
  };
}
