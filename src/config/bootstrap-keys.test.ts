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
