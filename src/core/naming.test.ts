import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import {
  checkBranchShape,
  envVarName,
  namesFor,
  printable,
  printableJson,
  printableLines,
  repoIdFor,
  sanitize,
  slugForBranch,
} from './naming.ts';

describe('slugForBranch', () => {
  it('keeps a readable part and appends a hash of the full name', () => {
    expect(slugForBranch('feat/login')).toMatch(/^feat-login-[0-9a-f]{6}$/);
  });

  it('tells apart branches whose readable parts are equal', () => {
    expect(sanitize('feat/a-b', 32)).toBe(sanitize('feat-a/b', 32));
    expect(slugForBranch('feat/a-b')).not.toBe(slugForBranch('feat-a/b'));
  });

  it('is stable', () => {
    expect(slugForBranch('feat/login')).toBe(slugForBranch('feat/login'));
  });

  it.each([
    ['$(x)', /^x-[0-9a-f]{6}$/],
    ['ünïcode/brånch', /^unicode-branch-[0-9a-f]{6}$/],
    ['日本語', /^env-[0-9a-f]{6}$/],
    ['UPPER/Case_and.dots', /^upper-case-and-dots-[0-9a-f]{6}$/],
  ])('reduces %j to [a-z0-9-]', (branch, pattern) => {
    expect(slugForBranch(branch)).toMatch(pattern);
  });

  it('bounds long names to a DNS label', () => {
    const slug = slugForBranch(`feat/${'x'.repeat(200)}`);
    expect(slug.length).toBeLessThanOrEqual(39);
    expect(slug).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });

  it('never ends the readable part with a dash before the hash', () => {
    expect(slugForBranch(`${'a'.repeat(31)}-b`)).toMatch(/^a{31}-[0-9a-f]{6}$/);
  });
});

describe('namesFor', () => {
  it('derives a project that satisfies Compose project-name rules', () => {
    const repoId = repoIdFor('My Repo!', '/home/u/My Repo!/.git');
    const { name, project, host } = namesFor(repoId, 'feat/login');
    expect(project).toBe(`envs-${repoId}-${name}`);
    expect(project).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    expect(host).toBe(name);
  });

  it('gives two clones of one repository different projects for the same branch', () => {
    const a = namesFor(repoIdFor('app', '/home/u/app/.git'), 'feat/x');
    const b = namesFor(repoIdFor('app', '/tmp/app/.git'), 'feat/x');
    expect(a.name).toBe(b.name);
    expect(a.project).not.toBe(b.project);
  });
});

describe('checkBranchShape', () => {
  it.each(['-rf', '', 'HEAD', '@', 'refs/heads/main', 'a\u0000b', 'tab\there', 'x'.repeat(241)])('rejects %j', (branch) => {
    expect(() => checkBranchShape(branch)).toThrow(EnvsError);
  });

  it.each(['feat/login', '$(x)', 'ünïcødé', 'a'.repeat(200)])('leaves %j to git', (branch) => {
    expect(() => checkBranchShape(branch)).not.toThrow();
  });

  it('escapes control characters in its message', () => {
    expect(() => checkBranchShape('a\u001bb')).toThrow(/a\\x1bb/);
  });
});

describe('envVarName', () => {
  it.each([
    ['db', 'DB'],
    ['api-gateway', 'API_GATEWAY'],
    ['web.v2', 'WEB_V2'],
    ['1st', '_1ST'],
  ])('%s → %s', (input, output) => {
    expect(envVarName(input)).toBe(output);
  });
});

describe('printable', () => {
  const forged = 'feat/x\nerror: forged\r\x1b[31mred\u202Eevil\u200Bhidden\u2028\u0085\u009b31m\u2066';

  it('escapes everything that could start a line, colour, reorder or hide text', () => {
    expect(printable(forged)).toBe('feat/x\\x0aerror: forged\\x0d\\x1b[31mred\\u202eevil\\u200bhidden\\u2028\\x85\\x9b31m\\u2066');
    expect(printable(forged)).toMatch(/^[\x20-\x7e]*$/);
  });

  it('keeps ordinary names, accents and emoji', () => {
    for (const name of ['feat/login', 'fix/café-ñ', 'feat/🚀-launch', 'docs/日本語']) expect(printable(name)).toBe(name);
  });

  it('printableLines keeps newlines and tabs, nothing else', () => {
    expect(printableLines('a\n\tb\r\x1b[2Jc\u202e')).toBe('a\n\tb\\x0d\\x1b[2Jc\\u202e');
  });

  it('printableJson escapes what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { branch: forged, n: 1 };
    const text = printableJson(JSON.stringify(value));
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
