import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { notJson, stateError } from './unusable.ts';

/** A record file that exists but cannot be read as a record: reported, never silently dropped. */
export interface DamagedFile {
  /** The record's name (its file name without `.json`). */
  name: string;
  file: string;
  /** Why it cannot be read, in words. */
  reason: string;
  /** The parsed JSON when the file is JSON of the wrong shape (to salvage what it still says). */
  data?: unknown;
}

export type ReadResult<T> = { kind: 'ok'; record: T } | { kind: 'missing' } | { kind: 'damaged'; damaged: DamagedFile };

/**
 * One JSON file per record in a directory, written atomically (0600, the temporary file in `tmpDir`),
 * read back through `parse` (which validates and throws with the reason). A file that does not parse is
 * reported as damaged, apart from the others, so one bad file never hides the rest.
 */
export class JsonRecords<T extends { name: string }> {
  private readonly dir: string;
  private readonly parse: (data: unknown, file: string) => T;
  private readonly tmpDir: string | undefined;

  constructor(dir: string, parse: (data: unknown, file: string) => T, tmpDir?: string) {
    this.dir = dir;
    this.parse = parse;
    this.tmpDir = tmpDir;
  }

  /** Every record, and every file that is not one. */
  async scan(): Promise<{ records: T[]; damaged: DamagedFile[] }> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], damaged: [] };
      throw stateError(error, this.dir);
    }
    const read = await Promise.all(names.map((n) => this.read(n.slice(0, -'.json'.length))));
    const records: T[] = [];
    const damaged: DamagedFile[] = [];
    for (const result of read) {
      if (result.kind === 'ok') records.push(result.record);
      else if (result.kind === 'damaged') damaged.push(result.damaged);
    }
    const byName = <X extends { name: string }>(a: X, b: X) => (a.name < b.name ? -1 : 1);
    return { records: records.sort(byName), damaged: damaged.sort(byName) };
  }

  async read(name: string): Promise<ReadResult<T>> {
    const file = this.file(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { kind: 'missing' };
      if (code === 'EISDIR') return { kind: 'damaged', damaged: { name, file, reason: 'it is a directory' } };
      throw stateError(error, file);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      return { kind: 'damaged', damaged: { name, file, reason: notJson(text, error) } };
    }
    try {
      return { kind: 'ok', record: this.parse(data, file) };
    } catch (error) {
      return { kind: 'damaged', damaged: { name, file, reason: (error as Error).message, data } };
    }
  }

  async put(record: T): Promise<void> {
    await writeFileAtomic(this.file(record.name), `${JSON.stringify(record, null, 2)}\n`, this.tmpDir ? { tmpDir: this.tmpDir } : {});
  }

  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true }).catch((error: unknown) => {
      throw stateError(error, this.file(name));
    });
  }

  file(name: string): string {
    return join(this.dir, `${name}.json`);
  }
}
