import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvsError, openEnvs, planEnv } from '../../src/index.ts';
import { envs } from '../support/cli.ts';
import { images } from '../support/images.ts';
import { useRepo } from '../support/repo.ts';

/**
 * What envs takes from its environment: the library its `cwd` and `env` options only (never process.env or
 * process.cwd()), and ENVS_DEBUG its traces.
 */
describe('openEnvs({ cwd, env }) all the way down, and ENVS_DEBUG', () => {
  const fx = useRepo(
    {
      'compose.yaml': `services:
  web:
    image: ${images.busybox}
    command: ["sleep", "3600"]
    environment:
      MARK: \${ENVS_LIB_TEST_MARK:-unset}
    ports: ["8080:80"]
`,
      'sub/.keep': '',
    },
    'library',
  );
  const env = (more: Record<string, string>) => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ENVS_HOME: fx.home,
    ...more,
  });

  it('git runs with the env given (GIT_CEILING_DIRECTORIES stops its search)', async () => {
    const sub = join(fx.repo, 'sub');
    await mkdir(sub, { recursive: true });
    expect((await openEnvs({ cwd: sub, env: env({}) })).git.repo.root).toBe(fx.repo);
    const error = await openEnvs({ cwd: sub, env: env({ GIT_CEILING_DIRECTORIES: fx.repo }) }).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('NOT_A_GIT_REPO');
  });

  it('Compose interpolates from the env given, not from process.env', async () => {
    expect(process.env.ENVS_LIB_TEST_MARK).toBeUndefined();
    const deps = await openEnvs({ cwd: fx.repo, env: env({ ENVS_LIB_TEST_MARK: 'from-the-options' }) });
    const plan = await planEnv(deps, { branch: 'feat/lib' });
    expect(plan.compose.services.web?.environment).toMatchObject({ MARK: 'from-the-options' });
  });

  it('ENVS_DEBUG=1 traces every subprocess and engine call to stderr, redacted; stdout stays JSON', async () => {
    const result = await envs(fx.repo, fx.home, ['plan', 'feat/traced', '--json'], {
      ENVS_DEBUG: '1',
      ENVS_LIB_TEST_MARK: 'shell-secret-value-123',
      GITHUB_TOKEN: 'ghp_notprintedanywhere000',
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json.branch).toBe('feat/traced');
    const lines = result.stderr.trim().split('\n');
    expect(lines.every((l) => l.startsWith('envs[debug] '))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^envs\[debug\] exec git rev-parse .* \(cwd ".*library"\) → exit 0 in \d+ ms$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^envs\[debug\] exec \S*(docker-compose|docker) .*config --format json .*→ exit 0 in \d+ ms$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^envs\[debug\] engine info → ok in \d+ ms$/));
    expect(result.stderr).not.toContain('shell-secret-value-123');
    expect(result.stderr).not.toContain('ghp_notprintedanywhere000');
  });
});
