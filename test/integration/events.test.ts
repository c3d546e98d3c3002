import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { type Fixture, useRepo, webFiles } from '../support/repo.ts';

interface Event {
  event: string;
  command?: string;
  env?: string;
  name?: string;
  status?: string;
  ms?: number;
  code?: string;
}

/** Every stderr line as JSON: a line that is not fails the test. */
function lines(stderr: string): Event[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Event);
}

/** The phases are well formed: each starts, then ends (done) before the next starts; returns their names. */
function phases(events: Event[], command: string, env: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < events.length; i += 2) {
    const [start, end] = [events[i], events[i + 1]];
    expect(start).toEqual({ event: 'phase', command, env, name: start?.name, status: 'start', ms: 0 });
    expect(end).toMatchObject({ event: 'phase', command, env, name: start?.name, status: 'done' });
    expect(Number.isInteger(end?.ms) && (end?.ms ?? -1) >= 0).toBe(true);
    names.push(start?.name as string);
  }
  return names;
}

/** `expected` appear in `names` in this order (others may come between). */
function inOrder(names: string[], expected: string[]): void {
  expect(names.filter((n) => expected.includes(n))).toEqual(expected);
}

describe('--events ndjson', () => {
  const fx: Fixture = useRepo(webFiles(), 'eventsapp');

  it('streams the phases of create, down, up and destroy as JSON lines on stderr; the result stays on stdout', async () => {
    const created = await envsOk(fx.repo, fx.home, ['create', 'feat/ev', '--events', 'ndjson', '--json']);
    const env = created.json;
    expect(env).toMatchObject({ branch: 'feat/ev', status: 'running' });
    const createPhases = phases(lines(created.stderr), 'create', env.name);
    expect(createPhases[0]).toBe('plan');
    expect(createPhases.at(-1)).toBe('ready');
    inOrder(createPhases, ['plan', 'worktree', 'env-files', 'database', 'ports', 'compose-file', 'compose-up', 'ready']);

    // Human output on stdout too: only stderr is the stream.
    const down = await envsOk(fx.repo, fx.home, ['down', 'feat/ev', '--events', 'ndjson']);
    expect(down.stdout).toContain('feat/ev is stopped');
    expect(phases(lines(down.stderr), 'down', env.name)).toEqual(['check', 'processes', 'containers']);

    const up = await envsOk(fx.repo, fx.home, ['up', 'feat/ev', '--events', 'ndjson', '--json']);
    expect(up.json.status).toBe('running');
    const upPhases = phases(lines(up.stderr), 'up', env.name);
    inOrder(upPhases, ['check', 'ports', 'compose-file', 'compose-up']);

    // A refusal: the phase that refused fails with the code, then the error itself; nothing else on stderr.
    const work = join(env.worktree, 'draft.txt');
    await writeFile(work, 'mine\n');
    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/ev', '--events', 'ndjson']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toBe('');
    const refusal = lines(refused.stderr);
    expect(refusal).toEqual([
      { event: 'phase', command: 'destroy', env: env.name, name: 'check', status: 'start', ms: 0 },
      expect.objectContaining({ event: 'phase', name: 'check', status: 'failed', code: 'DIRTY_WORKTREE' }),
      expect.objectContaining({ event: 'error', command: 'destroy', code: 'DIRTY_WORKTREE', hint: expect.any(String) }),
    ]);
    await rm(work);

    const destroyed = await envsOk(fx.repo, fx.home, ['destroy', 'feat/ev', '--events', 'ndjson', '--json']);
    expect(destroyed.json).toMatchObject({ name: env.name, worktree_removed: true });
    expect(phases(lines(destroyed.stderr), 'destroy', env.name)).toEqual(['check', 'processes', 'containers', 'cleanup']);
    await expectNothingLeft(fx.label);
  }, 240_000);

  it('reports an error before any phase as one error line', async () => {
    const missing = await envs(fx.repo, fx.home, ['up', 'feat/none', '--events', 'ndjson']);
    expect(missing.exitCode).toBe(1);
    expect(lines(missing.stderr)).toEqual([expect.objectContaining({ event: 'error', command: 'up', code: 'ENV_NOT_FOUND' })]);
  });

  it('refuses an unknown format', async () => {
    const bad = await envs(fx.repo, fx.home, ['create', 'feat/x', '--events', 'yaml']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are ndjson/);
  });
});
