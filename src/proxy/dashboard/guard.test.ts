import { describe, expect, it } from 'vitest';
import { dashboardOrigin, isDashboardHost, mayAct, tokenMatches } from './guard.ts';

describe('dashboard guard', () => {
  it('knows its own Host on its port only', () => {
    expect(isDashboardHost('envs.localhost:1355', 1355)).toBe(true);
    expect(isDashboardHost('ENVS.localhost.:1355', 1355)).toBe(true);
    expect(isDashboardHost('envs.localhost', 80)).toBe(true);
    expect(isDashboardHost('envs.localhost', 1355)).toBe(false);
    expect(isDashboardHost('envs.localhost:1356', 1355)).toBe(false);
    expect(isDashboardHost('evil.com:1355', 1355)).toBe(false);
    expect(isDashboardHost('feat-x.envs.localhost:1355', 1355)).toBe(false);
    expect(isDashboardHost('127.0.0.1:1355', 1355)).toBe(false);
    expect(isDashboardHost(undefined, 1355)).toBe(false);
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
    expect(tokenMatches(['abc'], 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
  });

  it('lets a request act only with the exact Origin AND the token', () => {
    const origin = dashboardOrigin(1355);
    expect(origin).toBe('http://envs.localhost:1355');
    expect(mayAct({ origin, 'x-envs-token': 't0k' }, 1355, 't0k')).toEqual({ ok: true });
    expect(mayAct({ 'x-envs-token': 't0k', 'sec-fetch-site': 'same-origin' }, 1355, 't0k')).toMatchObject({ ok: false });
    expect(mayAct({ origin: 'http://evil.localhost:1355', 'x-envs-token': 't0k' }, 1355, 't0k')).toMatchObject({ ok: false });
    expect(mayAct({ origin: `${origin}/`, 'x-envs-token': 't0k' }, 1355, 't0k')).toMatchObject({ ok: false });
    expect(mayAct({ origin: 'null', 'x-envs-token': 't0k' }, 1355, 't0k')).toMatchObject({ ok: false });
    expect(mayAct({ origin }, 1355, 't0k')).toMatchObject({ ok: false, reason: expect.stringMatching(/token/) });
    expect(mayAct({ origin, 'x-envs-token': 'nope' }, 1355, 't0k')).toMatchObject({ ok: false });
  });
});
