import { appendFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from '../process/group.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { showLog } from './logs.ts';

const dir = useTempDir('logs');

describe('showLog', () => {
  it('prints the log (or its last lines) with a prefix, without carriage returns', async () => {
    const file = join(dir(), 'web.log');
    await writeFile(file, 'one\r\ntwo\nthree\npartial');
    let out = '';
    await showLog(file, { write: (t) => (out += t), prefix: 'web | ' });
    expect(out).toBe('web | one\nweb | two\nweb | three\nweb | partial\n');
    out = '';
    await showLog(file, { write: (t) => (out += t), tail: 2 });
    expect(out).toBe('three\npartial\n');
    out = '';
    await showLog(join(dir(), 'missing.log'), { write: (t) => (out += t) });
    expect(out).toBe('');
  });

  it('follows what is appended, and a log started anew after a restart, until aborted', async () => {
    const file = join(dir(), 'web.log');
    await writeFile(file, 'old line\n');
    const controller = new AbortController();
    let out = '';
    const following = showLog(file, { write: (t) => (out += t), tail: 0, follow: true, signal: controller.signal, pollMs: 20 });
    await sleep(60);
    await appendFile(file, 'new ');
    await sleep(60);
    await appendFile(file, 'line\n');
    await sleep(60);
    await rename(file, `${file}.1`);
    await writeFile(file, 'after restart\n');
    for (let i = 0; i < 250 && !out.includes('after restart'); i++) await sleep(20);
    controller.abort();
    await following;
    expect(out).toBe('new line\nafter restart\n');
  });
});
