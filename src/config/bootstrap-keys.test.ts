import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { parseConfig } from './load.ts';

/** The keys src/bootstrap reads: env templates, copy, envFiles, supabase. */
describe('bootstrap keys of envs.yaml', () => {
  it('reads them', async () => {
    const config = await parseConfig(`
env:
  API_URL: "http://127.0.0.1:{{ ports.kong.8000 }}"
  LABEL: "{{env.branch}}"
copy: [certs/*.pem, "config/*.local.json"]
envFiles:
  defaults: true
  exclude: [.env.vault]
  nextjs: in-place
supabase:
  enabled: true
  dir: apps/web
`);
    expect(config.env).toEqual({ API_URL: 'http://127.0.0.1:{{ ports.kong.8000 }}', LABEL: '{{env.branch}}' });
    expect(config.copy).toEqual(['certs/*.pem', 'config/*.local.json']);
    expect(config.envFiles).toEqual({ defaults: true, exclude: ['.env.vault'], nextjs: 'in-place' });
    expect(config.supabase).toEqual({ enabled: true, dir: 'apps/web' });
  });

  it('reports template syntax, bad names and unknown keys at load time, all at once', async () => {
    const error = await parseConfig(`
env:
  GOOD: "{{ ports.db.5432 }}"
  BROKEN: "http://x:{{ ports.db"
  EVAL: "{{ process.env.HOME }}"
  9BAD: x
envFiles:
  nextjs: sideways
  typo: 1
supabase:
  dir: ../elsewhere
`).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as EnvsError).details?.problems).toEqual([
      'env.BROKEN: "{{" at position 10 is never closed with "}}" (write \\{{ for a literal "{{")',
      'env.EVAL: {{ process.env.HOME }}: unknown namespace "process" (known: ports, env, db)',
      'env.9BAD: "9BAD" is not a variable name (letters, digits, _; not starting with a digit)',
      'envFiles.nextjs: Invalid option: expected one of "mode-local"|"in-place"',
      'envFiles: Unrecognized key: "typo"',
      'supabase.dir: must be a path inside the repository',
    ]);
  });
});

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
