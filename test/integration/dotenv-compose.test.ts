import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseEnv, quoteEnvValue, withManagedBlock } from '../../src/bootstrap/dotenv-format.ts';
import { locateCompose } from '../../src/compose/locate.ts';
import { useTempDir } from '../../src/testing/temp-dir.ts';
import { TRICKY_VALUES } from '../fixtures/tricky-values.ts';
import { images } from '../support/images.ts';

/** `docker compose config` prints a model to be read again, so it escapes `$` as `$$`. */
const unescapeDollars = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.split('$$').join('$')]));

async function composeEnvironment(dir: string): Promise<Record<string, string>> {
  const { file, prefix } = await locateCompose(process.env);
  // `config` only renders: no container, network or volume is made, so there is nothing to clean up on the engine.
  const { stdout } = await execa(file, [...prefix, '-p', 'envs-dotenv-roundtrip', 'config', '--format', 'json'], { cwd: dir });
  return unescapeDollars(JSON.parse(stdout).services.s.environment);
}

describe('env files we write read back the same through dotenv and `docker compose config`', () => {
  const dir = useTempDir('dotenv-compose');

  it('as an env_file of a service, and as the .env Compose interpolates from', async () => {
    const managed = withManagedBlock('# the user line\nPLAIN=overridden below\n', TRICKY_VALUES, 'env roundtrip');
    expect(managed.unwritable).toEqual([]);
    await writeFile(join(dir(), 'vals.env'), managed.text);
    await writeFile(join(dir(), '.env'), `INTERP_SRC=${quoteEnvValue(TRICKY_VALUES.DOLLAR_PASSWORD as string)}\n`);
    await writeFile(
      join(dir(), 'compose.yaml'),
      `services:\n  s:\n    image: ${images.busybox}\n    env_file: [vals.env]\n    environment:\n      INTERP: \${INTERP_SRC}\n`,
    );

    expect(parseEnv(managed.text)).toEqual(TRICKY_VALUES);
    expect(await composeEnvironment(dir())).toEqual({ ...TRICKY_VALUES, INTERP: TRICKY_VALUES.DOLLAR_PASSWORD });
  });
});
