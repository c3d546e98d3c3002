import { describe, expect, it } from 'vitest';
import type { ComposeModel, Service } from '../compose/model.ts';
import type { Config } from '../config/schema.ts';
import { ADDED_VOLUME, findDatabase, imageMajor } from './detect.ts';

function model(db: Service, volumes: ComposeModel['volumes'] = {}, more: Record<string, Service> = {}): ComposeModel {
  return { services: { db, web: { image: 'nginx:1.27' }, ...more }, volumes };
}

const volume = (source: string, target: string) => ({ type: 'volume', source, target });

describe('findDatabase', () => {
  it('takes a named volume at the data path as the one to clone', () => {
    const found = findDatabase(
      model({ image: 'postgres:17-alpine', volumes: [volume('pgdata', '/var/lib/postgresql/data')] }, { pgdata: {} }),
      {},
    );
    expect(found).toEqual({
      service: 'db',
      image: 'postgres:17-alpine',
      dataPath: '/var/lib/postgresql/data',
      strategy: 'volume-clone',
      volume: 'pgdata',
      mountPath: '/var/lib/postgresql/data',
    });
  });

  it('keeps PGDATA below the mount (the volume is the mount, the data a subdirectory of it)', () => {
    const found = findDatabase(
      model(
        {
          image: 'postgres:16',
          environment: { PGDATA: '/var/lib/postgresql/data/pgdata' },
          volumes: [volume('init', '/docker-entrypoint-initdb.d'), volume('pgdata', '/var/lib/postgresql/data')],
        },
        { pgdata: {}, init: {} },
      ),
      {},
    );
    expect(found).toMatchObject({ volume: 'pgdata', mountPath: '/var/lib/postgresql/data', dataPath: '/var/lib/postgresql/data/pgdata' });
  });

  it('finds PostgreSQL 18’s data under /var/lib/postgresql/18/docker, in a volume mounted at /var/lib/postgresql', () => {
    const found = findDatabase(model({ image: 'postgres:18-alpine', volumes: [volume('pg', '/var/lib/postgresql')] }, { pg: {} }), {});
    expect(found).toMatchObject({
      strategy: 'volume-clone',
      volume: 'pg',
      mountPath: '/var/lib/postgresql',
      dataPath: '/var/lib/postgresql/18/docker',
    });
  });

  it('prefers the deepest mount holding the data path', () => {
    const found = findDatabase(
      model(
        { image: 'postgres:15', volumes: [volume('outer', '/var/lib/postgresql'), volume('inner', '/var/lib/postgresql/data/')] },
        { outer: {}, inner: {} },
      ),
      {},
    );
    expect(found).toMatchObject({ volume: 'inner' });
  });

  it('adds a named volume where the image’s anonymous one (no mount, or an anonymous mount) holds the data', () => {
    for (const volumes of [undefined, [{ type: 'volume', target: '/var/lib/postgresql/data' }]]) {
      expect(findDatabase(model({ image: 'postgres:15', ...(volumes ? { volumes } : {}) }), {})).toMatchObject({
        strategy: 'volume-clone',
        volume: ADDED_VOLUME,
        mountPath: '/var/lib/postgresql/data',
        addVolume: true,
      });
    }
  });

  it('does not clone a bind mount, an external volume or another driver’s volume, and says why', () => {
    const bind = findDatabase(
      model({ image: 'postgres:15', volumes: [{ type: 'bind', source: '/srv/pg', target: '/var/lib/postgresql/data' }] }),
      {},
    );
    expect(bind).toMatchObject({ strategy: 'none', note: "db's data is a bind mount (/srv/pg): it cannot be cloned" });
    expect(bind?.volume).toBeUndefined();
    const external = findDatabase(
      model({ image: 'postgres:15', volumes: [volume('shared', '/var/lib/postgresql/data')] }, { shared: { external: true } }),
      {},
    );
    expect(external).toMatchObject({ strategy: 'none', note: "db's data is the external volume shared: it is shared, not cloned" });
    const driver = findDatabase(
      model({ image: 'postgres:15', volumes: [volume('nfs', '/var/lib/postgresql/data')] }, { nfs: { driver: 'netshare' } }),
      {},
    );
    expect(driver).toMatchObject({ strategy: 'none', note: "db's data volume uses the netshare driver: it cannot be cloned" });
  });

  it('locates the data volume for strategy migrate too (reset drops it), and never for none', () => {
    const db = { image: 'postgres:15', volumes: [volume('pgdata', '/var/lib/postgresql/data')] };
    expect(findDatabase(model(db, { pgdata: {} }), { database: { strategy: 'migrate' } })).toMatchObject({
      strategy: 'migrate',
      volume: 'pgdata',
    });
    expect(findDatabase(model({ image: 'postgres:15' }), { database: { strategy: 'migrate' } })).toMatchObject({
      strategy: 'migrate',
      volume: ADDED_VOLUME,
      addVolume: true,
    });
    const bound = findDatabase(
      model({ image: 'postgres:15', volumes: [{ type: 'bind', source: './data', target: '/var/lib/postgresql/data' }] }),
      {
        database: { strategy: 'migrate' },
      },
    );
    expect(bound).toMatchObject({ strategy: 'migrate', note: "db's data is a bind mount (./data): it cannot be reset" });
    expect(bound?.volume).toBeUndefined();
    expect(findDatabase(model(db, { pgdata: {} }), { database: { strategy: 'none' } })).toEqual({
      service: 'db',
      image: 'postgres:15',
      dataPath: '/var/lib/postgresql/data',
      strategy: 'none',
    });
  });

  it('follows database.service and database.dataPath; several Postgres services without one is no database', () => {
    const two = model(
      { image: 'postgres:15', volumes: [volume('a', '/var/lib/postgresql/data')] },
      { a: {}, b: {} },
      {
        analytics: { image: 'timescale/timescaledb:2.17.2-pg16', volumes: [volume('b', '/pg')] },
      },
    );
    expect(findDatabase(two, {})).toBeUndefined();
    const config: Config = { database: { service: 'analytics', dataPath: '/pg/data' } };
    expect(findDatabase(two, config)).toMatchObject({ service: 'analytics', volume: 'b', mountPath: '/pg', dataPath: '/pg/data' });
    expect(findDatabase(model({ image: 'pgvector/pgvector:pg16' }), {})).toMatchObject({ service: 'db', strategy: 'volume-clone' });
    expect(findDatabase({ services: { cache: { image: 'redis:7' } } }, {})).toBeUndefined();
  });
});

describe('imageMajor', () => {
  it.each([
    ['postgres:17-alpine', 17],
    ['postgres:16', 16],
    ['postgres:15.8', 15],
    ['supabase/postgres:15.8.1.060', 15],
    ['postgis/postgis:16-3.4', 16],
    ['localhost:5000/postgres:14', 14],
    ['postgres:16@sha256:9c2f1e0a', 16],
    ['envs-sandbox/postgres:15', 15],
  ])('%s → %s', (image, major) => {
    expect(imageMajor(image)).toBe(major);
  });

  it.each(['postgres', 'postgres:latest', 'localhost:5000/postgres', 'postgres@sha256:9c2f1e0a', 'postgres@sha256:18ab'])(
    '%s names no major version',
    (image) => {
      expect(imageMajor(image)).toBeUndefined();
    },
  );
});
