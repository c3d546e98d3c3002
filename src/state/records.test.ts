import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../testing/temp-dir.ts';
import { JsonRecords } from './records.ts';

const tempDir = useTempDir('records');
const parse = (data: unknown) => {
  const record = data as { name?: unknown };
  if (typeof record?.name !== 'string') throw new Error('name is not a string');
  return record as { name: string };
};

describe('JsonRecords', () => {
  it('reports a damaged file apart from the readable ones, which stay readable', async () => {
    const records = new JsonRecords(tempDir(), parse, join(tempDir(), 'tmp'));
    await records.put({ name: 'good' });
    await writeFile(join(tempDir(), 'broken.json'), '{"name": "broken", "secret": "hunt');
    await writeFile(join(tempDir(), 'shape.json'), '{"name": 3}');
    await mkdir(join(tempDir(), 'dir.json'));
    const { records: found, damaged } = await records.scan();
    expect(found).toEqual([{ name: 'good' }]);
    expect(damaged).toEqual([
      { name: 'broken', file: join(tempDir(), 'broken.json'), reason: 'it is not valid JSON (it ends early: truncated?)' },
      { name: 'dir', file: join(tempDir(), 'dir.json'), reason: 'it is a directory' },
      { name: 'shape', file: join(tempDir(), 'shape.json'), reason: 'name is not a string', data: { name: 3 } },
    ]);
    expect(await records.read('good')).toEqual({ kind: 'ok', record: { name: 'good' } });
    expect((await records.read('shape')).kind).toBe('damaged');
    expect(await records.read('none')).toEqual({ kind: 'missing' });
  });
});
