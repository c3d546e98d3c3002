import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { parseConfig } from './load.ts';

describe('install, bootstrap and processes in envs.yaml', () => {
  it('reads every form', async () => {
    const config = await parseConfig(`
install: { command: [make, deps], reuse: reflink }
bootstrap:
  - pnpm --filter db migrate
  - [node, scripts/seed.js]
processes:
  web: { command: "pnpm --filter web dev", port: 3000, cwd: apps/web, env: { NODE_ENV: development } }
  worker_1: { command: [node, worker.js] }
`);
    expect(config.install).toEqual({ command: ['make', 'deps'], reuse: 'reflink' });
    expect(config.bootstrap).toEqual(['pnpm --filter db migrate', ['node', 'scripts/seed.js']]);
    expect(config.processes?.web).toEqual({
      command: 'pnpm --filter web dev',
      port: 3000,
      cwd: 'apps/web',
      env: { NODE_ENV: 'development' },
    });
    expect((await parseConfig('install: false\n')).install).toBe(false);
    expect((await parseConfig('install: make deps\n')).install).toBe('make deps');
  });

  it('reports every problem at once', async () => {
    const text = `
install: { reuse: sometimes }
bootstrap: [""]
processes:
  1web: { command: x }
  api: { command: x, port: 70000, cwd: ../elsewhere, env: { "NOT-A-NAME": x }, restart: always }
  db: { port: 5432 }
`;
    const error = await parseConfig(text).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('CONFIG_INVALID');
    const problems = (((error as EnvsError).details?.problems as string[] | undefined) ?? []).join('\n');
    for (const expected of [
      /install/,
      /bootstrap\.0/,
      /processes.*1web|must start with a letter/,
      /processes\.api\.port/,
      /processes\.api\.cwd: must be a path inside the repository/,
      /processes\.api\.env/,
      /restart/,
      /processes\.db\.command/,
    ]) {
      expect(problems).toMatch(expected);
    }
  });
});
