import { describe, expect, it } from 'vitest';
import { TRICKY_VALUES } from '../../test/fixtures/tricky-values.ts';
import { parseEnv, quoteEnvValue, splitManagedBlock, withManagedBlock } from './dotenv-format.ts';

describe('quoteEnvValue', () => {
  it.each(Object.entries(TRICKY_VALUES))('%s reads back unchanged through dotenv', (key, value) => {
    const quoted = quoteEnvValue(value);
    expect(quoted).toBeDefined();
    expect(parseEnv(`${key}=${quoted}\nNEXT=1\n`)).toEqual({ [key]: value, NEXT: '1' });
  });

  it('uses single quotes whenever it can (literal in dotenv and Compose)', () => {
    expect(quoteEnvValue('a$b')).toBe("'a$b'");
    expect(quoteEnvValue("it's")).toBe('"it\'s"');
  });

  it('refuses values no quoting carries the same through both readers', () => {
    expect(quoteEnvValue("it's $5")).toBeUndefined();
    expect(quoteEnvValue("it's \\n")).toBeUndefined();
    // A trailing backslash would escape the closing single quote; double quotes cannot carry a backslash.
    expect(quoteEnvValue('ends with \\')).toBeUndefined();
    expect(quoteEnvValue('a\r\nb')).toBeUndefined();
  });
});

describe('managed block', () => {
  const user = '# my settings\nDATABASE_URL=postgres://u:p@localhost:5432/app\nOTHER=1';

  it('appends a block whose values win, leaving the user lines as they were', () => {
    const { text, unwritable } = withManagedBlock(user, { DATABASE_URL: 'postgres://u:p@localhost:21437/app' }, 'env feat-x-3f9a2c');
    expect(unwritable).toEqual([]);
    expect(text.startsWith(`${user}\n\n# >>> envs managed (env feat-x-3f9a2c)`)).toBe(true);
    expect(text.endsWith('# <<< envs managed <<<\n')).toBe(true);
    expect(parseEnv(text)).toEqual({ DATABASE_URL: 'postgres://u:p@localhost:21437/app', OTHER: '1' });
  });

  it('replaces its previous block on a re-run and is stable', () => {
    const first = withManagedBlock(user, { A: '1', B: '2' }, 'env x').text;
    const split = splitManagedBlock(first);
    expect(split.user).toBe(`${user}\n`);
    expect(split.block).toEqual({ A: '1', B: '2' });
    const second = withManagedBlock(split.user, { A: '3' }, 'env x').text;
    expect(parseEnv(second)).toEqual({ DATABASE_URL: 'postgres://u:p@localhost:5432/app', OTHER: '1', A: '3' });
    expect(withManagedBlock(splitManagedBlock(second).user, { A: '3' }, 'env x').text).toBe(second);
  });

  it('keeps lines the user added after the block', () => {
    const text = `${withManagedBlock('A=1\n', { B: '2' }, 'env x').text}C=3\n`;
    expect(splitManagedBlock(text)).toEqual({ user: 'A=1\nC=3\n', block: { B: '2' } });
  });

  it('writes no block for no variables, and reports unwritable values instead of mangling them', () => {
    expect(withManagedBlock('A=1\n', {}, 'env x').text).toBe('A=1\n');
    const { text, unwritable } = withManagedBlock('', { OK: 'x', BAD: "it's $5" }, 'env x');
    expect(unwritable).toEqual(['BAD']);
    expect(parseEnv(text)).toEqual({ OK: 'x' });
  });

  it('leaves a file alone whose block has lost its end marker', () => {
    const broken = 'A=1\n# >>> envs managed (env x): …\nB=2\n';
    expect(splitManagedBlock(broken)).toEqual({
      user: broken,
      problem: 'it has a "# >>> envs managed" line without its "# <<< envs managed" line',
    });
  });
});
