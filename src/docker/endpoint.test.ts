import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET, dockerodeOptions, resolveDockerHost } from './endpoint.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envs-endpoint-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveDockerHost', () => {
  it('uses DOCKER_HOST first', async () => {
    expect(await resolveDockerHost({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock', DOCKER_CONFIG: dir })).toBe('unix:///run/user/1000/docker.sock');
  });

  it('uses the default socket without a config or with the default context', async () => {
    expect(await resolveDockerHost({ DOCKER_CONFIG: dir })).toBe(DEFAULT_SOCKET);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ currentContext: 'default' }));
    expect(await resolveDockerHost({ DOCKER_CONFIG: dir })).toBe(DEFAULT_SOCKET);
  });
});

describe('dockerodeOptions', () => {
  it('gives dockerode the socket path of a unix endpoint, and leaves others to docker-modem', () => {
    expect(dockerodeOptions('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerodeOptions('tcp://127.0.0.1:2375')).toBeUndefined();
  });
});
