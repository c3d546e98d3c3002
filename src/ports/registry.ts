import { readFile } from 'node:fs/promises';
import type { PortProbe } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { withLock } from '../state/lock.ts';
import { moveAside } from '../state/scan.ts';
import { notJson, stateError } from '../state/unusable.ts';
import { allocate, type Lease, type LeaseKind, type LeaseRequest, type PortRange } from './allocate.ts';

/** Why a registry file cannot be read, or undefined when it is one this version reads. */
function registryProblem(data: unknown): string | undefined {
  const registry = data as { version?: unknown; leases?: unknown } | null;
  if (typeof registry !== 'object' || registry === null || Array.isArray(registry)) return 'not an object';
  if (typeof registry.version === 'number' && registry.version > 1)
    return `version ${registry.version}, written by a newer version of envs`;
  if (registry.version !== 1) return `version ${JSON.stringify(registry.version)?.slice(0, 40) ?? 'missing'}`;
  if (!Array.isArray(registry.leases)) return 'leases is not a list';
  const bad = registry.leases.findIndex(
    (l: Lease) =>
      typeof l !== 'object' ||
      l === null ||
      !Number.isInteger(l.port) ||
      typeof l.project !== 'string' ||
      typeof l.key !== 'string' ||
      (l.protocol !== 'tcp' && l.protocol !== 'udp'),
  );
  return bad === -1 ? undefined : `lease ${bad} is not a lease`;
}

/** The state of the registry file: its leases, or why it cannot be read. */
export type RegistryCheck = { ok: true; leases: Lease[] } | { ok: false; reason: string; newer: boolean };

export async function checkRegistry(file: string): Promise<RegistryCheck> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, leases: [] };
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') return { ok: false, reason: 'it is a directory', newer: false };
    throw stateError(error, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: notJson(text, error), newer: false };
  }
  const problem = registryProblem(data);
  if (problem) return { ok: false, reason: problem, newer: /newer version/.test(problem) };
  return { ok: true, leases: (data as { leases: Lease[] }).leases };
}

export function registryCorrupt(file: string, reason: string, newer: boolean): EnvsError {
  return new EnvsError('STATE_CORRUPT', `The port registry ${file} is damaged: ${reason}.`, {
    hint: newer
      ? 'Use the newer version of envs that wrote it. Nothing was changed.'
      : 'Run `envs doctor --fix`: it moves the file aside and rebuilds the leases from the env records and the ports the engine publishes. Nothing was changed.',
    details: { file, reason },
  });
}

export interface ReserveOptions {
  owner: { project: string; repo: string; env: string };
  requests: LeaseRequest[];
  range: PortRange;
  avoid?: ReadonlySet<number>;
  /** Which kind of lease this call manages (default compose); see allocate.ts. */
  kind?: LeaseKind;
}

/**
 * The machine-wide port registry: one JSON file of leases, changed only under one cross-process
 * lock (held for milliseconds: read, allocate with probes, write). Slow work such as `compose up`
 * happens after the lock is released. A file that cannot be read stops every call with STATE_CORRUPT
 * (exit 1, `envs doctor --fix` repairs it) before anything is changed.
 */
export class PortRegistry {
  private readonly file: string;
  private readonly lockPath: string;
  private readonly probe: PortProbe;
  private readonly tmpDir: string | undefined;

  constructor(file: string, lockPath: string, probe: PortProbe, tmpDir?: string) {
    this.file = file;
    this.lockPath = lockPath;
    this.probe = probe;
    this.tmpDir = tmpDir;
  }

  /** Leases the ports for an env (keeping the ones it has) and returns its leases. */
  async reserve(options: ReserveOptions): Promise<Lease[]> {
    return withLock(this.lockPath, { what: `reserve ports for ${options.owner.project}`, waitMs: 60_000 }, async () => {
      const leases = await this.allocate(options);
      await this.write(leases);
      return leases.filter((l) => l.project === options.owner.project);
    });
  }

  /** What `reserve` would hand out now, without writing anything (for `envs plan`). */
  async preview(options: ReserveOptions): Promise<Lease[]> {
    const leases = await this.allocate(options);
    return leases.filter((l) => l.project === options.owner.project);
  }

  async release(project: string): Promise<void> {
    await withLock(this.lockPath, { what: `release ports of ${project}`, waitMs: 60_000 }, async () => {
      const leases = await this.read();
      if (leases.some((l) => l.project === project)) await this.write(leases.filter((l) => l.project !== project));
    });
  }

  /** The leases (of one project); STATE_CORRUPT when the file cannot be read, so callers can ask before acting. */
  async leases(project?: string): Promise<Lease[]> {
    const leases = await this.read();
    return project === undefined ? leases : leases.filter((l) => l.project === project);
  }

  /**
   * Under the registry's lock: when the file cannot be read (and was not written by a newer envs), moves it
   * aside (`ports.json.corrupt-<time>`, never deleted) and writes the leases `rebuild` derives. Returns where
   * the damaged file went, or undefined when there was nothing to repair.
   */
  async repair(rebuild: () => Promise<Lease[]>): Promise<{ movedTo: string; leases: Lease[] } | undefined> {
    return withLock(this.lockPath, { what: 'repair the port registry', waitMs: 60_000 }, async () => {
      const check = await checkRegistry(this.file);
      if (check.ok || check.newer) return undefined;
      const movedTo = await moveAside(this.file, new Date());
      const leases = await rebuild();
      await this.write(leases);
      return { movedTo, leases };
    });
  }

  private async allocate(options: ReserveOptions): Promise<Lease[]> {
    return allocate({
      ...options,
      leases: await this.read(),
      isFree: (port, protocol) => this.probe.isFree(port, protocol),
      now: new Date().toISOString(),
    });
  }

  private async read(): Promise<Lease[]> {
    const check = await checkRegistry(this.file);
    if (!check.ok) throw registryCorrupt(this.file, check.reason, check.newer);
    return check.leases;
  }

  private async write(leases: Lease[]): Promise<void> {
    const sorted = [...leases].sort((a, b) => a.port - b.port);
    await writeFileAtomic(
      this.file,
      `${JSON.stringify({ version: 1, leases: sorted }, null, 2)}\n`,
      this.tmpDir ? { tmpDir: this.tmpDir } : {},
    );
  }
}
