import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { type EnvsEvent, Phases } from './events.ts';

describe('Phases', () => {
  it('ends each phase when the next starts, once per phase, and the last one on success', async () => {
    const events: EnvsEvent[] = [];
    const phases = new Phases('create', 'feat-x-123456', (e) => events.push(e));
    phases.enter('plan');
    const result = await phases.around(async () => {
      phases.enter('ports');
      phases.enter('ports'); // a retry of the same phase is not a new one
      phases.enter('compose-up');
      return 42;
    });
    expect(result).toBe(42);
    expect(events.map((e) => e.event === 'phase' && `${e.name}:${e.status}`)).toEqual([
      'plan:start',
      'plan:done',
      'ports:start',
      'ports:done',
      'compose-up:start',
      'compose-up:done',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ event: 'phase', command: 'create', env: 'feat-x-123456' });
      if (e.event === 'phase') expect(Number.isInteger(e.ms) && e.ms >= 0).toBe(true);
    }
  });

  it('reports a failure on the running phase with the error code, and survives a listener that throws', async () => {
    const events: EnvsEvent[] = [];
    const phases = new Phases('destroy', 'a', (e) => {
      events.push(e);
      throw new Error('listener bug');
    });
    phases.enter('check');
    await expect(
      phases.around(async () => {
        throw new EnvsError('DIRTY_WORKTREE', 'dirty');
      }),
    ).rejects.toThrow('dirty');
    expect(events.at(-1)).toMatchObject({ name: 'check', status: 'failed', code: 'DIRTY_WORKTREE' });
  });

  it('does nothing without a listener', async () => {
    const phases = new Phases('up', 'a', undefined);
    phases.enter('check');
    await expect(phases.around(async () => 'ok')).resolves.toBe('ok');
  });
});
