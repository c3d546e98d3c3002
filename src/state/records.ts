import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

/**
 * One JSON file per record in a directory, written atomically (0600), read back through `parse`
 * (which validates). A record that does not parse is reported, never silently dropped.
 */
export class JsonRecords<T extends { name: string }> {
  private readonly dir: string;
  private readonly parse: (data: unknown, file: string) => T;

  constructor(dir: string, parse: (data: unknown, file: string) => T) {
    this.dir = dir;
    this.parse = parse;
  }

  async list(): Promise<T[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: (T | undefined)[] = await Promise.all(names.map((n) => this.get(n.slice(0, -'.json'.length))));
    return records.filter((r) => r !== undefined).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async get(name: string): Promise<T | undefined> {
    const file = this.file(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return this.parse(JSON.parse(text), file);
  }

  async put(record: T): Promise<void> {
    await writeFileAtomic(this.file(record.name), `${JSON.stringify(record, null, 2)}\n`);
  }

  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }
}
