import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../testing/temp-dir.ts';
import { DEFAULT_SOCKET, dockerodeOptions, resolveDockerHost } from './endpoint.ts';

const tempDir = useTempDir('endpoint');

describe('resolveDockerHost', () => {
  it('uses DOCKER_HOST first', async () => {
    expect(await resolveDockerHost({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock', DOCKER_CONFIG: tempDir() })).toBe(
      'unix:///run/user/1000/docker.sock',
    );
  });

  it('uses the default socket without a config or with the default context', async () => {
    expect(await resolveDockerHost({ DOCKER_CONFIG: tempDir() })).toBe(DEFAULT_SOCKET);
    await writeFile(join(tempDir(), 'config.json'), JSON.stringify({ currentContext: 'default' }));
    expect(await resolveDockerHost({ DOCKER_CONFIG: tempDir() })).toBe(DEFAULT_SOCKET);
  });
});

describe('dockerodeOptions', () => {
  it('takes the endpoint from its arguments only, masking what docker-modem would read from process.env', () => {
    expect(dockerodeOptions('unix:///var/run/docker.sock', {})).toMatchObject({ socketPath: '/var/run/docker.sock', host: undefined });
    expect(dockerodeOptions('tcp://127.0.0.1:2375', {})).toMatchObject({ host: '127.0.0.1', port: '2375', protocol: 'http' });
    expect(dockerodeOptions('tcp://engine.example:2376', { DOCKER_CERT_PATH: tempDir() })).toMatchObject({
      host: 'engine.example',
      protocol: 'https',
      socketPath: undefined,
    });
    expect(dockerodeOptions('tcp://127.0.0.1:2375', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tempDir() }).protocol).toBe('https');
  });
});
