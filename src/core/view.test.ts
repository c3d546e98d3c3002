import { describe, expect, it } from 'vitest';
import type { EnvRecord } from './record.ts';
import { viewOf } from './view.ts';

const PASSWORD = 'generated-Pa55word-xyz';

function record(): EnvRecord {
  return {
    schemaVersion: 1,
    name: 'feat-x-abc123',
    branch: 'feat/x',
    repo: '/repo',
    repoId: 'repo-1234',
    worktree: '/wt/feat-x-abc123',
    project: 'envs-repo-1234-feat-x-abc123',
    host: 'feat-x-abc123',
    projectDir: '/wt/feat-x-abc123',
    composeFile: '/state/compose.yaml',
    sourceFiles: [],
    status: 'running',
    phase: 'ready',
    createdBranch: true,
    base: { ref: 'main', commit: '0123456789abcdef' },
    services: ['db'],
    ports: [],
    env: {
      DATABASE_URL: `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:21000/app`,
      PGPASSWORD: PASSWORD,
      APP_NOTE: `seeded with ${PASSWORD}`,
      PGUSER: 'postgres',
    },
    secrets: { ENVS_DB_PASSWORD: PASSWORD },
    engine: { id: 'e', endpoint: 'unix:///var/run/docker.sock' },
    warnings: [`db: password ${PASSWORD} is weak`],
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

describe('viewOf', () => {
  it("masks the env's secrets by name, by shape and by value, in variables and warnings", () => {
    const view = viewOf(record(), { status: 'running', problems: [] });
    expect(JSON.stringify(view)).not.toContain(PASSWORD);
    expect(view.env).toEqual({
      DATABASE_URL: 'postgres://postgres:***@127.0.0.1:21000/app',
      PGPASSWORD: '***',
      APP_NOTE: 'seeded with ***',
      PGUSER: 'postgres',
    });
    expect(view.warnings).toEqual(['db: password *** is weak']);
  });

  it('shows everything with showSecrets', () => {
    const view = viewOf(record(), { status: 'running', problems: [] }, { showSecrets: true });
    expect(view.env).toEqual(record().env);
    expect(view.warnings).toEqual(record().warnings);
  });
});
