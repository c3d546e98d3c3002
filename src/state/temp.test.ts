import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { writeFileAtomic } from './atomic.ts';
import { clearStaleTemp, tempName, tempPrefix } from './temp.ts';

const tempDir = useTempDir('temp');

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  return Number((await execa('node', ['-e', 'process.stdout.write(String(process.pid))'])).stdout);
}

describe('temporary files in the state directory', () => {
  it('clears what a dead process left (files and scratch directories), keeps a live one and foreign names', async () => {
    const tmp = join(tempDir(), 'tmp');
    await mkdir(tmp);
    const dead = await deadPid();
    const deadFile = join(tmp, tempName('write').replace(`.${process.pid}.`, `.${dead}.`));
    const deadDir = join(tmp, `${tempPrefix('render').replace(`.${process.pid}.`, `.${dead}.`)}abc123`);
    const live = join(tmp, tempName('write'));
    const foreign = join(tmp, 'notes.txt');
    await writeFile(deadFile, 'DB_PASSWORD=secret');
    await mkdir(deadDir);
    await writeFile(join(deadDir, '.env'), 'DB_PASSWORD=secret');
    await writeFile(live, 'in use');
    await writeFile(foreign, 'not ours');

    const removed = await clearStaleTemp(tmp);
    expect(removed.sort()).toEqual([deadDir, deadFile].sort());
    expect((await readdir(tmp)).sort()).toEqual([live, foreign].map((p) => p.slice(tmp.length + 1)).sort());
    expect(await clearStaleTemp(join(tempDir(), 'missing'))).toEqual([]);
  });

  it('writes through the state temp directory, leaving nothing there or beside the target; 0600 in 0700', async () => {
    const tmp = join(tempDir(), 'home', 'tmp');
    const target = join(tempDir(), 'home', 'repos', 'r', 'envs', 'x.json');
    await writeFileAtomic(target, '{"a":1}\n', { tmpDir: tmp });
    expect(await readFile(target, 'utf8')).toBe('{"a":1}\n');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await stat(tmp)).mode & 0o777).toBe(0o700);
    expect(await readdir(tmp)).toEqual([]);
    expect(await readdir(join(tempDir(), 'home', 'repos', 'r', 'envs'))).toEqual(['x.json']);
  });

  it('removes its temporary file when the rename fails', async () => {
    const tmp = join(tempDir(), 'tmp');
    const target = join(tempDir(), 'occupied');
    await mkdir(join(target, 'child'), { recursive: true }); // a non-empty directory cannot be renamed over
    const error = await writeFileAtomic(target, 'x', { tmpDir: tmp }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('STATE_UNUSABLE');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('says the state directory is unusable when a file is in its way', async () => {
    await writeFile(join(tempDir(), 'home'), 'a file');
    const error = await writeFileAtomic(join(tempDir(), 'home', 'ports.json'), '{}', { tmpDir: join(tempDir(), 'home', 'tmp') }).catch(
      (e: unknown) => e,
    );
    expect(EnvsError.is(error) && error.code).toBe('STATE_UNUSABLE');
    expect((error as Error).message).toMatch(/\/home(\/tmp)?: a file is in the way of a directory/);
    expect(existsSync(join(tempDir(), 'home', 'tmp'))).toBe(false);
  });
});
