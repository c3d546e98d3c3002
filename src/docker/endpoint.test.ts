import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { composeEnvironment, DEFAULT_SOCKET, dockerodeOptions, resolveEngine } from './endpoint.ts';

const tempDir = useTempDir('endpoint');

/** A context in a docker CLI config directory, as `docker context create` stores it. */
async function context(config: string, name: string, host: string, digest: string): Promise<void> {
  await mkdir(join(config, 'contexts', 'meta', digest), { recursive: true });
  await writeFile(
    join(config, 'contexts', 'meta', digest, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
}
// sha256("envs-x"), the directory name the docker CLI gives that context.
const ENVS_X = '6c76c5a51f6d7793cc03ed1f79964017d1acabee3b173d39eef2b6c0c0d4e207';

describe('resolveEngine', () => {
  it('uses DOCKER_HOST first, with its TLS settings', async () => {
    expect(
      await resolveEngine({
        DOCKER_HOST: 'tcp://10.0.0.1:2376',
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CONTEXT: 'bogus',
        DOCKER_CONFIG: tempDir(),
      }),
    ).toEqual({ host: 'tcp://10.0.0.1:2376', env: { DOCKER_HOST: 'tcp://10.0.0.1:2376', DOCKER_TLS_VERIFY: '1' } });
  });

  it('uses the default socket without a config or with the default context', async () => {
    expect((await resolveEngine({ DOCKER_CONFIG: tempDir() })).host).toBe(DEFAULT_SOCKET);
    await writeFile(join(tempDir(), 'config.json'), JSON.stringify({ currentContext: 'default' }));
    expect((await resolveEngine({ DOCKER_CONFIG: tempDir() })).host).toBe(DEFAULT_SOCKET);
  });

  it('reads a context from the docker CLI’s store, chosen by DOCKER_CONTEXT or the config', async () => {
    await context(tempDir(), 'envs-x', 'unix:///run/x.sock', ENVS_X);
    expect(await resolveEngine({ DOCKER_CONFIG: tempDir(), DOCKER_CONTEXT: 'envs-x' })).toEqual({
      host: 'unix:///run/x.sock',
      env: { DOCKER_HOST: 'unix:///run/x.sock' },
    });
    await writeFile(join(tempDir(), 'config.json'), JSON.stringify({ currentContext: 'envs-x' }));
    expect((await resolveEngine({ DOCKER_CONFIG: tempDir() })).host).toBe('unix:///run/x.sock');
  });

  it('refuses a context that does not exist, naming it and where it was chosen, instead of falling back', async () => {
    const error = await resolveEngine({ DOCKER_CONFIG: tempDir(), DOCKER_CONTEXT: 'bogus' }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('DOCKER_CONTEXT_UNKNOWN');
    expect((error as Error).message).toBe('The docker context "bogus" (from DOCKER_CONTEXT) does not exist.');
    await writeFile(join(tempDir(), 'config.json'), JSON.stringify({ currentContext: 'gone' }));
    await expect(resolveEngine({ DOCKER_CONFIG: tempDir() })).rejects.toThrow(/"gone" \(from currentContext in .*config\.json\)/);
  });
});

describe('composeEnvironment', () => {
  it('says the resolved endpoint explicitly and drops DOCKER_CONTEXT, so Compose cannot pick another engine', () => {
    const env = composeEnvironment(
      { PATH: '/bin', DOCKER_CONTEXT: 'envs-x', DOCKER_CONFIG: '/c' },
      { host: 'unix:///run/x.sock', env: { DOCKER_HOST: 'unix:///run/x.sock' } },
    );
    expect(env).toEqual({ PATH: '/bin', DOCKER_CONFIG: '/c', DOCKER_HOST: 'unix:///run/x.sock' });
  });
});

describe('dockerodeOptions', () => {
  it('takes the endpoint from its arguments only, masking what docker-modem would read from process.env', () => {
    expect(dockerodeOptions('unix:///var/run/docker.sock', {})).toMatchObject({ socketPath: '/var/run/docker.sock', host: undefined });
    expect(dockerodeOptions('tcp://127.0.0.1:2375', {})).toMatchObject({ host: '127.0.0.1', port: '2375', protocol: 'http' });
    expect(dockerodeOptions('tcp://10.0.0.1:2376', {})).toMatchObject({ protocol: 'https', host: '10.0.0.1', port: '2376' });
    expect(dockerodeOptions('ssh://me@box', {})).toMatchObject({
      protocol: 'ssh',
      host: 'box',
      port: 22,
      username: 'me',
      socketPath: undefined,
    });
    expect(dockerodeOptions('tcp://engine.example:2376', { DOCKER_CERT_PATH: tempDir() })).toMatchObject({
      host: 'engine.example',
      protocol: 'https',
      socketPath: undefined,
    });
    expect(dockerodeOptions('tcp://127.0.0.1:2375', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tempDir() }).protocol).toBe('https');
  });
});
