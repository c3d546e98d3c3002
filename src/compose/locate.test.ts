import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../testing/temp-dir.ts';
import { locateCompose } from './locate.ts';

const tempDir = useTempDir('locate');

describe('locateCompose', () => {
  it('takes ENVS_COMPOSE as program and leading arguments', async () => {
    expect(await locateCompose({ ENVS_COMPOSE: 'docker compose' })).toEqual({ file: 'docker', prefix: ['compose'] });
    expect(await locateCompose({ ENVS_COMPOSE: '/opt/bin/docker-compose' })).toEqual({ file: '/opt/bin/docker-compose', prefix: [] });
  });

  it('prefers the user’s own plugin directory', async () => {
    const plugin = join(tempDir(), 'cli-plugins', 'docker-compose');
    await mkdir(join(tempDir(), 'cli-plugins'));
    await writeFile(plugin, '#!/bin/sh\n');
    await chmod(plugin, 0o755);
    expect(await locateCompose({ DOCKER_CONFIG: tempDir() })).toEqual({ file: plugin, prefix: [] });
  });

  it('skips a plugin file that is not executable', async () => {
    await mkdir(join(tempDir(), 'cli-plugins'));
    await writeFile(join(tempDir(), 'cli-plugins', 'docker-compose'), '');
    const found = await locateCompose({ DOCKER_CONFIG: tempDir() });
    expect(found.file).not.toBe(join(tempDir(), 'cli-plugins', 'docker-compose'));
  });
});
