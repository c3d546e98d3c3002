import { describe, expect, it } from 'vitest';
import { isIdle, lastActivity } from './idle.ts';

const DAY = 86_400_000;
const now = Date.parse('2026-03-01T00:00:00Z');

describe('idle', () => {
  it('takes the latest known activity, ignoring unknown and unset times', () => {
    expect(lastActivity([now - 9 * DAY, undefined, Number.NaN, 0, now - 2 * DAY])).toBe(now - 2 * DAY);
    expect(lastActivity([undefined, Number.NaN])).toBeUndefined();
  });

  it('is idle only when the last activity is at least N days old', () => {
    expect(isIdle(now - 7 * DAY, now, 7)).toBe(true);
    expect(isIdle(now - 7 * DAY + 1, now, 7)).toBe(false);
    expect(isIdle(now - 2 * DAY, now, 1)).toBe(true);
  });

  it('never calls an env idle when nothing about its activity is known', () => {
    expect(isIdle(undefined, now, 0)).toBe(false);
  });
});
