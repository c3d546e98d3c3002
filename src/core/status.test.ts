import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../testing/record.ts';
import type { ContainerSummary } from './deps.ts';
import { deriveStatus } from './status.ts';

const record = sampleRecord;
const container = (service: string, state: string, health?: string): ContainerSummary => ({
  id: service,
  project: 'envs-r-1-x-1',
  service,
  state,
  labels: {},
  ports: [],
  ...(health ? { health } : {}),
});

describe('deriveStatus', () => {
  it('is running when every service runs (a one-shot that exited 0 counts)', () => {
    expect(
      deriveStatus(record(), { containers: [container('db', 'running'), container('web', 'exited(0)')], worktreeExists: true, busy: false })
        .status,
    ).toBe('running');
  });

  it('is stopped when nothing runs, partial when some services are down', () => {
    expect(deriveStatus(record(), { containers: [], worktreeExists: true, busy: false }).status).toBe('stopped');
    // `envs down` stops Postgres cleanly (exit 0): still stopped, not a finished one-shot.
    expect(
      deriveStatus(record(), {
        containers: [container('db', 'exited(0)'), container('web', 'exited(143)')],
        worktreeExists: true,
        busy: false,
      }).status,
    ).toBe('stopped');
    const partial = deriveStatus(record(), {
      containers: [container('db', 'running'), container('web', 'exited(1)')],
      worktreeExists: true,
      busy: false,
    });
    expect(partial).toEqual({ status: 'partial', problems: ['not running: web'] });
  });

  it('is partial when the worktree is gone', () => {
    expect(
      deriveStatus(record(), { containers: [container('db', 'running'), container('web', 'running')], worktreeExists: false, busy: false })
        .status,
    ).toBe('partial');
  });

  it('reports a create in progress, and an interrupted one as partial', () => {
    expect(
      deriveStatus(record({ status: 'creating', phase: 'compose-up' }), { containers: [], worktreeExists: true, busy: true }).status,
    ).toBe('creating');
    const interrupted = deriveStatus(record({ status: 'creating', phase: 'ports' }), { containers: [], worktreeExists: true, busy: false });
    expect(interrupted.status).toBe('partial');
    expect(interrupted.problems[0]).toMatch(/interrupted at "ports"/);
  });

  it('is unknown, never running, when the engine does not answer', () => {
    for (const status of ['running', 'stopped'] as const) {
      const derived = deriveStatus(record({ status }), { containers: undefined, worktreeExists: true, busy: false });
      expect(derived.status).toBe('unknown');
      expect(derived.problems[0]).toMatch(new RegExp(`did not answer.*unknown \\(last recorded: ${status}\\)`));
    }
    const gone = deriveStatus(record(), { containers: undefined, worktreeExists: false, busy: false });
    expect(gone).toMatchObject({
      status: 'unknown',
      problems: [expect.stringMatching(/did not answer/), expect.stringMatching(/is missing/)],
    });
  });

  it('flags unhealthy services', () => {
    const derived = deriveStatus(record(), {
      containers: [container('db', 'running', 'unhealthy'), container('web', 'running')],
      worktreeExists: true,
      busy: false,
    });
    expect(derived).toEqual({ status: 'running', problems: ['db is unhealthy'] });
  });
});
