import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { parseConfig } from './load.ts';

describe('parseConfig', () => {
  it('accepts an empty file', async () => {
    expect(await parseConfig('')).toEqual({});
  });

  it('reads every section', async () => {
    const config = await parseConfig(
      'compose:\n  files: [compose.yaml, compose.dev.yaml]\nports:\n  range: 30000-30999\nup:\n  waitTimeout: 60\ndestroy:\n  disposable: [.venv]\n',
    );
    expect(config.compose?.files).toEqual(['compose.yaml', 'compose.dev.yaml']);
    expect(config.ports?.range).toBe('30000-30999');
  });

  it('takes `compose: { embedded: true }` alone (the hint COMPOSE_NOT_CHOSEN gives), refuses it beside files', async () => {
    expect((await parseConfig('compose: { embedded: true }\n')).compose).toEqual({ embedded: true });
    await expect(parseConfig('compose:\n  embedded: true\n  files: [compose.yaml]\n')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { problems: [expect.stringMatching(/compose: give either files or embedded: true, not both/)] },
    });
  });

  it('reports every problem at once', async () => {
    try {
      await parseConfig('compose:\n  files: [/etc/passwd]\nports:\n  range: lots\nunknown: 1\n');
      expect.unreachable();
    } catch (error) {
      expect(EnvsError.is(error) && error.code).toBe('CONFIG_INVALID');
      const problems = (error as EnvsError).details?.problems as string[];
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/compose\.files\.0: must be a path inside the repository/);
      expect(problems.join('\n')).toMatch(/ports\.range: must look like 20000-29999/);
      expect(problems.join('\n')).toMatch(/unknown/);
    }
  });

  it('reports YAML syntax errors with their line', async () => {
    await expect(parseConfig('compose: [\n')).rejects.toThrow(/envs\.yaml is not valid:[\s\S]*line/);
  });
});
