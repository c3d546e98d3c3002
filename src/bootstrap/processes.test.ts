import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortRegistry } from '../ports/registry.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { leaseProcessPorts, processSpecs, processStates, startProcesses, stopProcesses } from './processes.ts';

const dir = useTempDir('processes');
const owner = { project: 'envs-r-a', repo: 'r', env: 'a' };
const range = { from: 32000, to: 32009 };

describe('processSpecs', () => {
  it('turns envs.yaml processes into specs, in file order', () => {
    expect(processSpecs({ web: { command: 'pnpm dev', port: 3000 }, worker: { command: ['node', 'w.js'], cwd: 'apps/w' } })).toEqual([
      { name: 'web', command: 'pnpm dev', port: 3000 },
      { name: 'worker', command: ['node', 'w.js'], cwd: 'apps/w' },
    ]);
    expect(processSpecs(undefined)).toEqual([]);
  });
});

describe('leaseProcessPorts', () => {
  const specs = [
    { name: 'web', command: 'x', port: 3000 },
    { name: 'worker', command: 'y' },
  ];

  it('leases one port per process that has one, keeps it, and moves it when someone else took it', async () => {
    const taken = new Set<number>();
    const probe = { isFree: async (port: number) => !taken.has(port) };
    const ports = new PortRegistry(join(dir(), 'ports.json'), join(dir(), 'ports.lock'), probe);
    // The env already holds a compose lease: process leases must not drop it.
    await ports.reserve({ owner, requests: [{ key: 'db/5432/tcp', protocol: 'tcp' }], range });
    const options = { ports, owner, processes: specs, range, stateDir: join(dir(), 'state'), probe };
    const first = await leaseProcessPorts(options);
    expect(Object.keys(first)).toEqual(['web']);
    expect(await leaseProcessPorts(options)).toEqual(first);
    taken.add(first.web as number);
    const moved = await leaseProcessPorts(options);
    expect(moved.web).not.toBe(first.web);
    expect((await ports.leases(owner.project)).map((l) => l.key).sort()).toEqual(['db/5432/tcp', 'process:web']);
  });

  it('does not move a port that the env’s own running process holds', async () => {
    const stateDir = join(dir(), 'state');
    const ports = new PortRegistry(join(dir(), 'ports.json'), join(dir(), 'ports.lock'), { isFree: async () => true });
    const leased = await leaseProcessPorts({ ports, owner, processes: specs.slice(0, 1), range, stateDir });
    await startProcesses({
      stateDir,
      session: 's',
      worktree: dir(),
      processes: [{ name: 'web', command: 'sleep 30', port: 3000 }],
      ports: leased,
      env: {},
      mode: 'group',
    });
    try {
      // Every port probes as taken now; web's is its own, so it stays.
      const busy = { isFree: async () => false };
      expect(await leaseProcessPorts({ ports, owner, processes: specs.slice(0, 1), range, stateDir, probe: busy })).toEqual(leased);
      expect((await processStates(stateDir))[0]).toMatchObject({ name: 'web', state: 'running', port: leased.web });
    } finally {
      await stopProcesses({ stateDir, graceMs: 200 });
    }
    expect((await processStates(stateDir))[0]).toMatchObject({ state: 'stopped' });
  });
});
