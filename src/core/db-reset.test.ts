import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { resetEnvDatabase } from './db-commands.ts';

const model: ComposeModel = {
  name: 'x',
  services: {
    db: {
      image: 'postgres:17-alpine',
      environment: { POSTGRES_PASSWORD: 'pw' },
      ports: [{ target: 5432, published: '5432', protocol: 'tcp' }],
      volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data' }],
    },
  },
  volumes: { pgdata: {} },
};

let fakes: Fakes;
beforeEach(async () => {
  fakes = await makeFakes(model);
  await createEnv(fakes.deps, { branch: 'main-env' }); // seeds, and takes the snapshot the next env clones
});
afterEach(async () => {
  await fakes.cleanup();
});

/** The env's clone as its record on disk names it. */
function cloneOnDisk(name: string) {
  return fakes.records.get(name)?.database?.clone;
}

describe('db reset', () => {
  it('names the new clone in the record before the old one is deleted, so a reset that stops after the layout leaves an env up can start', async () => {
    const env = await createEnv(fakes.deps, { branch: 'feat/y' });
    const old = cloneOnDisk(env.name);
    expect(old?.volume).toMatch(/-dbclone$/);
    fakes.calls.length = 0;
    fakes.upResults.push({ ok: false, stderr: 'Error response from daemon: no space left on device' });
    const error = await resetEnvDatabase(fakes.deps, 'feat/y', {}).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('COMPOSE_FAILED');
    const now = cloneOnDisk(env.name);
    expect(now?.volume).toMatch(/-dbclone$/);
    expect(now?.volume).not.toBe(old?.volume);
    // The old clone's deletion started only once the new one was laid out (and recorded).
    const at = (prefix: string) => fakes.calls.findIndex((c) => c.startsWith(prefix));
    expect(at('engine startTask')).toBeGreaterThan(at(`engine createVolume ${now?.volume}`));
  });

  it('keeps the old clone, named in the record and not deleted, when the new one cannot be laid out', async () => {
    const env = await createEnv(fakes.deps, { branch: 'feat/z' });
    const old = cloneOnDisk(env.name);
    fakes.calls.length = 0;
    const engine = fakes.deps.engine;
    const runTask = engine.runTask;
    engine.runTask = async () => ({ exitCode: 1, output: 'cp: No space left on device' });
    const error = await resetEnvDatabase(fakes.deps, 'feat/z', {}).catch((e: unknown) => e);
    engine.runTask = runTask;
    expect(EnvsError.is(error) && error.code).toBe('DB_FAILED');
    expect(cloneOnDisk(env.name)).toEqual(old);
    expect(fakes.calls.some((c) => c.startsWith('engine startTask'))).toBe(false);
  });
});
