import { access, constants, mkdir } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import type { ComposeClient, Engine } from './deps.ts';
import { compareVersions } from './version.ts';

// node: package.json's engines (22.18 runs .ts type-stripped and has every API envs uses).
export const REQUIRED = { node: '22.18.0', git: '2.36.0', compose: '2.24.4' } as const;

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failed check. */
  fix?: string;
}

/** A state file envs cannot read. */
export interface StateProblem {
  kind: 'record' | 'registry' | 'lock';
  file: string;
  reason: string;
  /** False for a file written by a newer envs: not damaged, and never moved. */
  fixable: boolean;
}

/** The state directory's files, checked and repaired (see wire.ts for the real one). */
export interface StateDoctor {
  /** Every record, registry and lock owner file that cannot be read. */
  scan(): Promise<StateProblem[]>;
  /**
   * Moves each fixable damaged file aside (`<file>.corrupt-<time>`, never deleted) and rebuilds what can be
   * derived (the port registry from the records and the engine's labelled containers). One line per action.
   */
  fix(problems: StateProblem[]): Promise<string[]>;
}

export interface DoctorDeps {
  gitVersion(): Promise<string>;
  compose: Pick<ComposeClient, 'version'>;
  engine: Pick<Engine, 'info'>;
  home: string;
  nodeVersion: string;
  /** Checks that need a repository (its compose file renders); absent outside one. */
  repoChecks?: () => Promise<Check[]>;
  state?: StateDoctor;
  /** `--fix`: repair damaged state files. */
  fix?: boolean;
}

export interface DoctorResult {
  ok: boolean;
  checks: Check[];
  /** What `--fix` did, one line per action. */
  fixed?: string[];
}

/** `envs doctor`: every precondition of envs, each failure with the command that fixes it. */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorResult> {
  let fixed: string[] | undefined;
  if (deps.fix && deps.state) {
    const problems = await deps.state.scan();
    fixed = problems.some((p) => p.fixable) ? await deps.state.fix(problems) : [];
  }
  const checks = await Promise.all([
    versionCheck(
      'node',
      async () => deps.nodeVersion,
      REQUIRED.node,
      `Install Node.js ${REQUIRED.node.replace(/\.0$/, '')} or later (24 LTS recommended), e.g. with nvm, fnm or your package manager.`,
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
    ...(deps.state ? [stateFilesCheck(deps.state)] : []),
  ]).then((all) => all.filter((c) => c !== undefined));
  if (deps.repoChecks) checks.push(...(await deps.repoChecks()));
  return { ok: checks.every((c) => c.ok), checks, ...(fixed ? { fixed } : {}) };
}

/** Undefined when the state directory itself is unusable: its own check says so. */
async function stateFilesCheck(state: StateDoctor): Promise<Check | undefined> {
  try {
    const problems = await state.scan();
    if (problems.length === 0) return { name: 'state files', ok: true, detail: 'every record, the port registry and the locks read' };
    const fixable = problems.some((p) => p.fixable);
    return {
      name: 'state files',
      ok: false,
      detail: problems.map((p) => `${p.file}: ${p.reason}`).join('; '),
      fix: fixable
        ? 'Run `envs doctor --fix`: it moves each damaged file aside (to <file>.corrupt-<time>, never deleting it) and rebuilds the port registry from the env records and the engine.'
        : 'Use the newer version of envs that wrote these files.',
    };
  } catch (error) {
    if (EnvsError.is(error) && error.code === 'STATE_UNUSABLE') return undefined;
    return {
      name: 'state files',
      ok: false,
      detail: EnvsError.is(error) ? error.message : String(error),
      fix: EnvsError.is(error) && error.hint ? error.hint : 'Make the state directory readable.',
    };
  }
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
