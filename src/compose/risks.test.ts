import { describe, expect, it } from 'vitest';
import type { ComposeModel, Service } from './model.ts';
import { riskWarnings } from './risks.ts';

const bind = (source: string, target: string, extra: Record<string, unknown> = {}) => ({ type: 'bind', source, target, ...extra });
const withService = (service: Service, more: Partial<ComposeModel> = {}): ComposeModel => ({ services: { svc: service }, ...more });

describe('riskWarnings', () => {
  it('says nothing about an ordinary model', () => {
    expect(
      riskWarnings({
        services: {
          db: {
            image: 'postgres',
            ports: [{ target: 5432, published: '5432' }],
            volumes: [{ type: 'volume', source: 'pgdata', target: '/data' }] as never,
          },
          web: {
            image: 'nginx',
            network_mode: 'service:db',
            volumes: [bind('/home/me/app/src', '/src'), bind('/home/me/app/run', '/run')] as never,
          },
        },
        volumes: { pgdata: { driver_opts: { type: 'none', o: 'bind', device: '/srv/pgdata' } } },
      }),
    ).toEqual([]);
  });

  it('names network_mode host with its ports', () => {
    expect(
      riskWarnings(withService({ network_mode: 'host', ports: [{ target: 8080 }, { target: 8080, protocol: 'udp' }, { target: 9229 }] })),
    ).toEqual([
      `svc: network_mode "host" shares this machine's network: its ports (8080, 9229) are not remapped, so envs of this repository collide on them, and it reaches every port on this machine.`,
    ]);
  });

  it('names network_mode host without ports too', () => {
    const [warning, ...rest] = riskWarnings(withService({ network_mode: 'host' }));
    expect(rest).toEqual([]);
    expect(warning).toMatch(/^svc: network_mode "host" shares this machine's network: whatever it listens on is not isolated per env/);
  });

  it.each([
    ['/var/run/docker.sock', '/var/run/docker.sock'],
    ['/run/docker.sock', '/var/run/docker.sock'],
    ['/run/user/1000/docker.sock', '/var/run/docker.sock'],
    ['/home/me/.docker/run/docker.sock', '/var/run/docker.sock'],
    ['/Users/me/.docker/run/docker.sock', '/docker.sock'],
    ['/var/run/docker.sock.raw', '/var/run/docker.sock'],
    ['/run/podman/podman.sock', '/run/podman/podman.sock'],
    ['/run/user/1000/podman/podman.sock', '/var/run/docker.sock'],
    ['/run/containerd/containerd.sock', '/run/containerd/containerd.sock'],
    ['//./pipe/docker_engine', '//./pipe/docker_engine'],
  ])('names a socket mount of %s', (source, target) => {
    expect(riskWarnings(withService({ volumes: [bind(source, target, { read_only: true })] as never }))).toEqual([
      `svc: volumes mounts the container engine's socket ${source} (at ${target}): the service controls the container engine — every container, volume and env on it — and through it this machine (read-only does not prevent that).`,
    ]);
  });

  it('names a socket whose path came from a variable (${DOCKER_SOCKET_LOCATION}) by where it is mounted', () => {
    // Supabase's vector service: `${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock:ro,z`, resolved to any path.
    expect(riskWarnings(withService({ volumes: [bind('/opt/engine/api.sock', '/var/run/docker.sock')] as never }))).toEqual([
      expect.stringMatching(
        /^svc: volumes mounts \/opt\/engine\/api\.sock as the container engine's socket \/var\/run\/docker\.sock: the service controls/,
      ),
    ]);
  });

  it.each(['/var/run', '/run/', '/run/user/1000', '/home/me/.docker', '/home/me/.colima/default', '/'])(
    'names a mount of %s, which holds the socket',
    (source) => {
      expect(riskWarnings(withService({ volumes: [bind(source, '/host')] as never }))).toEqual([
        expect.stringMatching(/^svc: volumes mounts .* \(at \/host\), which holds the container engine's socket: the service controls/),
      ]);
    },
  );

  it('reads the short syntax too, and a named volume that binds the socket', () => {
    const model: ComposeModel = {
      services: { b: { volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'] as never }, a: { network_mode: 'host' } },
      volumes: { sock: { driver_opts: { type: 'none', o: 'bind', device: '/var/run/docker.sock' } } },
    };
    expect(riskWarnings(model)).toEqual([
      expect.stringMatching(/^a: network_mode "host"/),
      expect.stringMatching(/^b: volumes mounts the container engine's socket \/var\/run\/docker\.sock \(at \/var\/run\/docker\.sock\)/),
      expect.stringMatching(
        /^volume sock: driver_opts binds \/var\/run\/docker\.sock, a container engine's socket: a service that mounts it controls/,
      ),
    ]);
  });

  it('ignores named volumes that happen to be called like a socket directory', () => {
    expect(riskWarnings(withService({ volumes: [{ type: 'volume', source: 'run', target: '/var/run/docker.sock' }] as never }))).toEqual(
      [],
    );
  });
});
