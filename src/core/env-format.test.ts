import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { run } from '../process/run.ts';
import { dotenvQuote, formatEnv, shellQuote } from './env-format.ts';

/** Values that break naive quoting: quotes of each kind, $ and backslashes, line breaks, a branch name. */
const tricky: Record<string, string> = {
  PLAIN: 'postgres://app:s3cret@127.0.0.1:21437/app',
  DOLLARS: '$HOME ${PATH} $(id) `id`',
  SINGLE: "it's",
  DOUBLE: 'say "hi" and it\'s',
  BACKSLASH: 'C:\\path\\n not a newline',
  LINES: 'line one\nline two',
  ALL_BUT_BACKTICK: `'"\\`,
  HASH: 'value # not a comment',
  SPACES: '  padded  ',
  EMPTY: '',
  ENVS_BRANCH: "feat/it's-$(rm -rf ~)",
};

describe('formatEnv', () => {
  it('dotenv output parses back to the same values with dotenv', () => {
    const { text, skipped } = formatEnv(tricky, 'dotenv');
    expect(skipped).toEqual([]);
    expect(parse(text)).toEqual(tricky);
  });

  it('shell output, sourced by sh, gives the same values', async () => {
    const { text } = formatEnv({ ...tricky, CR: 'a\rb' }, 'shell');
    const names = [...Object.keys(tricky), 'CR'];
    const script = `${text}\nfor n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`;
    const result = await run('sh', ['-c', script]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\0').slice(0, -1)).toEqual([...Object.values(tricky), 'a\rb']);
  });

  it('json output is the object', () => {
    expect(JSON.parse(formatEnv(tricky, 'json').text)).toEqual(tricky);
  });

  it('leaves out names no shell could set, and says which', () => {
    const { text, skipped } = formatEnv({ OK: '1', 'not-a-name': '2' }, 'shell');
    expect(text).toBe("export OK='1'\n");
    expect(skipped).toEqual(['not-a-name']);
  });

  it('refuses a value dotenv cannot represent instead of changing it', () => {
    expect(() => dotenvQuote('X', `'"\`\\`)).toThrow(/cannot be written in dotenv syntax/);
    expect(() => formatEnv({ X: `'"\`\\` }, 'shell')).not.toThrow();
  });

  it('single-quotes shell words', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(shellQuote('')).toBe("''");
  });
});
