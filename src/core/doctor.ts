import { access, constants, mkdir } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import type { ComposeClient, Engine } from './deps.ts';
import { compareVersions } from './version.ts';

export const REQUIRED = { node: '22.0.0', git: '2.36.0', compose: '2.24.4' } as const;

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failed check. */
  fix?: string;
}

export interface DoctorDeps {
  gitVersion(): Promise<string>;
  compose: Pick<ComposeClient, 'version'>;
  engine: Pick<Engine, 'info'>;
  home: string;
  nodeVersion: string;
  /** Checks that need a repository (its compose file renders); absent outside one. */
  repoChecks?: () => Promise<Check[]>;
}

/** `envs doctor`: every precondition of envs, each failure with the command that fixes it. */
export async function runDoctor(deps: DoctorDeps): Promise<{ ok: boolean; checks: Check[] }> {
  const checks = await Promise.all([
    versionCheck(
      'node',
      async () => deps.nodeVersion,
      REQUIRED.node,
      'Install Node.js 22 or later (24 LTS recommended), e.g. with nvm, fnm or your package manager.',
    ),
    versionCheck('git', deps.gitVersion, REQUIRED.git, 'Install git 2.36 or later.'),
    versionCheck(
      'docker compose',
      () => deps.compose.version(),
      REQUIRED.compose,
      'Install the Docker Compose v2 plugin 2.24.4 or later (docker-compose-plugin, or a current Docker Desktop).',
    ),
    engineCheck(deps),
    stateCheck(deps.home),
  ]);
  if (deps.repoChecks) checks.push(...(await deps.repoChecks()));
  return { ok: checks.every((c) => c.ok), checks };
}

async function versionCheck(name: string, read: () => Promise<string>, minimum: string, fix: string): Promise<Check> {
  try {
    const version = (await read()).replace(/^git version /, '').trim();
    const ok = compareVersions(version, minimum) >= 0;
    return { name, ok, detail: ok ? version : `${version} is older than ${minimum}`, ...(ok ? {} : { fix }) };
  } catch (error) {
    return { name, ok: false, detail: EnvsError.is(error) ? error.message : String(error), fix };
  }
}

async function engineCheck(deps: DoctorDeps): Promise<Check> {
  try {
    const info = await deps.engine.info();
    return { name: 'docker engine', ok: true, detail: `${info.version} at ${info.endpoint}` };
  } catch (error) {
    return {
      name: 'docker engine',
      ok: false,
      detail: EnvsError.is(error) ? error.message : String(error),
      fix: EnvsError.is(error) && error.hint ? error.hint : 'Start Docker.',
    };
  }
}

async function stateCheck(home: string): Promise<Check> {
  try {
    await mkdir(home, { recursive: true, mode: 0o700 });
    await access(home, constants.W_OK);
    return { name: 'state directory', ok: true, detail: home };
  } catch (error) {
    return {
      name: 'state directory',
      ok: false,
      detail: `${home}: ${(error as Error).message}`,
      fix: 'Make it writable, or point ENVS_HOME at a directory you own.',
    };
  }
}
