import { stat } from 'node:fs/promises';
import { CONFIG_FILES } from '../config/files.ts';
import { EnvsError } from '../errors.ts';
import type { Progress } from './converge.ts';
import { removeDataPaths } from './data-removal.ts';
import { dropDatabase } from './database.ts';
import type { Deps, EngineInfo, KeptRef, WorktreeInspection } from './deps.ts';
import { DEFAULT_DISPOSABLE, type DirtyFile, envOwned, type WorkAtRisk, workAtRisk } from './dirty.ts';
import { type OnEvent, Phases } from './events.ts';
import { failpoint } from './failpoints.ts';
import { engineMismatch, envLock, reread, withWorktreeLock } from './guards.ts';
import { printable } from './naming.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';
import { configFrom, dirReader } from './source.ts';
import { composeDown, sweep, sweepSupabase } from './teardown.ts';

export interface DestroyOptions {
  /** Delete the worktree even with modified, untracked or precious ignored files or commits only it has. */
  force?: boolean;
  /**
   * The worktree: `remove` it (with the checks above), or `keep` it as it is. Default: keep an adopted
   * worktree (envs did not make it: `envs adopt`), remove one envs made.
   */
  worktree?: 'keep' | 'remove';
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Each phase as it starts and ends: check, processes, containers, cleanup. */
  onEvent?: OnEvent;
}

export interface DestroyResult {
  name: string;
  branch: string;
  project: string;
  worktree: string;
  /** The branch is always kept. */
  branch_kept: true;
  /** False when the worktree was gone already, or its directory is not this env's worktree any more (left alone). */
  worktree_removed: boolean;
  /** Why the worktree was not removed, when it was not. */
  worktree_note?: string;
  /** Files deleted because of --force. */
  forced_files: DirtyFile[];
  /** Refs --force made so that commits only the worktree (or its submodules) had stay reachable. */
  kept_refs: KeptRef[];
  released_ports: number[];
}

const SHOWN = 20;

/**
 * `envs destroy`: containers, volumes, networks, built images, ports, worktree and record, in that order.
 * Before touching anything it needs positive evidence: the engine answers and is the env's own, and the
 * worktree holds nothing that would be lost — files git status shows or hides, commits no ref keeps,
 * submodule changes and commits on none of their remotes — unless --force, which keeps the commits under
 * `refs/envs/<env>/`. A directory that is no longer the env's worktree is left alone. The branch is kept.
 */
export async function destroyEnv(deps: Deps, arg: string, options: DestroyOptions = {}): Promise<DestroyResult> {
  const started = performance.now();
  // Ask everything at once; report a missing env before an unreachable engine.
  const [found, answered, runnable] = await Promise.allSettled([
    resolveEnv(deps, arg, options.cwd).then(async (record) => ({ record, ...(await look(deps, record)) })),
    deps.engine.info(),
    deps.compose.ensureRunnable(),
  ]);
  const { record, inspection, risk } = settled(found);
  // The phases begin once the env is known (a missing env has none); `check` from the start.
  const phases = new Phases('destroy', record.name, options.onEvent);
  phases.enter('check', started);
  return phases.around(async () => {
    const engine = settled(answered);
    settled(runnable); // a Compose that cannot run would leave the env half destroyed
    const keep = keepsWorktree(record, options);
    refuseUnsafe(deps, record, engine, inspection, risk, Boolean(options.force), keep);

    return deps.locks.with(envLock(deps.repoId, record.name), { what: `envs destroy ${record.branch}`, waitMs: 0 }, async () => {
      const progress = (step: string, message: string) => options.onProgress?.({ step, message });
      const current = await reread(deps, record);
      // Read before the first change: a damaged registry stops destroy here (STATE_CORRUPT), not half-way.
      const [leases] = await Promise.all([deps.ports.leases(current.project), deps.subnets.leases(current.project)]);
      current.status = 'destroying';
      current.updatedAt = deps.now().toISOString();
      await deps.records.put(current);

      phases.enter('processes');
      await deps.app.stop({
        stateDir: deps.records.envDir(current.name),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      // Its agents go with it (their work in the worktree was weighed above), and the tmux session with them.
      await deps.app.stopAgents({
        stateDir: deps.records.envDir(current.name),
        endSession: true,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      failpoint(deps.env, 'destroy-after-processes');
      phases.enter('containers');
      progress('containers', `docker compose -p ${current.project} down --volumes`);
      await Promise.all([composeDown(deps, current.project, options.signal), sweepSupabase(deps, current.supabase?.projectId)]);
      failpoint(deps.env, 'destroy-after-down');

      // The containers are gone (positive evidence): what is left on the engine, the ports and the worktree
      // go independently of each other.
      phases.enter('cleanup');
      const [, , , worktree] = await Promise.all([
        Promise.all([sweep(deps, current.project), dropDatabase(deps, current)]).then(() => failpoint(deps.env, 'destroy-after-volumes')),
        deps.ports.release(current.project),
        deps.subnets.release(current.project),
        (keep ? keepWorktree(deps, current) : removeWorktree(deps, current, inspection, Boolean(options.force), progress)).then(
          (removed) => {
            failpoint(deps.env, 'destroy-after-worktree');
            return removed;
          },
        ),
      ]);
      failpoint(deps.env, 'destroy-before-record');
      await deps.records.remove(current.name);
      return {
        name: current.name,
        branch: current.branch,
        project: current.project,
        worktree: current.worktree,
        branch_kept: true,
        worktree_removed: worktree.removed,
        ...(worktree.note ? { worktree_note: worktree.note } : {}),
        forced_files: worktree.forced,
        kept_refs: worktree.kept,
        released_ports: leases.map((l) => l.port),
      };
    });
  });
}

/**
 * What `destroy` without --force would refuse for an env now (another engine, a locked worktree, work that
 * would be lost, another envs command holding the env), as the error it would throw; undefined: it may go.
 * Reads only: `prune --merged` asks this of each merged env before destroying any.
 */
export async function destroyRefusal(deps: Deps, record: EnvRecord, engine: EngineInfo): Promise<EnvsError | undefined> {
  try {
    const [{ inspection, risk }, busy] = await Promise.all([look(deps, record), deps.locks.isHeld(envLock(deps.repoId, record.name))]);
    refuseUnsafe(deps, record, engine, inspection, risk, false, keepsWorktree(record, {}));
    if (busy) {
      return new EnvsError('ENV_BUSY', `Another envs command is working on ${printable(record.branch)}.`, {
        hint: 'Wait for it to finish, then run the command again.',
      });
    }
    return undefined;
  } catch (error) {
    if (EnvsError.is(error)) return error;
    throw error;
  }
}

/** Whether destroy leaves the worktree as it is: asked to, or by default one envs did not make (adopted). */
function keepsWorktree(record: EnvRecord, options: Pick<DestroyOptions, 'worktree'>): boolean {
  return (options.worktree ?? (record.adopted ? 'keep' : 'remove')) === 'keep';
}

/** The refusals made before anything is touched: the env's own engine, no lock of someone else's, no work lost. */
function refuseUnsafe(
  deps: Deps,
  record: EnvRecord,
  engine: EngineInfo,
  inspection: WorktreeInspection,
  risk: WorkAtRisk,
  force: boolean,
  keep: boolean,
): void {
  if (record.engine.id && engine.id !== record.engine.id) throw engineMismatch(record, engine, deps.env);
  if (!keep && inspection.locked !== undefined && !inspection.locked.startsWith('envs')) {
    throw new EnvsError(
      'WORKTREE_LOCKED',
      `The worktree ${record.worktree} is locked${inspection.locked ? ` ("${inspection.locked}")` : ''}.`,
      {
        hint: `Someone locked it on purpose. Unlock it with \`git worktree unlock ${record.worktree}\` if it may go, then run destroy again.`,
      },
    );
  }
  if (!keep && !force) refuseLoss(record, risk, false);
}

/** What the env's worktree path holds and what removing it would lose. */
async function look(deps: Deps, record: EnvRecord): Promise<{ inspection: WorktreeInspection; risk: WorkAtRisk }> {
  const [inspection, extra, ours] = await Promise.all([
    deps.git.inspectWorktree(record.worktree),
    extraDisposable(record.worktree),
    envOwned(record.worktree, record),
  ]);
  return {
    inspection,
    risk: workAtRisk(inspection, [...DEFAULT_DISPOSABLE, ...(inspection.ours ? extra : [])], inspection.ours ? ours : undefined),
  };
}

/**
 * The worktree step, after the containers are gone. It looks again first (an agent may have written
 * meanwhile): without --force anything at risk stops it here, the env staying `destroying` for another run.
 * A directory that is not the env's worktree any more is left alone; only git's entry for it goes.
 */
async function removeWorktree(
  deps: Deps,
  record: EnvRecord,
  first: WorktreeInspection,
  force: boolean,
  progress: (step: string, message: string) => void,
): Promise<{ removed: boolean; note?: string; forced: DirtyFile[]; kept: KeptRef[] }> {
  const path = record.worktree;
  if (!first.registered) {
    const note = (await exists(path))
      ? `${path} is not a worktree of this repository; its contents were left alone.`
      : `${path} was already gone.`;
    return { removed: false, note, forced: [], kept: [] };
  }
  const { inspection, risk } = await look(deps, record);
  if (!force) refuseLoss(record, risk, true);
  const tips = [...inspection.tips, ...inspection.submodules.flatMap((s) => s.tips)];
  const kept = tips.length > 0 ? await deps.git.keepCommits(`refs/envs/${record.name}/${stamp(deps.now())}`, tips) : [];
  if (inspection.ours) {
    await removeDataPaths(deps, record);
    progress('worktree', `git worktree remove ${path}`);
    // git refuses a worktree with submodules without --force: given only after the checks above.
    await withWorktreeLock(deps, `git worktree remove for ${record.branch}`, () =>
      deps.git.removeWorktree(path, force || inspection.needsForce),
    );
    return { removed: true, forced: force ? risk.files : [], kept };
  }
  await withWorktreeLock(deps, `git worktree prune for ${record.branch}`, () => deps.git.forgetWorktree(path));
  const note = (await exists(path))
    ? `${path} is no longer a worktree of this repository; its contents were left alone (git's entry for it was removed).`
    : `${path} was already gone (git's entry for it was removed).`;
  return { removed: false, note, forced: [], kept };
}

/**
 * An adopted worktree stays as it is: only the data the env's containers wrote into it through bind mounts
 * (paths that did not exist before the env) goes with the env.
 */
async function keepWorktree(
  deps: Deps,
  record: EnvRecord,
): Promise<{ removed: false; note: string; forced: DirtyFile[]; kept: KeptRef[] }> {
  await removeDataPaths(deps, record);
  const how = record.adopted ? 'envs adopted it and did not make it' : 'asked to keep it';
  return {
    removed: false,
    note: `${record.worktree} was kept (${how}); \`git worktree remove ${record.worktree}\` removes it.`,
    forced: [],
    kept: [],
  };
}

/** DIRTY_WORKTREE naming every file and commit at risk. */
function refuseLoss(record: EnvRecord, risk: WorkAtRisk, containersGone: boolean): void {
  if (risk.files.length === 0 && risk.commits.length === 0) return;
  const lines = [
    ...risk.files.map(
      (f) => `  ${f.kind.padEnd(9)} ${printable(f.path)}${f.flag ? ` (marked ${f.flag}: git status does not show it)` : ''}`,
    ),
    ...risk.commits.map(
      (c) =>
        `  commit    ${c.short} ${printable(c.subject)}${c.submodule ? ` (submodule ${printable(c.submodule)}: on none of its remotes)` : ' (only this worktree has it)'}`,
    ),
  ];
  const shown = lines.slice(0, SHOWN);
  if (lines.length > SHOWN) shown.push(`  … and ${lines.length - SHOWN} more`);
  const branch = printable(record.branch);
  throw new EnvsError(
    'DIRTY_WORKTREE',
    `${branch}'s worktree has work that destroy would delete${containersGone ? ' (its containers are already removed; the worktree was kept)' : ''}:\n${shown.join('\n')}`,
    {
      // Here an adopted env's worktree goes only because --worktree asked for it: the way out says it too.
      hint: `Commit, stash or move it (the branch is kept)${risk.commits.length > 0 ? ', put commits on a branch or push them' : ''}, or run \`envs destroy ${branch}${record.adopted ? ' --worktree' : ''} --force\` to delete it${risk.commits.length > 0 ? ` (its commits are then kept under refs/envs/${record.name}/)` : ''}. ${containersGone ? 'Run destroy again to finish.' : 'Nothing was changed.'}`,
      details: { files: risk.files, commits: risk.commits },
    },
  );
}

/**
 * `destroy.disposable` from the worktree's own envs.yaml (a broken file adds nothing). A file that does not
 * say `disposable` is not parsed: the schema and YAML libraries cost destroy ~50 ms of CPU before `compose
 * down`. (A key spelled with YAML escapes is missed: its files then count as work, the safe side.)
 */
async function extraDisposable(worktree: string): Promise<string[]> {
  try {
    const files = await dirReader(worktree)(CONFIG_FILES);
    if (![...files.values()].some((content) => content.includes('disposable'))) return [];
    return (await configFrom(files)).destroy?.disposable ?? [];
  } catch {
    return [];
  }
}

/** `20261121T083000Z`: kept refs of successive envs of one name never collide. */
function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
