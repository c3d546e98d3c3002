import { describe, expect, it } from 'vitest';
import type { ComposeModel } from './model.ts';
import { collectPortRequests, transformModel } from './transform.ts';

/** The shape `docker compose -p envs-x config --format json` prints for a compose file full of traps. */
const trap = (): ComposeModel => ({
  name: 'envs-x',
  services: {
    db: {
      image: 'postgres:17-alpine',
      container_name: 'app-db',
      environment: { POSTGRES_PASSWORD: 'pa$$word' },
      networks: { default: null },
      ports: [{ mode: 'ingress', target: 5432, published: '5432', protocol: 'tcp' }],
      volumes: [{ type: 'volume', source: 'data', target: '/var/lib/postgresql/data' }],
    },
    web: {
      build: { context: '/w/web', dockerfile: 'Dockerfile' },
      image: 'myapp-web:dev',
      networks: { front: { aliases: ['www'] } },
      ports: [
        { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
        { mode: 'ingress', host_ip: '0.0.0.0', target: 80, published: '8081', protocol: 'tcp' },
        { mode: 'ingress', target: 3000, protocol: 'tcp' },
        { mode: 'ingress', target: 53, published: '5353', protocol: 'udp' },
      ],
    },
    worker: { image: 'myapp-web:dev', network_mode: 'container:app-db', volumes_from: ['container:app-db:ro'] },
    hostnet: { image: 'busybox', network_mode: 'host', ports: [{ target: 9000, published: '9000' }] },
  },
  volumes: { data: { name: 'myapp-data' }, shared: { name: 'corp-cache', external: true } },
  networks: { default: { name: 'envs-x_default' }, front: { name: 'myapp-front' } },
});

const labels = { 'dev.envs.env': 'x-1', 'dev.envs.branch': 'feat/$(x)' };

function ports(model: ComposeModel): Map<string, number> {
  return new Map(collectPortRequests(model).map((r, i) => [r.key, 21000 + i]));
}

describe('collectPortRequests', () => {
  it('keys every published port by service, container port and protocol; repeats get #n; host networking is skipped', () => {
    expect(collectPortRequests(trap()).map((r) => r.key)).toEqual([
      'db/5432/tcp',
      'web/80/tcp',
      'web/80/tcp#1',
      'web/3000/tcp',
      'web/53/udp',
    ]);
  });
});

describe('transformModel', () => {
  const result = transformModel({ model: trap(), project: 'envs-x', labels, ports: ports(trap()) });
  const { db, web, worker, hostnet } = result.model.services as Required<ComposeModel['services']>;

  it('publishes every port on 127.0.0.1 at its registry port and leaves the container side alone', () => {
    expect(db?.ports).toEqual([{ mode: 'ingress', target: 5432, published: '21000', protocol: 'tcp', host_ip: '127.0.0.1' }]);
    expect(web?.ports?.map((p) => [p.host_ip, p.published, p.target, p.protocol])).toEqual([
      ['127.0.0.1', '21001', 80, 'tcp'],
      ['127.0.0.1', '21002', 80, 'tcp'],
      ['127.0.0.1', '21003', 3000, 'tcp'],
      ['127.0.0.1', '21004', 53, 'udp'],
    ]);
    expect(db?.environment).toEqual({ POSTGRES_PASSWORD: 'pa$$word' });
  });

  it('drops container_name and keeps the old name as an alias on every network of the service', () => {
    expect(db?.container_name).toBeUndefined();
    expect(db?.networks).toEqual({ default: { aliases: ['app-db'] } });
  });

  it('turns references to a dropped container name into service references', () => {
    expect(worker?.network_mode).toBe('service:db');
    expect(worker?.volumes_from).toEqual(['db:ro']);
  });

  it('makes explicitly named volumes and networks per-env, leaves external ones shared and says so', () => {
    expect(result.model.volumes?.data?.name).toBe('envs-x_data');
    expect(result.model.networks?.front?.name).toBe('envs-x_front');
    expect(result.model.networks?.default?.name).toBe('envs-x_default');
    expect(result.model.volumes?.shared).toEqual({ name: 'corp-cache', external: true });
    expect(result.warnings.join('\n')).toMatch(/volume shared: external \("corp-cache"\)/);
  });

  it('re-tags images of built services, and services using that image follow', () => {
    expect(web?.image).toBe('envs-x-web');
    expect(worker?.image).toBe('envs-x-web');
    expect(web?.build?.labels).toEqual({ 'dev.envs.env': 'x-1', 'dev.envs.branch': 'feat/$$(x)' });
  });

  it('labels services, volumes and networks, escaping $ so Compose reads the value back', () => {
    expect(db?.labels).toEqual({ 'dev.envs.env': 'x-1', 'dev.envs.branch': 'feat/$$(x)', 'dev.envs.service': 'db' });
    expect(result.model.volumes?.data?.labels).toEqual({ 'dev.envs.env': 'x-1', 'dev.envs.branch': 'feat/$$(x)' });
    expect(result.model.networks?.front?.labels).toMatchObject({ 'dev.envs.env': 'x-1' });
  });

  it('replaces the top-level name', () => {
    const renamed = transformModel({ model: { ...trap(), name: 'myapp' }, project: 'envs-x', labels, ports: ports(trap()) });
    expect(renamed.model.name).toBe('envs-x');
    expect(renamed.changes).toContainEqual({ kind: 'project', subject: 'name', from: 'myapp', to: 'envs-x' });
  });

  it('leaves host networking be (plan names it through risks.ts)', () => {
    expect(hostnet?.ports).toEqual([{ target: 9000, published: '9000' }]);
  });

  it('does not change its input', () => {
    const input = trap();
    transformModel({ model: input, project: 'envs-x', labels, ports: ports(input) });
    expect(input).toEqual(trap());
  });

  it('fails loudly when a port has no allocation (a bug, not a user error)', () => {
    expect(() => transformModel({ model: trap(), project: 'envs-x', labels, ports: new Map() })).toThrow(
      /no host port allocated for db\/5432\/tcp/,
    );
  });
});

describe('references to names envs renamed', () => {
  const model: ComposeModel = {
    name: 'envs-x',
    services: {
      traefik: {
        image: 'traefik',
        labels: { 'traefik.docker.network': 'appwrite', 'traefik.enable': 'true' },
        environment: { DOCKER_NETWORK: 'appwrite', COMPOSE_PROJECT_NAME: 'appwrite', UPSTREAM_NET_ALIAS: 'appwrite', OTHER: 'x' },
        networks: { appwrite: null },
      },
    },
    networks: { appwrite: { name: 'appwrite' } },
  };
  const result = transformModel({ model, project: 'envs-x', labels: {}, ports: new Map(), originalName: 'appwrite' });
  const traefik = result.model.services.traefik;

  it('are rewritten where the key says what they name: the network, or the project', () => {
    expect(traefik?.labels?.['traefik.docker.network']).toBe('envs-x_appwrite');
    expect(traefik?.environment?.DOCKER_NETWORK).toBe('envs-x_appwrite');
    expect(traefik?.environment?.COMPOSE_PROJECT_NAME).toBe('envs-x');
    expect(result.changes.filter((c) => c.kind === 'reference').map((c) => c.subject)).toEqual([
      'traefik labels.traefik.docker.network',
      'traefik environment.DOCKER_NETWORK',
      'traefik environment.COMPOSE_PROJECT_NAME',
    ]);
  });

  it('are named in a warning, service and key, where the key says nothing', () => {
    expect(traefik?.environment?.UPSTREAM_NET_ALIAS).toBe('appwrite');
    expect(result.warnings).toContain(
      'traefik: environment.UPSTREAM_NET_ALIAS is "appwrite", a name envs changed to "envs-x_appwrite" for this env; it was left as it is.',
    );
  });
});
