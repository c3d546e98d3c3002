import { readFile } from 'node:fs/promises';
import type { PortProbe } from '../core/deps.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { withLock } from '../state/lock.ts';
import { allocate, type Lease, type LeaseKind, type LeaseRequest, type PortRange } from './allocate.ts';

/** The registry file is written only by envs, atomically; this checks it is one we can read. */
function parseRegistry(data: unknown, file: string): Lease[] {
  const registry = data as { version?: unknown; leases?: unknown };
  const ok =
    registry?.version === 1 &&
    Array.isArray(registry.leases) &&
    registry.leases.every((l: Lease) => Number.isInteger(l?.port) && typeof l.project === 'string' && typeof l.key === 'string');
  if (!ok) throw new Error(`${file} is not a port registry this version of envs can read; move it aside to start afresh.`);
  return registry.leases as Lease[];
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
 * happens after the lock is released.
 */
export class PortRegistry {
  private readonly file: string;
  private readonly lockPath: string;
  private readonly probe: PortProbe;

  constructor(file: string, lockPath: string, probe: PortProbe) {
    this.file = file;
    this.lockPath = lockPath;
    this.probe = probe;
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

  async leases(project?: string): Promise<Lease[]> {
    const leases = await this.read();
    return project === undefined ? leases : leases.filter((l) => l.project === project);
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
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return parseRegistry(JSON.parse(text), this.file);
  }

  private async write(leases: Lease[]): Promise<void> {
    const sorted = [...leases].sort((a, b) => a.port - b.port);
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, leases: sorted }, null, 2)}\n`);
  }
}
