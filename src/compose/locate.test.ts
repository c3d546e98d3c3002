import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateCompose } from './locate.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envs-locate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('locateCompose', () => {
  it('takes ENVS_COMPOSE as program and leading arguments', async () => {
    expect(await locateCompose({ ENVS_COMPOSE: 'docker compose' })).toEqual({ file: 'docker', prefix: ['compose'] });
    expect(await locateCompose({ ENVS_COMPOSE: '/opt/bin/docker-compose' })).toEqual({ file: '/opt/bin/docker-compose', prefix: [] });
  });

  it('prefers the user’s own plugin directory', async () => {
    const plugin = join(dir, 'cli-plugins', 'docker-compose');
    await mkdir(join(dir, 'cli-plugins'));
    await writeFile(plugin, '#!/bin/sh\n');
    await chmod(plugin, 0o755);
    expect(await locateCompose({ DOCKER_CONFIG: dir })).toEqual({ file: plugin, prefix: [] });
  });

  it('skips a plugin file that is not executable', async () => {
    await mkdir(join(dir, 'cli-plugins'));
    await writeFile(join(dir, 'cli-plugins', 'docker-compose'), '');
    const found = await locateCompose({ DOCKER_CONFIG: dir });
    expect(found.file).not.toBe(join(dir, 'cli-plugins', 'docker-compose'));
  });
});
