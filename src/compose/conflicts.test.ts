import { describe, expect, it } from 'vitest';
import { conflictingPorts } from './conflicts.ts';

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
