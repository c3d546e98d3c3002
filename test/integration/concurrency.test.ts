import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';

const N = 10;

describe(`${N} envs created at once`, () => {
  const fx = useRepo(webFiles(), 'busy');
  const branches = Array.from({ length: N }, (_, i) => `agent/task-${i}`);

  it('all run, on distinct ports, and list shows them all', async () => {
    const results = await Promise.all(branches.map((b) => envs(fx.repo, fx.home, ['create', b, '--json'])));
    for (const r of results) expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const created = results.map((r) => r.json);
    expect(created.every((e) => e.status === 'running')).toBe(true);

    const ports = created.flatMap((e) => e.ports.map((p: any) => p.published));
    expect(ports).toHaveLength(N);
    expect(new Set(ports).size).toBe(N);

    const list = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(list).toHaveLength(N);
    expect(list.every((e: any) => e.status === 'running')).toBe(true);
    expect(list.map((e: any) => e.branch).sort()).toEqual([...branches].sort());

    // Each answers on its own port, from its own container.
    const bodies = await Promise.all(ports.map((p: number) => httpGet(p)));
    expect(new Set(bodies).size).toBe(N);

    // The registry holds exactly these leases, and parses.
    const registry = JSON.parse(await readFile(join(fx.home, 'ports.json'), 'utf8'));
    expect(registry.leases.map((l: any) => l.port).sort()).toEqual([...ports].sort());
  });

  it('all destroy at once, leaving nothing', async () => {
    const results = await Promise.all(branches.map((b) => envs(fx.repo, fx.home, ['destroy', b, '--json'])));
    for (const r of results) expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLeft(fx.label);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
    expect(JSON.parse(await readFile(join(fx.home, 'ports.json'), 'utf8')).leases).toEqual([]);
    expect((await fx.git('worktree', 'list')).split('\n')).toHaveLength(1);
  });

  it('of the same branch, exactly one wins', async () => {
    const results = await Promise.all([1, 2, 3].map(() => envs(fx.repo, fx.home, ['create', 'agent/same', '--json'])));
    const winners = results.filter((r) => r.exitCode === 0);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.exitCode !== 0)) {
      expect(['ENV_BUSY', 'ENV_EXISTS', 'BRANCH_CHECKED_OUT']).toContain(loser.json.error.code);
    }
    const list = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(list.map((e: any) => [e.branch, e.status])).toEqual([['agent/same', 'running']]);
    await envsOk(fx.repo, fx.home, ['destroy', 'agent/same']);
    await expectNothingLeft(fx.label);
  });
});
