import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { type EnvRecord, parseRecord } from '../core/record.ts';
import { JsonRecords } from '../state/records.ts';
import { repoEnvDirs } from '../state/scan.ts';
import { buildTable, type RouteTable } from './routes.ts';

/** Every readable env record of every repository under `home` (damaged ones are `doctor`'s business). */
export async function readAllRecords(home: string): Promise<EnvRecord[]> {
  const dirs = await repoEnvDirs(home);
  const scans = await Promise.all(
    dirs.map(({ envsDir }) => new JsonRecords<EnvRecord>(envsDir, parseRecord).scan().catch(() => undefined)),
  );
  return scans.flatMap((s) => s?.records ?? []);
}

/**
 * The route table, following the records without a restart: a watch on `<home>/repos` marks it stale at
 * once (create, up, down and destroy all rewrite or remove a record), and a short age limit covers
 * filesystems where watching does not work. A host the table does not know makes the caller wait for a
 * fresh read, so an env created a moment ago is found at its first request.
 */
export class LiveTable {
  private table: RouteTable = buildTable([]);
  private readAt = 0;
  private stale = true;
  private reading: Promise<RouteTable> | undefined;
  private watcher: FSWatcher | undefined;
  private readonly home: string;
  private readonly maxAgeMs: number;

  constructor(home: string, maxAgeMs = 2_000) {
    this.home = home;
    this.maxAgeMs = maxAgeMs;
  }

  /**
   * The table to route with: the current one while nothing changed, else (a record changed, or the age limit
   * passed) a fresh read, which requests wait for (one read for all of them, a few milliseconds).
   */
  get(): RouteTable | Promise<RouteTable> {
    if (this.stale || Date.now() - this.readAt > this.maxAgeMs) return this.refresh();
    return this.table;
  }

  /** A table read that started after this call (for a host the table does not know); concurrent callers share reads. */
  async fresh(): Promise<RouteTable> {
    const asked = Date.now();
    if (this.reading) await this.reading;
    if (this.readAt > asked && !this.stale) return this.table;
    return this.refresh();
  }

  /** The last table read (for listings, where a moment's staleness does not matter). */
  current(): RouteTable {
    return this.table;
  }

  refresh(): Promise<RouteTable> {
    if (this.reading) return this.reading;
    this.stale = false;
    const startedAt = Date.now();
    this.reading = readAllRecords(this.home)
      .then((records) => {
        this.table = buildTable(records);
        this.readAt = startedAt;
        return this.table;
      })
      .catch(() => this.table)
      .finally(() => {
        this.reading = undefined;
      });
    this.ensureWatch();
    return this.reading;
  }

  private ensureWatch(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(join(this.home, 'repos'), { recursive: true, persistent: false }, () => {
        this.stale = true;
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No repos directory yet (or no watching here): the age limit keeps the table current.
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
