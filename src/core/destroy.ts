import { stat } from 'node:fs/promises';
import { CONFIG_FILES } from '../config/files.ts';
import { EnvsError } from '../errors.ts';
import type { Progress } from './converge.ts';
import type { Deps } from './deps.ts';
import { DEFAULT_DISPOSABLE, type DirtyFile, filesAtRisk } from './dirty.ts';
import { failpoint } from './failpoints.ts';
import { engineMismatch, envLock, withWorktreeLock } from './guards.ts';
import { resolveEnv } from './resolve.ts';
import { configFrom, dirReader } from './source.ts';
import { composeDown, sweep } from './teardown.ts';

export interface DestroyOptions {
  /** Delete the worktree even with modified, untracked or precious ignored files. */
  force?: boolean;
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
}

export interface DestroyResult {
  name: string;
  branch: string;
  project: string;
  worktree: string;
  /** The branch is always kept. */
  branch_kept: true;
  /** Files deleted because of --force. */
  forced_files: DirtyFile[];
  released_ports: number[];
}

const SHOWN_FILES = 20;

/**
 * `envs destroy`: containers, volumes, networks, built images, ports, worktree and record, in that order.
 * Before touching anything it needs positive evidence: the engine answers and is the env's own, and the
 * worktree holds nothing that would be lost (unless --force). The branch is kept.
 */
export async function destroyEnv(deps: Deps, arg: string, options: DestroyOptions = {}): Promise<DestroyResult> {
  // Ask everything at once; report a missing env before an unreachable engine.
  const [found, answered, listed] = await Promise.allSettled([
    resolveEnv(deps, arg, options.cwd).then(async (record) => ({ record, atRisk: await filesAtRiskIn(deps, record.worktree) })),
    deps.engine.info(),
    deps.git.worktrees(),
  ]);
  const { record, atRisk } = settled(found);
  const engine = settled(answered);
  if (record.engine.id && engine.id !== record.engine.id) throw engineMismatch(record, engine);
  const entry = settled(listed).find((w) => w.path === record.worktree);
  if (entry?.locked !== undefined && !entry.locked.startsWith('envs')) {
    throw new EnvsError('WORKTREE_LOCKED', `The worktree ${record.worktree} is locked${entry.locked ? ` ("${entry.locked}")` : ''}.`, {
      hint: `Someone locked it on purpose. Unlock it with \`git worktree unlock ${record.worktree}\` if it may go, then run destroy again.`,
    });
  }
  const onDisk = atRisk !== undefined;
  if (entry && atRisk && atRisk.length > 0 && !options.force) {
    const shown = atRisk.slice(0, SHOWN_FILES).map((f) => `  ${f.kind.padEnd(9)} ${f.path}`);
    if (atRisk.length > SHOWN_FILES) shown.push(`  … and ${atRisk.length - SHOWN_FILES} more`);
    throw new EnvsError('DIRTY_WORKTREE', `${record.branch}'s worktree has work that destroy would delete:\n${shown.join('\n')}`, {
      hint: `Commit, stash or move it (the branch is kept), or run \`envs destroy ${record.branch} --force\` to delete it. Nothing was changed.`,
      details: { files: atRisk },
    });
  }

  return deps.locks.with(envLock(record.name), { what: `envs destroy ${record.branch}`, waitMs: 0 }, async () => {
    const progress = (step: string, message: string) => options.onProgress?.({ step, message });
    // Read before the first change: a damaged registry stops destroy here (STATE_CORRUPT), not half-way.
    const leases = await deps.ports.leases(record.project);
    record.status = 'destroying';
    record.updatedAt = deps.now().toISOString();
    await deps.records.put(record);

    progress('containers', `docker compose -p ${record.project} down --volumes`);
    await composeDown(deps, record.project, options.signal);
    failpoint(deps.env, 'destroy-after-down');

    // The containers are gone (positive evidence): what is left on the engine, the ports and the worktree
    // go independently of each other.
    await Promise.all([
      sweep(deps, record.project),
      deps.ports.release(record.project),
      (async () => {
        if (entry && onDisk) {
          progress('worktree', `git worktree remove ${record.worktree}`);
          await withWorktreeLock(deps, `git worktree remove for ${record.branch}`, () =>
            deps.git.removeWorktree(record.worktree, Boolean(options.force)),
          );
        } else if (entry) {
          await deps.git.pruneWorktrees();
        }
      })(),
    ]);
    await deps.records.remove(record.name);
    return {
      name: record.name,
      branch: record.branch,
      project: record.project,
      worktree: record.worktree,
      branch_kept: true,
      forced_files: options.force ? (atRisk ?? []) : [],
      released_ports: leases.map((l) => l.port),
    };
  });
}

/** What destroying a worktree would lose; undefined when it is not on disk. */
async function filesAtRiskIn(deps: Deps, worktree: string): Promise<DirtyFile[] | undefined> {
  if (
    !(await stat(worktree).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return undefined;
  const [status, extra] = await Promise.all([deps.git.status(worktree), extraDisposable(worktree)]);
  return filesAtRisk(status, [...DEFAULT_DISPOSABLE, ...extra]);
}

/** `destroy.disposable` from the worktree's own envs.yaml (a broken file adds nothing). */
async function extraDisposable(worktree: string): Promise<string[]> {
  try {
    return (await configFrom(await dirReader(worktree)(CONFIG_FILES))).destroy?.disposable ?? [];
  } catch {
    return [];
  }
}

function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
