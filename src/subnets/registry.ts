import { readFile } from 'node:fs/promises';
import { EnvsError } from '../errors.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { withLock } from '../state/lock.ts';
import { stateError } from '../state/unusable.ts';
import { allocateSubnets, type SubnetLease, type SubnetRangeSetting, type SubnetRequest } from './allocate.ts';
import { type Cidr, parseCidr } from './cidr.ts';

export interface SubnetReserveOptions {
  owner: { project: string; repo: string; env: string };
  requests: SubnetRequest[];
  range: SubnetRangeSetting;
}

/**
 * The machine-wide subnet registry (`subnets.json`), beside the port registry and kept the same way: one
 * file of leases changed under one cross-process lock, held while reading what the engine and the host's
 * routes already use, allocating and writing.
 */
export class SubnetRegistry {
  private readonly file: string;
  private readonly lockPath: string;
  /** Blocks in use by anything but the given project (engine networks, host routes). */
  private readonly occupied: (project: string) => Promise<Cidr[]>;

  private readonly tmpDir: string | undefined;

  constructor(file: string, lockPath: string, occupied: (project: string) => Promise<Cidr[]>, tmpDir?: string) {
    this.file = file;
    this.tmpDir = tmpDir;
    this.lockPath = lockPath;
    this.occupied = occupied;
  }

  async reserve(options: SubnetReserveOptions): Promise<SubnetLease[]> {
    return withLock(this.lockPath, { what: `reserve subnets for ${options.owner.project}`, waitMs: 60_000 }, async () => {
      const leases = await this.allocate(options);
      await this.write(leases);
      return leases.filter((l) => l.project === options.owner.project);
    });
  }

  /** What `reserve` would hand out now, writing nothing (for `envs plan`). */
  async preview(options: SubnetReserveOptions): Promise<SubnetLease[]> {
    return (await this.allocate(options)).filter((l) => l.project === options.owner.project);
  }

  async release(project: string): Promise<void> {
    await withLock(this.lockPath, { what: `release subnets of ${project}`, waitMs: 60_000 }, async () => {
      const leases = await this.read();
      if (leases.some((l) => l.project === project)) await this.write(leases.filter((l) => l.project !== project));
    });
  }

  async leases(project?: string): Promise<SubnetLease[]> {
    const leases = await this.read();
    return project === undefined ? leases : leases.filter((l) => l.project === project);
  }

  private async allocate(options: SubnetReserveOptions): Promise<SubnetLease[]> {
    const [leases, occupied] = await Promise.all([this.read(), options.requests.length > 0 ? this.occupied(options.owner.project) : []]);
    return allocateSubnets({ ...options, leases, occupied, now: new Date().toISOString() });
  }

  private async read(): Promise<SubnetLease[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw stateError(error, this.file); // e.g. a directory in its place: the user's to fix, not a bug
    }
    return parseSubnetRegistry(text, this.file);
  }

  private async write(leases: SubnetLease[]): Promise<void> {
    const sorted = [...leases].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
    await writeFileAtomic(
      this.file,
      `${JSON.stringify({ version: 1, leases: sorted }, null, 2)}\n`,
      this.tmpDir ? { tmpDir: this.tmpDir } : {},
    );
  }
}

/** The registry file is written only by envs, atomically; anything else is reported, never guessed at. */
export function parseSubnetRegistry(text: string, file: string): SubnetLease[] {
  let data: { version?: unknown; leases?: unknown };
  try {
    data = JSON.parse(text);
  } catch {
    data = {};
  }
  const ok =
    data?.version === 1 &&
    Array.isArray(data.leases) &&
    data.leases.every(
      (l: SubnetLease) =>
        typeof l?.cidr === 'string' && parseCidr(l.cidr) !== undefined && typeof l.project === 'string' && typeof l.key === 'string',
    );
  if (!ok) {
    throw new EnvsError('STATE_CORRUPT', `${file} is not a subnet registry this version of envs can read.`, {
      hint: `Move it aside (\`mv ${file} ${file}.bad\`); \`envs doctor --fix\` rebuilds the registries from the envs and the engine.`,
    });
  }
  return data.leases as SubnetLease[];
}
