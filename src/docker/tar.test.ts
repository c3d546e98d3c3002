import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { dirsTar } from './tar.ts';

describe('dirsTar', () => {
  it('is a tar of directory entries with the owners and modes given, nothing else', async () => {
    const bytes = await dirsTar(
      [
        { path: 'upper', uid: 999, gid: 998, mode: 0o700 },
        { path: 'a/work', uid: 0, gid: 0, mode: 0o755 },
      ],
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(bytes.length % 512).toBe(0);
    const entries: object[] = [];
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      entries.push({ name: header.name, type: header.type, uid: header.uid, gid: header.gid, mode: header.mode });
      stream.resume();
      stream.on('end', next);
    });
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', () => resolve());
      extract.on('error', reject);
      Readable.from([bytes]).pipe(extract);
    });
    expect(entries).toEqual([
      { name: 'upper', type: 'directory', uid: 999, gid: 998, mode: 0o700 },
      { name: 'a/work', type: 'directory', uid: 0, gid: 0, mode: 0o755 },
    ]);
  });
});
