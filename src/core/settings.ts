import type { Config } from '../config/schema.ts';
import { EnvsError } from '../errors.ts';
import { DEFAULT_RANGE, type PortRange, parseRange } from '../ports/allocate.ts';
import { DEFAULT_SUBNET_RANGE, DEFAULT_SUBNET_SIZE, type SubnetRangeSetting } from '../subnets/allocate.ts';
import { parseCidr } from '../subnets/cidr.ts';
import { DEFAULT_POSTGRES_IMAGE } from './source.ts';

export interface UpSettings {
  /** Host ports envs may lease. */
  range: PortRange;
  /** The block env networks' subnets come from, and their size. */
  subnets: SubnetRangeSetting & { size: number };
  /** Seconds an env may take to come up. */
  waitTimeout: number;
}

/** How an env comes up under a config and an environment (variables override envs.yaml). */
export function upSettings(env: NodeJS.ProcessEnv, config: Config): UpSettings {
  return { range: portRange(env, config), subnets: subnetRange(env, config), waitTimeout: config.up?.waitTimeout ?? 300 };
}

function portRange(env: NodeJS.ProcessEnv, config: Config): PortRange {
  const text = env.ENVS_PORT_RANGE ?? config.ports?.range;
  if (text === undefined) return DEFAULT_RANGE;
  const range = parseRange(text);
  if (!range) {
    throw new EnvsError(
      'CONFIG_INVALID',
      `Port range "${text}" is not valid (${env.ENVS_PORT_RANGE !== undefined ? 'ENVS_PORT_RANGE' : 'ports.range in envs.yaml'}).`,
      {
        hint: 'Give two ports between 1024 and 65535, low-high, such as 20000-29999.',
      },
    );
  }
  return range;
}

function subnetRange(env: NodeJS.ProcessEnv, config: Config): UpSettings['subnets'] {
  const source = env.ENVS_SUBNET_RANGE ? 'ENVS_SUBNET_RANGE' : config.networks?.range ? 'networks.range in envs.yaml' : 'the default range';
  const text = env.ENVS_SUBNET_RANGE || config.networks?.range || DEFAULT_SUBNET_RANGE;
  const range = parseCidr(text);
  const sizeText = env.ENVS_SUBNET_SIZE;
  const size = sizeText ? Number(sizeText) : (config.networks?.size ?? DEFAULT_SUBNET_SIZE);
  if (!range || range.prefix < 8 || range.prefix > 29) {
    throw new EnvsError('CONFIG_INVALID', `Subnet range "${text}" (${source}) is not a usable IPv4 block.`, {
      hint: 'Give a private IPv4 block between /8 and /29, such as 10.213.0.0/16.',
    });
  }
  if (!Number.isInteger(size) || size < 16 || size > 29 || size < range.prefix) {
    throw new EnvsError(
      'CONFIG_INVALID',
      `Subnet size /${sizeText ?? size} (${sizeText ? 'ENVS_SUBNET_SIZE' : 'networks.size in envs.yaml'}) does not fit ${text}.`,
      {
        hint: 'Give a prefix length between 16 and 29 that fits in the range, such as 24.',
      },
    );
  }
  return { range, source, size };
}

/**
 * Variables the compose model is rendered with that must stay as they were when the env was made: the
 * embedded Postgres image (a later default or ENVS_POSTGRES_IMAGE must not move a data volume to another
 * major version).
 */
export function pinnedRenderEnv(env: NodeJS.ProcessEnv, recorded?: Record<string, string>): Record<string, string> {
  return { ENVS_POSTGRES_IMAGE: recorded?.ENVS_POSTGRES_IMAGE ?? (env.ENVS_POSTGRES_IMAGE || DEFAULT_POSTGRES_IMAGE) };
}
