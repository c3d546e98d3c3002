import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { isLocked, withLock } from './lock.ts';

const tempDir = useTempDir('lock');

describe('withLock', () => {
  it('serialises holders in one process', async () => {
    const lock = join(tempDir(), 'a.lock');
    const order: string[] = [];
    const hold = (name: string) =>
      withLock(lock, { what: name, waitMs: 5_000 }, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 20));
        order.push(`${name}-`);
      });
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    expect(order.join(' ')).toMatch(/^(\w)\+ \1- (\w)\+ \2- (\w)\+ \3-$/);
    expect(await isLocked(lock)).toBe(false);
  });

  it('fails at once, naming the holder, when told not to wait', async () => {
    const lock = join(tempDir(), 'b.lock');
    await withLock(lock, { what: 'envs create feat/x', waitMs: 0 }, async () => {
      expect(await isLocked(lock)).toBe(true);
      const error = await withLock(lock, { what: 'other', waitMs: 0 }, async () => {}).catch((e: unknown) => e);
      expect(EnvsError.is(error) && error.code).toBe('ENV_BUSY');
      expect((error as Error).message).toMatch(new RegExp(`process ${process.pid} \\(envs create feat/x`));
    });
  });

  it('breaks at once a lock whose holder died', async () => {
    const lock = join(tempDir(), 'c.lock');
    const dead = (await execa('node', ['-e', 'process.stdout.write(String(process.pid))'])).stdout;
    await mkdir(`${lock}.d`);
    await writeFile(
      join(`${lock}.d`, 'owner.json'),
      JSON.stringify({ pid: Number(dead), host: hostname(), what: 'killed create', since: '', token: 't' }),
    );
    expect(await isLocked(lock)).toBe(false);
    expect(await withLock(lock, { what: 'next', waitMs: 0 }, async () => 'got it')).toBe('got it');
  });

  it('breaks a lock whose maker was killed between mkdir and writing its owner (an empty owner.json)', async () => {
    const lock = join(tempDir(), 'd.lock');
    await mkdir(`${lock}.d`);
    await writeFile(join(`${lock}.d`, 'owner.json'), '');
    const past = new Date(Date.now() - 60_000);
    await utimes(join(`${lock}.d`, 'owner.json'), past, past);
    await utimes(`${lock}.d`, past, past);
    expect(await withLock(lock, { what: 'next', waitMs: 0 }, async () => 'got it')).toBe('got it');
    expect(await isLocked(lock)).toBe(false);
  });

  it('excludes other processes (no lost updates across 4 processes × 25 increments)', async () => {
    const lock = join(tempDir(), 'counter.lock');
    const counter = join(tempDir(), 'counter');
    await writeFile(counter, '0');
    const module = fileURLToPath(new URL('./lock.ts', import.meta.url));
    const script = `
      import { readFile, writeFile } from 'node:fs/promises';
      const { withLock } = await import(${JSON.stringify(module)});
      for (let i = 0; i < 25; i++) {
        await withLock(${JSON.stringify(lock)}, { what: 'count', waitMs: 30000 }, async () => {
          const n = Number(await readFile(${JSON.stringify(counter)}, 'utf8'));
          await new Promise((r) => setTimeout(r, 1));
          await writeFile(${JSON.stringify(counter)}, String(n + 1));
        });
      }`;
    await Promise.all([1, 2, 3, 4].map(() => execa('node', ['--input-type=module', '-e', script])));
    expect(await readFile(counter, 'utf8')).toBe('100');
  }, 60_000);
});
