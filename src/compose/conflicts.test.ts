import { describe, expect, it } from 'vitest';
import { conflictingPorts, networkFailure } from './conflicts.ts';

describe('conflictingPorts', () => {
  it('reads a port held by another container', () => {
    const stderr =
      'Error response from daemon: driver failed programming external connectivity on endpoint exp3-a-1 (0d2d): Bind for 127.0.0.1:20602 failed: port is already allocated';
    expect(conflictingPorts(stderr)).toEqual([20602]);
  });

  it('reads a port held by another process, IPv4 or IPv6', () => {
    const stderr = [
      'Error starting userland proxy: listen tcp4 127.0.0.1:20601: bind: address already in use',
      'Error starting userland proxy: listen tcp6 [::1]:20603: bind: address already in use',
    ].join('\n');
    expect(conflictingPorts(stderr)).toEqual([20601, 20603]);
  });

  it('finds nothing in other failures', () => {
    expect(conflictingPorts('Error response from daemon: pull access denied for nope')).toEqual([]);
  });
});

describe('networkFailure', () => {
  it('tells an overlapping subnet from exhausted pools', () => {
    expect(
      networkFailure('failed to create network envs-x_default: Error response from daemon: Pool overlaps with other one on this system'),
    ).toBe('overlap');
    expect(
      networkFailure('Error response from daemon: could not find an available, non-overlapping IPv4 address pool among the defaults'),
    ).toBe('pools');
    expect(networkFailure('Error response from daemon: all predefined address pools have been fully subnetted')).toBe('pools');
    expect(networkFailure('port is already allocated')).toBeUndefined();
  });
});
