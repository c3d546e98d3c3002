import type { ComposeModel } from '../compose/model.ts';
import type { Config } from '../config/schema.ts';
import { POSTGRES_IMAGE } from '../core/env-vars.ts';

export type DbStrategy = 'volume-clone' | 'template' | 'migrate' | 'none';

/** The env's Postgres as the compose model has it, and how its data is made. */
export interface DatabaseTarget {
  service: string;
  image: string;
  strategy: DbStrategy;
  /** The top-level volume (its key in the model) that holds the data; absent when strategy is not volume-clone. */
  volume?: string;
  /** Where that volume is mounted in the container. */
  mountPath?: string;
  /** PGDATA in the container (the mount path or below it). */
  dataPath: string;
  /** True when the model had no volume at the data path and envs adds one (the image's anonymous volume otherwise). */
  addVolume?: boolean;
  /** Why a volume-clone was not possible, when it was asked for or would have been the default. */
  note?: string;
}

/** Key of the volume envs adds when the database's data has no named volume. */
export const ADDED_VOLUME = 'envs-db-data';

/**
 * Which service is the env's database (database.service, else the one service with a Postgres-family image)
 * and where its data lives. volume-clone (the default) needs the data in a named volume of the env's own
 * project: a bind mount (`./volumes/db/data`) or an external volume cannot be cloned, and the env then
 * starts its database as before, saying why.
 */
export function findDatabase(model: ComposeModel, config: Config): DatabaseTarget | undefined {
  const wanted = config.database?.service;
  const candidates = wanted
    ? [wanted]
    : Object.entries(model.services)
        .filter(([, s]) => typeof s.image === 'string' && POSTGRES_IMAGE.test(s.image))
        .map(([name]) => name);
  if (candidates.length !== 1) return undefined;
  const service = candidates[0] as string;
  const definition = model.services[service];
  if (!definition) return undefined;
  const image = typeof definition.image === 'string' ? definition.image : '';
  const environment = definition.environment ?? {};
  const dataPath = config.database?.dataPath ?? environment.PGDATA ?? defaultDataPath(image);
  const asked = config.database?.strategy;
  const base = { service, image, dataPath };
  if (asked === 'none') return { ...base, strategy: asked };
  // migrate needs the data volume too: `envs db reset` drops it and migrates and seeds an empty one; template
  // needs what volume-clone needs: the first env's data, snapshotted, is the shared server's.
  const strategy = asked === 'migrate' ? 'migrate' : asked === 'template' ? 'template' : 'volume-clone';
  const why = strategy === 'migrate' ? 'it cannot be reset' : 'it cannot be cloned';

  const mounts = (Array.isArray(definition.volumes) ? definition.volumes : []) as ServiceVolume[];
  const mount = mounts
    .filter((m) => typeof m.target === 'string' && (dataPath === bare(m.target) || dataPath.startsWith(`${bare(m.target)}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!mount || (mount.type === 'volume' && !mount.source)) {
    // No mount (the image's anonymous volume) or an anonymous one: the env gets a named volume of its own.
    return { ...base, strategy, volume: ADDED_VOLUME, mountPath: dataPath, addVolume: true };
  }
  const none = strategy === 'migrate' ? 'migrate' : 'none';
  if (mount.type !== 'volume') {
    return {
      ...base,
      strategy: none,
      note: `${service}'s data is a ${mount.type} mount (${mount.source ?? mount.target}): ${why}`,
    };
  }
  const top = model.volumes?.[mount.source as string];
  if (top?.external) {
    return {
      ...base,
      strategy: none,
      note: `${service}'s data is the external volume ${mount.source}: it is shared, ${strategy === 'migrate' ? 'not reset' : 'not cloned'}`,
    };
  }
  if (top && typeof top.driver === 'string' && top.driver !== 'local') {
    return { ...base, strategy: none, note: `${service}'s data volume uses the ${top.driver} driver: ${why}` };
  }
  return { ...base, strategy, volume: mount.source as string, mountPath: mount.target };
}

/** A mount target as written (`/var/lib/postgresql/data/`) names the same directory as without its slash. */
function bare(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

interface ServiceVolume {
  type: string;
  source?: string;
  target: string;
}

/** The official images keep data in /var/lib/postgresql/data up to 17, in /var/lib/postgresql/<major>/docker from 18. */
function defaultDataPath(image: string): string {
  const major = imageMajor(image);
  return major !== undefined && major >= 18 ? `/var/lib/postgresql/${major}/docker` : '/var/lib/postgresql/data';
}

/** The Postgres major version an image reference names (`postgres:17-alpine` → 17, `supabase/postgres:15.8.1` → 15). */
export function imageMajor(image: string): number | undefined {
  // The digest goes first: `postgres@sha256:9c2f…` names no version, its hex is not a tag.
  const reference = (image.split('@')[0] ?? '').replace(/^[^/]*:\d+\//, '');
  const tag = /:([0-9]+)[.\-_a-z0-9]*$/i.exec(reference);
  return tag ? Number(tag[1]) : undefined;
}
