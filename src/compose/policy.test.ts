import { describe, expect, it } from 'vitest';
import type { ComposeModel, Service } from './model.ts';
import { allowYaml, type PolicyAllow, policyViolations } from './policy.ts';

const WT = '/home/me/.local/state/envs/worktrees/app/feat-x-1a2b3c';
const HOME = '/home/me';
const bind = (source: string, target = '/mnt') => ({ type: 'bind', source, target });
const model = (service: Service, more: Partial<ComposeModel> = {}): ComposeModel => ({ services: { svc: service }, ...more });
const check = (m: ComposeModel, allow: PolicyAllow[] = [], escapes?: Map<string, string>) =>
  policyViolations(m, { worktree: WT, allow, home: HOME, ...(escapes ? { escapes } : {}) });
const brief = (m: ComposeModel, allow: PolicyAllow[] = []) => check(m, allow).map((v) => `${v.service} ${v.setting} ${v.value}`);

describe('policyViolations', () => {
  it('finds nothing in an ordinary dev stack: own volumes, binds in the worktree, dev capabilities, service namespaces', () => {
    expect(
      check({
        services: {
          db: { image: 'postgres', volumes: [{ type: 'volume', source: 'pgdata', target: '/data' }, bind(`${WT}/db/init`)] as never },
          vpn: {
            image: 'x',
            cap_add: ['NET_ADMIN', 'net_raw', 'CAP_SYS_PTRACE', 'SYS_NICE'],
            network_mode: 'service:db',
            pid: 'service:db',
          },
          web: {
            image: 'nginx',
            privileged: false,
            ipc: 'shareable',
            security_opt: ['no-new-privileges:true', 'seccomp=./profile.json'],
            volumes: [bind(WT, '/src'), { type: 'tmpfs', target: '/tmp' }] as never,
          },
        },
        volumes: { pgdata: { driver_opts: { type: 'none', o: 'bind', device: `${WT}/data` } } },
      }),
    ).toEqual([]);
  });

  it('refuses privileged: true', () => {
    expect(check(model({ privileged: true }))).toEqual([
      expect.objectContaining({ service: 'svc', setting: 'privileged', value: 'true', allow: { use: ['privileged'] } }),
    ]);
  });

  it.each([
    ['network_mode', 'host'],
    ['network_mode', 'container:other-env-db'],
    ['pid', 'host'],
    ['pid', 'container:abc'],
    ['ipc', 'host'],
    ['ipc', 'container:abc'],
    ['uts', 'host'],
    ['userns_mode', 'host'],
    ['cgroup', 'host'],
  ])('refuses %s: %s (a namespace outside the env)', (key, value) => {
    expect(brief(model({ [key]: value }))).toEqual([`svc ${key} ${value}`]);
  });

  it('refuses cap_add of host-kernel capabilities in any spelling, and only those', () => {
    expect(
      brief(model({ cap_add: ['ALL', 'sys_admin', 'CAP_SYS_MODULE', 'SYS_TIME', 'DAC_READ_SEARCH', 'NET_ADMIN', 'SYS_PTRACE'] })),
    ).toEqual([
      'svc cap_add ALL',
      'svc cap_add sys_admin',
      'svc cap_add CAP_SYS_MODULE',
      'svc cap_add SYS_TIME',
      'svc cap_add DAC_READ_SEARCH',
    ]);
  });

  it('refuses devices (long and short form) and device_cgroup_rules', () => {
    expect(
      brief(
        model({
          devices: [
            { source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' },
            { source: '/dev/kvm', target: '/dev/vm' },
            '/dev/snd',
          ],
          device_cgroup_rules: ['c 1:3 mr'],
        }),
      ),
    ).toEqual(['svc devices /dev/fuse', 'svc devices /dev/kvm:/dev/vm', 'svc devices /dev/snd', 'svc device_cgroup_rules c 1:3 mr']);
  });

  it('refuses security_opt that turns confinement off, in both separators', () => {
    expect(
      brief(
        model({ security_opt: ['seccomp:unconfined', 'apparmor=unconfined', 'label:disable', 'systempaths=unconfined', 'label=user:x'] }),
      ),
    ).toEqual([
      'svc security_opt seccomp:unconfined',
      'svc security_opt apparmor=unconfined',
      'svc security_opt label:disable',
      'svc security_opt systempaths=unconfined',
    ]);
  });

  it('refuses engine socket mounts — the socket, its directory, any path mounted as the socket — even read-only', () => {
    const found = check(
      model({
        volumes: [
          { ...bind('/var/run/docker.sock', '/var/run/docker.sock'), read_only: true },
          bind('/run/containerd/containerd.sock'),
          bind(`${HOME}/.local/share/containers/podman.sock`),
          bind('/var/run'),
          bind('/opt/api.sock', '/var/run/docker.sock'),
        ] as never,
      }),
    );
    expect(found.map((v) => [v.value, v.why.split(':')[0]])).toEqual([
      ['/var/run/docker.sock', "the container engine's socket"],
      ['/run/containerd/containerd.sock', "the container engine's socket"],
      [`${HOME}/.local/share/containers/podman.sock`, "the container engine's socket"],
      ['/var/run', "holds the container engine's socket"],
      ['/opt/api.sock', "mounted as the container engine's socket"],
    ]);
    expect(found[2]?.allow).toEqual({ bind: ['~/.local/share/containers/podman.sock'] });
  });

  it('refuses binds outside the worktree: the main checkout, a sibling prefix, home, and a named volume binding a host directory', () => {
    const found = check(
      model(
        {
          volumes: [
            bind('/home/me/code/app'),
            bind(`${WT}-other/x`),
            bind(`${HOME}/.aws`),
            { type: 'volume', source: 'hostetc', target: '/etc-host' },
          ] as never,
        },
        { volumes: { hostetc: { driver_opts: { type: 'none', o: 'bind', device: '/etc' } } } },
      ),
    );
    expect(found.map((v) => [v.setting, v.value, v.allow])).toEqual([
      ['volumes', '/home/me/code/app', { bind: ['~/code/app'] }],
      ['volumes', `${WT}-other/x`, { bind: [`~/.local/state/envs/worktrees/app/feat-x-1a2b3c-other/x`] }],
      ['volumes', `${HOME}/.aws`, { bind: ['~/.aws'] }],
      ['volumes', '/etc', { bind: ['/etc'] }],
    ]);
  });

  it('refuses a bind in the worktree that is a link leading out of it', () => {
    const escapes = new Map([[`${WT}/host`, '/']]);
    expect(check(model({ volumes: [bind(`${WT}/host`), bind(`${WT}/src`)] as never }), [], escapes)).toEqual([
      expect.objectContaining({ value: '/', why: expect.stringMatching(/^holds the container engine's socket/), allow: { bind: ['/'] } }),
    ]);
  });

  it('an allow entry admits exactly its service, the settings it may use and the paths under its binds; "*" is every service', () => {
    const m: ComposeModel = {
      services: {
        dind: { privileged: true, cap_add: ['SYS_ADMIN'] },
        app: { volumes: [bind(`${HOME}/.aws/config`), bind('/var/run/docker.sock')] as never },
        other: { privileged: true },
      },
    };
    expect(
      brief(m, [
        { service: 'dind', use: ['privileged'] },
        { service: 'app', bind: ['~/.aws'] },
      ]),
    ).toEqual(['app volumes /var/run/docker.sock', 'dind cap_add SYS_ADMIN', 'other privileged true']);
    expect(brief(m, [{ service: '*', use: ['privileged', 'cap_add'], bind: ['/var/run/docker.sock', '~/.aws'] }])).toEqual([]);
    // A path allowed is not a prefix of another name.
    expect(brief(model({ volumes: [bind(`${HOME}/.aws-evil`)] as never }), [{ service: 'svc', bind: ['~/.aws'] }])).toEqual([
      'svc volumes /home/me/.aws-evil',
    ]);
  });

  it('allowYaml prints one entry per service with every key and path it needs, quoting what YAML would misread', () => {
    const m: ComposeModel = {
      services: {
        a: { privileged: true, pid: 'host', cap_add: ['ALL', 'SYS_ADMIN'], volumes: [bind(`${HOME}/x y`), bind('/srv')] as never },
        'b.c': { network_mode: 'host' },
      },
    };
    expect(allowYaml(check(m))).toBe(
      [
        'policy:',
        '  allow:',
        '    - service: a',
        '      use: [privileged, pid, cap_add]',
        '      bind: ["~/x y", /srv]',
        '    - service: b.c',
        '      use: [network_mode]',
      ].join('\n'),
    );
  });
});
