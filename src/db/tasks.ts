import type { Engine, TaskSpec } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { type DirOwner, parseOwner } from './snapshots.ts';

/** Long enough to copy tens of GB; a copy that takes longer is reported, not waited for forever. */
const COPY_TIMEOUT_MS = 60 * 60_000;
const SMALL_TIMEOUT_MS = 60_000;

export type CloneMethod = 'overlay' | 'reflink' | 'copy';

/**
 * Where envs keeps a snapshot's or a clone's files: a volume of the engine (the default), or a directory under
 * `database.store` on the engine's host (a file system with reflinks). `path` is where a task container sees
 * it; `hostDir` is where the engine's host has it (an overlay's layers, a bind volume's device).
 */
export interface Place {
  mount: TaskSpec['mounts'][number];
  path: string;
}

export function volumePlace(volume: string, at: string): Place {
  return { mount: { kind: 'volume', source: volume, target: at }, path: at };
}

/** `<store>/<relative>` seen through the store mounted at `at`. */
export function storePlace(store: string, relative: string, at: string): Place {
  return { mount: { kind: 'bind', source: store, target: at }, path: `${at}/${relative}` };
}

/**
 * Scripts of the task containers: fixed text, paths as positional parameters (never interpolated into the
 * script). They run in the database's own image (it is there, and its `cp`/`stat` match its files' owners).
 */
const MEASURE =
  'set -e; du -sk "$1" | cut -f1; cat "$1/$2/PG_VERSION" 2>/dev/null || echo ""; stat -c %u:%g:%a "$1" 2>/dev/null || echo ""';
const COPY = 'set -e; mkdir -p "$2"; cp -a "$1/." "$2/"';
// Reflink when the file system has it; otherwise the overlay's layers (upper keeps the data root's owner and mode).
const CLONE_AUTO = `set -e
if [ "$3" != overlay ] && mkdir -p "$2/data" && cp --reflink=always "$1/$4/PG_VERSION" "$2/.reflink-probe" 2>/dev/null; then
  rm -f "$2/.reflink-probe"; cp -a --reflink=always "$1/." "$2/data/"; echo reflink
elif [ "$3" = copy ]; then
  mkdir -p "$2/data"; cp -a "$1/." "$2/data/"; echo copy
else
  rmdir "$2/data" 2>/dev/null || true
  mkdir -p "$2/upper" "$2/work"; chown "$(stat -c %u:%g "$1")" "$2/upper"; chmod "$(stat -c %a "$1")" "$2/upper"; echo overlay
fi`;
const REMOVE = 'rm -rf -- "$@"';
// After a pause, a clone's files: its layers or its copy; then its directory, unless it is a volume's root (a
// mount point).
const DISCARD = 'sleep "$2"; rm -rf -- "$1/upper" "$1/work" "$1/data"; rmdir -- "$1" 2>/dev/null || true';

export interface TaskContext {
  engine: Engine;
  image: string;
  labels: Record<string, string>;
}

async function run(ctx: TaskContext, what: string, script: string, args: string[], places: Place[], timeoutMs: number): Promise<string> {
  const mounts = dedupe(places.map((p) => p.mount));
  const binds = mounts.filter((m) => m.kind === 'bind').map((m) => m.source);
  const result = await ctx.engine
    .runTask({ image: ctx.image, cmd: ['sh', '-c', script, 'sh', ...args], mounts, labels: ctx.labels, timeoutMs })
    .catch((error: unknown) => {
      // The engine refusing the task (a store directory that does not exist, an image gone) is the user's to fix.
      const status = (error as { statusCode?: number }).statusCode;
      if (status === undefined) throw error;
      throw new EnvsError('DB_FAILED', `Could not ${what}: the engine refused: ${(error as Error).message}.`, {
        hint:
          binds.length > 0
            ? `database.store (${binds.join(', ')}) must be an existing directory on the engine's host.`
            : 'See `docker info`.',
      });
    });
  if (result.exitCode !== 0 && binds.length > 0 && /Not a directory|No such file|Permission denied|Read-only/.test(result.output)) {
    throw new EnvsError('DB_FAILED', `Could not ${what}: ${result.output.trim().split('\n').slice(-1)[0]}.`, {
      hint: `database.store (${binds.join(', ')}) must be a writable directory on the engine's host.`,
    });
  }
  if (result.exitCode !== 0) {
    throw new EnvsError(
      'DB_FAILED',
      `Could not ${what}: ${result.output.trim().split('\n').slice(-3).join(' ') || `exit code ${result.exitCode}`}.`,
      {
        hint: "Check the engine's disk space (`docker system df`); ENVS_DEBUG=1 shows the task envs ran.",
      },
    );
  }
  return result.output;
}

function dedupe(mounts: TaskSpec['mounts']): TaskSpec['mounts'] {
  const seen = new Map<string, TaskSpec['mounts'][number]>();
  for (const m of mounts) if (!seen.has(m.target)) seen.set(m.target, m);
  return [...seen.values()];
}

/**
 * Size (bytes) of a database's files, its data's major version (PG_VERSION at `subpath`, '' when absent) and
 * the owner and mode of its top directory.
 */
export async function measure(
  ctx: TaskContext,
  from: Place,
  subpath: string,
): Promise<{ bytes: number; pgVersion: string; root: DirOwner | undefined }> {
  const out = await run(
    ctx,
    'measure the database files',
    MEASURE,
    [from.path, subpath || '.'],
    [{ ...from, mount: { ...from.mount, readOnly: true } }],
    SMALL_TIMEOUT_MS,
  );
  const [kib = '0', version = '', root] = out.trim().split('\n');
  return { bytes: Number(kib) * 1024, pgVersion: version.trim(), root: parseOwner(root) };
}

/** A full copy, owners and modes kept (`cp -a`). */
export async function copyFiles(ctx: TaskContext, from: Place, to: Place): Promise<void> {
  await run(
    ctx,
    'copy the database files',
    COPY,
    [from.path, to.path],
    [{ ...from, mount: { ...from.mount, readOnly: true } }, to],
    COPY_TIMEOUT_MS,
  );
}

/**
 * Lays out a clone of `snapshot` in `clone`: `upper/` + `work/` for an overlay with the snapshot as its lower
 * layer, or `data/` as a reflink (or full) copy. auto is an overlay when the snapshot's top directory's owner is
 * known (`root`, recorded by snapshots since it was): laid out without a task container, and on a file system
 * with reflinks the kernel copies a file up as a reflink (a write into a 1 GB table segment costs milliseconds,
 * not a 1 GB copy). Without it (older snapshots, owners a tar cannot hold, an engine refusing the upload), a
 * task container lays the overlay out. reflink insists on a reflink copy (a clone that outlives its snapshot);
 * copy forces a full copy.
 */
export async function layOutClone(
  ctx: TaskContext,
  snapshot: Place,
  clone: Place,
  options: { prefer: 'auto' | CloneMethod; subpath: string; root?: DirOwner | undefined },
): Promise<CloneMethod> {
  const mode = options.prefer;
  if ((mode === 'auto' || mode === 'overlay') && options.root && fitsTar(options.root)) {
    // An engine that refuses the upload (a store path it cannot bind, an archive API it does not have for a
    // container never started) gets the task, whose failures say what to fix.
    const laid = await layOutOverlay(ctx, clone, options.root).catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode === undefined) throw error;
      return undefined;
    });
    if (laid) return laid;
  }
  const out = await run(
    ctx,
    'clone the snapshot',
    CLONE_AUTO,
    // auto is an overlay here too; reflink is the script's auto (a reflink copy if it can, and the check below).
    [snapshot.path, clone.path, mode === 'reflink' ? 'auto' : mode === 'auto' ? 'overlay' : mode, options.subpath || '.'],
    [snapshot, clone],
    COPY_TIMEOUT_MS,
  );
  const method = out.includes('reflink') ? 'reflink' : out.includes('copy') ? 'copy' : 'overlay';
  if (mode === 'reflink' && method !== 'reflink') {
    throw new EnvsError('DB_FAILED', "database.clone is reflink, but the store's file system makes no reflink copies.", {
      hint: 'Set database.store to a directory on XFS (reflink=1) or Btrfs, or database.clone to auto.',
    });
  }
  return method;
}

/** A ustar header holds ids up to 0o7777777 octal digits' worth: 262143 (tar-stream clamps larger ones). */
function fitsTar(owner: DirOwner): boolean {
  return owner.uid <= 0o777777 && owner.gid <= 0o777777;
}

/**
 * An overlay clone's layers without a task container: `upper/` with the snapshot's top directory's owner and
 * mode (the merged view's root takes them from there) and an empty `work/`, made through the engine's archive
 * upload (~0.05 s where a task costs ~0.4 s: its container's start and stop).
 */
export async function layOutOverlay(ctx: TaskContext, clone: Place, root: DirOwner): Promise<CloneMethod> {
  const at = clone.path === clone.mount.target ? '' : `${clone.path.slice(clone.mount.target.length + 1)}/`;
  await ctx.engine.makeDirs({
    image: ctx.image,
    mount: clone.mount,
    dirs: [
      { path: `${at}upper`, ...root },
      { path: `${at}work`, uid: 0, gid: 0, mode: 0o755 },
    ],
    labels: ctx.labels,
  });
  return 'overlay';
}

/**
 * Deletes a clone's files in a task container nobody waits for, `afterSeconds` from now. Deleting what an
 * overlay copied up (whole 1 GB table segments) takes ~1 s per GB on ext4 and slows every write meanwhile (the
 * engine starting a container); the engine's own removal of a volume also holds its volume lock, which a
 * reset's new volume would wait for.
 */
export async function discardLater(ctx: TaskContext, place: Place, afterSeconds: number): Promise<void> {
  const cmd = ['sh', '-c', DISCARD, 'sh', place.path, String(afterSeconds)];
  await ctx.engine.startTask({ image: ctx.image, cmd, mounts: [place.mount], labels: ctx.labels, timeoutMs: 0 });
}

/** Removes directories a task can see (a store's snapshot, an env's clones), in one task. */
export async function removeDirs(ctx: TaskContext, places: Place[]): Promise<void> {
  const paths = places.map((p) => p.path);
  await run(ctx, `remove ${paths.join(' ')}`, REMOVE, paths, places, SMALL_TIMEOUT_MS);
}
