import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './run.ts';
import { debugTrace, showArgv } from './trace.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ENVS_DEBUG traces', () => {
  it('are off unless ENVS_DEBUG is set', () => {
    expect(debugTrace({})).toBeUndefined();
    expect(debugTrace({ ENVS_DEBUG: '0' })).toBeUndefined();
    expect(debugTrace({ ENVS_DEBUG: '1' })).toBeTypeOf('function');
  });

  it('mask argv values that look like secrets, and quote what is unusual', () => {
    expect(
      showArgv('psql', [
        'PGPASSWORD=hunter2',
        '--db-password',
        'hunter3',
        'postgres://app:hunter4@127.0.0.1:5432/app',
        '--label=dev.envs.branch=feat/x',
        'two words',
        'line\nbreak',
      ]),
    ).toBe(
      'psql PGPASSWORD=*** --db-password *** postgres://app:***@127.0.0.1:5432/app --label=dev.envs.branch=feat/x "two words" "line\\nbreak"',
    );
  });

  it('trace each subprocess with argv, cwd, outcome and duration — never its environment', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const env = { PATH: process.env.PATH, ENVS_DEBUG: '1', API_TOKEN: 'tok-value-1234' };
    await run('node', ['-e', 'process.exit(3)'], { env, cwd: '/' });
    await run('envs-no-such-program', ['x'], { env });
    vi.restoreAllMocks();
    expect(lines).toEqual([
      expect.stringMatching(/^envs\[debug\] exec node -e "process\.exit\(3\)" \(cwd "\/"\) → exit 3 in \d+ ms\n$/),
      expect.stringMatching(/^envs\[debug\] exec envs-no-such-program x → could not start \(ENOENT\) in \d+ ms\n$/),
    ]);
    expect(lines.join('')).not.toContain('tok-value-1234');
  });
});
