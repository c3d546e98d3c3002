import { describe, expect, it } from 'vitest';
import type { ContainerDetail, ContainerSummary, Deps } from './deps.ts';
import { oneShotServices, waitForServices } from './wait.ts';

/** An engine with one running container of service `db`, started at `startedAt` by the engine's clock. */
function engineWith(startedAt: string): Deps {
  const container: ContainerSummary = {
    id: 'c1',
    project: 'p',
    service: 'db',
    state: 'running',
    labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'db' },
    ports: [],
  };
  const detail: ContainerDetail = {
    id: 'c1',
    service: 'db',
    status: 'running',
    exitCode: 0,
    restartCount: 0,
    startedAt,
    restartPolicy: 'always',
  };
  return {
    engine: { containers: async () => [container], inspect: async (ids: string[]) => (ids.includes('c1') ? [detail] : []) },
    now: () => new Date(),
  } as unknown as Deps;
}

const options = {
  project: 'p',
  services: { db: { image: 'postgres' } },
  oneShots: new Set<string>(),
  deadline: Date.now() + 60_000,
  scrub: (t: string) => t,
};

describe('waitForServices', () => {
  it('is not held by an engine whose clock runs an hour ahead: a container counts as up 250 ms after the wait first saw it', async () => {
    const started = Date.now();
    await waitForServices(engineWith(new Date(Date.now() + 3_600_000).toISOString()), options);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});

describe('oneShotServices', () => {
  it('takes for jobs only services Docker does not restart and nothing says serve', () => {
    const services = {
      // Compose's default policy, but a server: its exit 0 is an outage, not "done".
      db: { image: 'postgres' },
      web: { image: 'httpd', ports: [{ target: 80, published: '8080' }] },
      cache: { image: 'redis', healthcheck: { test: ['CMD', 'redis-cli', 'ping'] } },
      // Jobs: no port, no healthcheck; or one another service waits to complete, even with a port.
      migrate: { image: 'app', command: 'migrate' },
      seed: { image: 'app', ports: [{ target: 9000 }], restart: 'on-failure:3' },
      api: { image: 'api', restart: 'always', depends_on: { seed: { condition: 'service_completed_successfully' } } },
      nocheck: { image: 'x', healthcheck: { disable: true } },
    };
    expect([...oneShotServices(services, 'db')].sort()).toEqual(['migrate', 'nocheck', 'seed']);
    // Without knowing the database, a bare Postgres service reads as a job: the caller names it.
    expect(oneShotServices(services).has('db')).toBe(true);
  });
});
