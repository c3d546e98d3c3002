import type { EnvRecord } from '../core/record.ts';

/** A complete env record for unit tests, with the fields a test cares about overridden. */
export function sampleRecord(over: Partial<EnvRecord> = {}): EnvRecord {
  return {
    schemaVersion: 1,
    name: 'x-1',
    branch: 'x',
    repo: '/r',
    repoId: 'r-1',
    worktree: '/w/x-1',
    project: 'envs-r-1-x-1',
    host: 'x-1',
    projectDir: '/w/x-1',
    composeFile: '/s/compose.yaml',
    sourceFiles: ['compose.yaml'],
    status: 'running',
    phase: 'ready',
    createdBranch: true,
    base: { ref: 'main', commit: 'abc' },
    services: ['db', 'web'],
    ports: [],
    env: {},
    secrets: {},
    engine: { id: 'e', endpoint: 'unix:///var/run/docker.sock' },
    warnings: [],
    createdAt: '',
    updatedAt: '',
    ...over,
  };
}
