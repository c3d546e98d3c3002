import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { collectPortRequests, type PortRequest } from '../compose/transform.ts';
import type { Config } from '../config/schema.ts';
import { EnvsError } from '../errors.ts';
import { DEFAULT_RANGE, type PortRange, parseRange } from '../ports/allocate.ts';
import type { Deps, EngineInfo } from './deps.ts';
import { engineMismatch, envLock } from './guards.ts';
import { checkBranchShape, type EnvNames, namesFor, printable } from './naming.ts';
import type { EnvRecord } from './record.ts';
import { commitReader, type RenderedSource, readSource, renderSource } from './source.ts';

export interface CreateOptions {
  branch: string;
  /** Start point of a new branch; default: the repository's default branch. */
  from?: string;
}

/** How the worktree gets its branch. */
export type Checkout =
  | { kind: 'existing'; ref: string; commit: string }
  | { kind: 'new'; ref: string; commit: string }
  | { kind: 'track'; ref: string; commit: string };

export interface EnvPlan {
  branch: string;
  names: EnvNames;
  worktree: string;
  checkout: Checkout;
  /** A record left by an interrupted or failed create of this env: create resumes it. */
  resume?: EnvRecord;
  source: RenderedSource;
  requests: PortRequest[];
  range: PortRange;
  secrets: Record<string, string>;
  engine: EngineInfo;
  waitTimeout: number;
  warnings: string[];
}

/**
 * Everything `create` checks before its first side effect: the branch name, the env's state, where the
 * branch comes from, the worktree path, envs.yaml, the engine, and the compose model rendered from the
 * commit the worktree will hold. Reads only; a bad input fails here and nothing has changed.
 */
export async function planCreate(deps: Deps, options: CreateOptions): Promise<EnvPlan> {
  const { branch } = options;
  checkBranchShape(branch);
  const normalised = await deps.git.checkBranchName(branch);
  if (normalised !== branch) {
    throw new EnvsError('INVALID_BRANCH', `"${printable(branch)}" is not a valid branch name.`, {
      hint: 'Branch names cannot contain spaces, "..", "~", "^", ":", "?", "*", "[", "\\\\" or "@{" (see `git check-ref-format --help`).',
    });
  }
  const names = namesFor(deps.repoId, branch);
  const warnings: string[] = [];

  const [existing, busy, state, worktrees] = await Promise.all([
    deps.records.get(names.name),
    deps.locks.isHeld(envLock(deps.repoId, names.name)),
    deps.git.branchState(branch),
    deps.git.worktrees(),
  ]);
  if (busy) throw busyError(branch);
  const resume = existing && (existing.status === 'creating' || existing.status === 'failed') ? existing : undefined;
  if (existing && !resume) {
    throw existsError(branch, existing.status, existing.name);
  }

  const holder = worktrees.find((w) => w.branch === branch);
  if (holder && holder.path !== resume?.worktree) {
    throw new EnvsError('BRANCH_CHECKED_OUT', `Branch ${branch} is already checked out at ${holder.path}.`, {
      hint: 'Git allows a branch in one worktree only: switch that checkout to another branch, or create the env for a new branch.',
    });
  }

  const checkout = await resolveCheckout(deps, options, state, warnings);
  const source = await readSource(commitReader(deps, checkout.commit));
  const worktree = resume?.worktree ?? worktreePath(deps, source.config, names.name);
  if (!resume && !(await isFreePath(worktree))) {
    // Another create of this branch may have got there between our first look and now: say that.
    if (await deps.locks.isHeld(envLock(deps.repoId, names.name))) throw busyError(branch);
    const other = await deps.records.get(names.name);
    if (other) throw existsError(branch, other.status, other.name);
    throw new EnvsError('WORKTREE_PATH_TAKEN', `${worktree} already exists and is not empty.`, {
      hint: 'Move or remove it, or set worktrees.dir in envs.yaml to put worktrees elsewhere.',
    });
  }

  const { range, waitTimeout } = upSettings(deps.env, source.config);
  const secrets = resume?.secrets ?? { ENVS_DB_PASSWORD: randomBytes(18).toString('base64url') };
  const [engine, rendered] = await Promise.all([
    deps.engine.info(),
    renderSource(deps, source, { project: names.project, worktree, onDisk: false, env: secrets }),
  ]);
  if (resume?.engine.id && engine.id !== resume.engine.id) throw engineMismatch(resume, engine);

  return {
    branch,
    names,
    worktree,
    checkout,
    ...(resume ? { resume } : {}),
    source: rendered,
    requests: collectPortRequests(rendered.model),
    range,
    secrets,
    engine,
    waitTimeout,
    warnings,
  };
}

async function resolveCheckout(
  deps: Deps,
  options: CreateOptions,
  state: { local?: string; remote?: string },
  warnings: string[],
): Promise<Checkout> {
  if (state.local) {
    if (options.from) warnings.push(`--from ${options.from} ignored: branch ${options.branch} already exists.`);
    const commit = await deps.git.resolveCommit(`refs/heads/${options.branch}`);
    if (!commit) throw new Error(`refs/heads/${options.branch} vanished`);
    return { kind: 'existing', ref: options.branch, commit };
  }
  if (state.remote && !options.from) {
    const commit = await deps.git.resolveCommit(`refs/remotes/${state.remote}`);
    if (commit) return { kind: 'track', ref: state.remote, commit };
  }
  const from = options.from ?? (await deps.git.defaultBranch());
  const commit = await deps.git.resolveCommit(from);
  if (!commit) {
    throw new EnvsError('UNKNOWN_REF', `--from ${printable(from)}: no such branch, tag or commit in ${deps.git.repo.root}.`, {
      hint: 'Check the spelling (`git branch -a`), or `git fetch` if it exists only on the remote.',
    });
  }
  return { kind: 'new', ref: from, commit };
}

function worktreePath(deps: Deps, config: Config, name: string): string {
  const dir = config.worktrees?.dir;
  if (!dir) return join(deps.records.worktreesRoot, name);
  return join(isAbsolute(dir) ? dir : resolve(deps.git.repo.root, dir), name);
}

async function isFreePath(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTDIR') return false;
    throw error;
  }
}

function busyError(branch: string): EnvsError {
  return new EnvsError('ENV_BUSY', `Another envs process is working on ${branch} right now.`, {
    hint: 'Wait for it to finish (`envs list` shows its progress) and run the command again.',
  });
}

function existsError(branch: string, status: string, name?: string): EnvsError {
  const shown = status === 'destroying' ? 'half destroyed' : status;
  return new EnvsError('ENV_EXISTS', `${branch} already has an env${name ? ` (${name}, ${shown})` : ''}.`, {
    hint:
      status === 'destroying'
        ? `Finish removing it with \`envs destroy ${branch}\` first.`
        : `Use it (\`envs info ${branch}\`, \`envs up ${branch}\`), or remove it with \`envs destroy ${branch}\`.`,
  });
}

/** How `compose up` runs for a config: the port range to lease from and how long `--wait` may take. */
export function upSettings(env: NodeJS.ProcessEnv, config: Config): { range: PortRange; waitTimeout: number } {
  return { range: portRange(env, config), waitTimeout: config.up?.waitTimeout ?? 300 };
}

function portRange(env: NodeJS.ProcessEnv, config: Config): PortRange {
  const text = env.ENVS_PORT_RANGE ?? config.ports?.range;
  if (text === undefined) return DEFAULT_RANGE;
  const range = parseRange(text);
  if (!range) {
    throw new EnvsError(
      'CONFIG_INVALID',
      `Port range "${text}" is not valid (${env.ENVS_PORT_RANGE ? 'ENVS_PORT_RANGE' : 'ports.range in envs.yaml'}).`,
      {
        hint: 'Give two ports between 1024 and 65535, low-high, such as 20000-29999.',
      },
    );
  }
  return range;
}
