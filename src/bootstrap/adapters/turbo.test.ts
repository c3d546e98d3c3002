import { describe, expect, it } from 'vitest';
import { parseTurboConfig, turboArgv, turboEnvReport, turboVariables } from './turbo.ts';

const TURBO_JSON = `{
  // create-t3-turbo style
  "$schema": "https://turborepo.com/schema.json",
  "ui": "tui",
  "globalEnv": ["NODE_ENV"],
  "globalPassThroughEnv": ["NODE_ENV", "CI", "npm_lifecycle_event"],
  "tasks": {
    "build": { "dependsOn": ["^build"], "outputs": [".next/**", "!.next/cache/**"], "env": ["DATABASE_URL", "AUTH_*"] },
    "dev": { "persistent": true, "cache": false },
    "web#dev": { "passThroughEnv": ["SUPABASE_*", "!SUPABASE_PROJECT_ID"] },
  },
}
`;
const injected = ['PORT', 'DATABASE_URL', 'NEXT_PUBLIC_SUPABASE_URL', 'SUPABASE_API_PORT', 'SUPABASE_PROJECT_ID', 'NODE_ENV', 'AUTH_URL'];

describe('turbo.json', () => {
  const config = parseTurboConfig(TURBO_JSON, 'turbo.json', '{"devDependencies":{"turbo":"^2.8.1"}}');

  it('reads it with comments and trailing commas, strict by default in turbo 2', () => {
    expect(config).toEqual({
      path: 'turbo.json',
      envMode: 'strict',
      version: '^2.8.1',
      globalEnv: ['NODE_ENV'],
      globalPassThroughEnv: ['NODE_ENV', 'CI', 'npm_lifecycle_event'],
      tasks: { build: ['DATABASE_URL', 'AUTH_*'], dev: [], 'web#dev': ['SUPABASE_*', '!SUPABASE_PROJECT_ID'] },
    });
    expect(parseTurboConfig('{"pipeline":{}}', 'turbo.json', '{"devDependencies":{"turbo":"1.13.0"}}').envMode).toBe('loose');
    expect(parseTurboConfig('{"envMode":"loose"}', 'turbo.json').envMode).toBe('loose');
    expect(() => parseTurboConfig('{"tasks": ', 'turbo.json')).toThrow(/turbo.json is not valid JSON/);
  });

  it('reports what strict mode drops from dev, honouring wildcards, negations, package#task and NEXT_PUBLIC_*', () => {
    const report = turboEnvReport(config, injected);
    expect(report.dropped).toEqual(['AUTH_URL', 'DATABASE_URL', 'PORT', 'SUPABASE_PROJECT_ID']);
    expect(report.passThroughSnippet).toEqual({
      globalPassThroughEnv: ['NODE_ENV', 'CI', 'npm_lifecycle_event', 'AUTH_URL', 'DATABASE_URL', 'PORT', 'SUPABASE_PROJECT_ID'],
    });
    expect(report.advice).toMatch(/strict env mode, so `turbo dev` would hide AUTH_URL, DATABASE_URL, PORT, SUPABASE_PROJECT_ID/);
    // The build task declares DATABASE_URL and AUTH_*.
    expect(turboEnvReport(config, injected, 'build').dropped).toEqual(['PORT', 'SUPABASE_API_PORT', 'SUPABASE_PROJECT_ID']);
    expect(turboEnvReport({ ...config, envMode: 'loose' }, injected)).toEqual({ dropped: [] });
  });

  it('gives each worktree its own relative cache dir unless turbo.json already has one', () => {
    expect(turboVariables(config)).toEqual({ env: { TURBO_CACHE_DIR: '.turbo/cache' }, warnings: [] });
    expect(turboVariables({ ...config, cacheDir: '.cache/turbo' })).toEqual({ env: {}, warnings: [] });
    expect(turboVariables({ ...config, cacheDir: '/var/cache/turbo' }).warnings).toEqual([
      'turbo.json sets an absolute cacheDir (/var/cache/turbo) every checkout shares; envs gives this env .turbo/cache instead.',
    ]);
  });
});

describe('turboArgv', () => {
  const strict = { envMode: 'strict' as const };
  it.each([
    [
      ['turbo', 'dev'],
      ['turbo', 'dev', '--env-mode=loose', '--cache-dir=.turbo/cache'],
    ],
    [
      ['pnpm', 'turbo', 'run', 'dev', '--filter', 'web'],
      ['pnpm', 'turbo', 'run', 'dev', '--filter', 'web', '--env-mode=loose', '--cache-dir=.turbo/cache'],
    ],
    [
      ['npx', 'turbo@2.8.1', 'dev', '--', '--port', '3000'],
      ['npx', 'turbo@2.8.1', 'dev', '--env-mode=loose', '--cache-dir=.turbo/cache', '--', '--port', '3000'],
    ],
    [
      ['turbo', 'dev', '--env-mode=strict', '--cache-dir', 'x'],
      ['turbo', 'dev', '--env-mode=strict', '--cache-dir', 'x'],
    ],
    [
      ['pnpm', 'dev'],
      ['pnpm', 'dev'],
    ],
    [
      ['node', 'turbo'],
      ['node', 'turbo'],
    ],
  ])('%j → %j', (argv, expected) => {
    expect(turboArgv(argv, strict)).toEqual(expected);
  });

  it('adds nothing a loose config with its own relative cache dir needs', () => {
    expect(turboArgv(['turbo', 'dev'], { envMode: 'loose', cacheDir: '.turbo/cache' })).toEqual(['turbo', 'dev']);
  });
});
