import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInfo } from './deps.ts';
import { REQUIRED, runDoctor } from './doctor.ts';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'envs-doctor-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

const deps = (nodeVersion: string) => ({
  gitVersion: async () => '2.45.0',
  compose: { version: async () => '2.26.1' },
  engine: { info: async () => ({ id: 'x', name: 'vm', serverVersion: '26.1.5' }) as unknown as EngineInfo },
  home,
  nodeVersion,
});

describe('runDoctor', () => {
  it("asks for the Node.js package.json's engines ask for", async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${REQUIRED.node.replace(/\.0$/, '')}`);
  });

  it('holds Node.js to the version package.json asks for (22.18), not to any 22', async () => {
    const old = await runDoctor(deps('22.17.1'));
    const node = old.checks.find((c) => c.name === 'node');
    expect(node?.ok).toBe(false);
    expect(node?.fix).toMatch(/22\.18 or later/);
    expect(old.ok).toBe(false);

    expect((await runDoctor(deps('22.18.0'))).checks.find((c) => c.name === 'node')?.ok).toBe(true);
    expect((await runDoctor(deps('24.11.0'))).checks.find((c) => c.name === 'node')?.ok).toBe(true);
  });
});
