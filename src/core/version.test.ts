import { describe, expect, it } from 'vitest';
import { compareVersions } from './version.ts';

describe('compareVersions', () => {
  it.each([
    ['2.26.1-4', '2.24.4', 1],
    ['2.24.4', '2.24.4', 0],
    ['v2.24.3', '2.24.4', -1],
    ['git version 2.39.5', '2.36', 1],
    ['22.0.0', '22', 0],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});
