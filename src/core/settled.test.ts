import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { settledInOrder } from './settled.ts';

describe('settledInOrder', () => {
  it('gives every value, in the order given', async () => {
    const values = await settledInOrder([sleep(20).then(() => 'slow'), Promise.resolve(2)] as const);
    expect(values).toEqual(['slow', 2]);
  });

  it('fails with the first error in the order given, not the first in time', async () => {
    const early = Promise.reject(new Error('second, but first in time'));
    const late = sleep(20).then(() => {
      throw new Error('first in order');
    });
    await expect(settledInOrder([late, early] as const)).rejects.toThrow('first in order');
  });

  it('waits for every read before failing, so none is left running', async () => {
    let finished = false;
    const slow = sleep(30).then(() => {
      finished = true;
    });
    await expect(settledInOrder([Promise.reject(new Error('no')), slow] as const)).rejects.toThrow('no');
    expect(finished).toBe(true);
  });
});
