import { describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { withDatabaseVolume } from './database.ts';
import type { DatabaseRecord } from './record.ts';
import { envDatabaseName, sharedDatabaseEnv, sharedProject } from './shared-db.ts';

const model = (): ComposeModel => ({
  services: {
    db: { image: 'postgres:17-alpine', volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data' }] },
    api: { image: 'api', depends_on: { db: { condition: 'service_healthy' }, cache: { condition: 'service_started' } } },
    worker: { image: 'worker', depends_on: ['db'] },
  },
  volumes: { pgdata: {} },
});

const db = (extra: Partial<DatabaseRecord> = {}): DatabaseRecord => ({
  service: 'db',
  strategy: 'volume-clone',
  image: 'postgres:17-alpine',
  dataPath: '/var/lib/postgresql/data',
  volume: 'pgdata',
  mountPath: '/var/lib/postgresql/data',
  ...extra,
});

describe('withDatabaseVolume', () => {
  it('leaves the model alone until there is a clone', () => {
    const m = model();
    expect(withDatabaseVolume(m, db())).toBe(m);
    expect(withDatabaseVolume(m, undefined)).toBe(m);
  });

  it("gives a clone's data volume its driver options, leaving the original model untouched", () => {
    const m = model();
    const options = { type: 'overlay', device: 'overlay', o: 'lowerdir=/s,upperdir=/c/upper,workdir=/c/work' };
    const out = withDatabaseVolume(m, db({ volumeOptions: options }));
    expect(out.volumes?.pgdata).toEqual({ driver: 'local', driver_opts: options });
    expect(m.volumes?.pgdata).toEqual({});
  });

  it('adds a named volume where the image had only its anonymous one', () => {
    const m: ComposeModel = { services: { db: { image: 'postgres:16' } } };
    const out = withDatabaseVolume(m, db({ volume: 'envs-db-data', addVolume: true }));
    expect(out.services.db?.volumes).toEqual([{ type: 'volume', source: 'envs-db-data', target: '/var/lib/postgresql/data' }]);
    expect(out.volumes).toEqual({ 'envs-db-data': {} });
  });

  it('takes the database service out (and what waits for it) when the database is on the shared server', () => {
    const shared = { project: 'p', port: 1, database: 'env_x', user: 'app', password: 'pw', golden: 'app', pgVersion: '17' };
    const out = withDatabaseVolume(model(), db({ strategy: 'template', shared }));
    expect(Object.keys(out.services)).toEqual(['api', 'worker']);
    expect(out.services.api?.depends_on).toEqual({ cache: { condition: 'service_started' } });
    expect(out.services.worker?.depends_on).toEqual([]);
  });
});

describe('shared server', () => {
  it('names each env database as an identifier of its own, and each server per snapshot', () => {
    expect(envDatabaseName('feat-login-3f9a2c')).toBe('env_feat_login_3f9a2c');
    expect(envDatabaseName('x'.repeat(100))).toHaveLength(63);
    expect(sharedProject('app-1234', 'main-abc')).toMatch(/^envs-app-1234-shared-[0-9a-z]+$/);
    expect(sharedProject('app-1234', 'main-abc')).not.toBe(sharedProject('app-1234', 'main-abd'));
  });

  it("points the env's variables at its own database on the shared server, escaping the password", () => {
    const env = sharedDatabaseEnv({
      project: 'p',
      port: 20001,
      database: 'env_x',
      user: 'app',
      password: 'p@ss:/w',
      golden: 'app',
      pgVersion: '15',
    });
    expect(env.DATABASE_URL).toBe('postgres://app:p%40ss%3A%2Fw@127.0.0.1:20001/env_x');
    expect(env).toMatchObject({ PGHOST: '127.0.0.1', PGPORT: '20001', PGUSER: 'app', PGDATABASE: 'env_x', PGPASSWORD: 'p@ss:/w' });
  });
});
