import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import type { Lease } from './allocate.ts';
import { PortRegistry } from './registry.ts';

const tempDir = useTempDir('registry');
const registry = () => new PortRegistry(join(tempDir(), 'ports.json'), join(tempDir(), 'ports'), { isFree: async () => true });
const lease: Lease = { port: 20001, protocol: 'tcp', project: 'envs-r-a', key: 'web/80/tcp', repo: 'r', env: 'a', since: '' };
const request = { owner: { project: 'envs-r-b', repo: 'r', env: 'b' }, requests: [{ key: 'web/80/tcp', protocol: 'tcp' as const }] };

describe('a damaged port registry', () => {
  it.each([
    ['garbage\n', /it is not valid JSON/],
    ['', /it is empty/],
    ['{"version":1,"leases":[{"port":"x"}]}', /lease 0 is not a lease/],
    ['{"version":1,"leases":{}}', /leases is not a list/],
  ])('%j stops every call with STATE_CORRUPT (exit 1, a fix), changing nothing', async (text, reason) => {
    const file = join(tempDir(), 'ports.json');
    await writeFile(file, text);
    for (const call of [
      () => registry().leases('envs-r-a'),
      () => registry().release('envs-r-a'),
      () => registry().reserve({ ...request, range: { from: 20000, to: 20009 } }),
      () => registry().preview({ ...request, range: { from: 20000, to: 20009 } }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(EnvsError.is(error) && error.code).toBe('STATE_CORRUPT');
      expect((error as EnvsError).exitCode).toBe(1);
      expect((error as EnvsError).message).toMatch(reason);
      expect((error as EnvsError).message).not.toMatch(/\n/);
      expect((error as EnvsError).hint).toMatch(/envs doctor --fix/);
    }
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('is repaired under its lock: moved aside (never deleted) and rebuilt', async () => {
    const file = join(tempDir(), 'ports.json');
    await writeFile(file, 'garbage');
    const repaired = await registry().repair(async () => [lease]);
    expect(repaired?.movedTo).toMatch(/ports\.json\.corrupt-\d{4}-/);
    expect(await readFile(repaired?.movedTo ?? '', 'utf8')).toBe('garbage');
    expect(await registry().leases()).toEqual([lease]);
    // A sound registry is left as it is.
    expect(await registry().repair(async () => [])).toBeUndefined();
    expect(await registry().leases()).toEqual([lease]);
  });

  it('written by a newer envs is reported as such and never moved', async () => {
    const file = join(tempDir(), 'ports.json');
    await writeFile(file, '{"version":2,"leases":[]}');
    const error = await registry()
      .leases()
      .catch((e: unknown) => e);
    expect((error as EnvsError).message).toMatch(/version 2, written by a newer version of envs/);
    expect(await registry().repair(async () => [])).toBeUndefined();
    expect(await readdir(tempDir())).toEqual(['ports.json']);
  });
});
