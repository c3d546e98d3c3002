import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { type Fixture, useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/** The base service every branch starts from; each case adds what the policy refuses to it. */
const service = (extra: string) => `services:\n  app:\n    image: ${images.busybox}\n    command: ["sleep", "3600"]\n${extra}`;

/**
 * Every refused key: branch, the lines added to the `app` service (and after it), what the refusal line
 * says. `ROOT` is the fixture's temp directory (outside the worktree), `REPO` the main checkout.
 */
const REFUSED: [string, string, RegExp][] = [
  ['privileged', '    privileged: true\n', /app: privileged: true \(/],
  ['network-host', '    network_mode: host\n', /app: network_mode: host \(this machine's namespace/],
  [
    'network-container',
    '    network_mode: "container:someone-elses-db"\n',
    /app: network_mode: container:someone-elses-db \(another container/,
  ],
  ['pid-host', '    pid: host\n', /app: pid: host \(/],
  ['ipc-host', '    ipc: host\n', /app: ipc: host \(/],
  ['uts-host', '    uts: host\n', /app: uts: host \(/],
  ['userns-host', '    userns_mode: host\n', /app: userns_mode: host \(/],
  ['cgroup-host', '    cgroup: host\n', /app: cgroup: host \(/],
  ['cap-all', '    cap_add: [ALL]\n', /app: cap_add: ALL \(a capability over the host kernel\)/],
  ['cap-sys-admin', '    cap_add: [NET_ADMIN, CAP_SYS_ADMIN]\n', /app: cap_add: CAP_SYS_ADMIN \(/],
  ['devices', '    devices: ["/dev/fuse:/dev/fuse"]\n', /app: devices: \/dev\/fuse \(a device of this machine\)/],
  ['device-rules', '    device_cgroup_rules: ["c 10:229 rwm"]\n', /app: device_cgroup_rules: c 10:229 rwm \(/],
  ['seccomp', '    security_opt: ["seccomp:unconfined"]\n', /app: security_opt: seccomp:unconfined \(turns confinement off\)/],
  ['apparmor', '    security_opt: ["apparmor=unconfined"]\n', /app: security_opt: apparmor=unconfined \(/],
  [
    'socket',
    '    volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"]\n',
    /app: volumes: \/var\/run\/docker\.sock \(the container engine's socket: /,
  ],
  ['socket-dir', '    volumes: ["/run:/host-run"]\n', /app: volumes: \/run \(holds the container engine's socket/],
  ['bind-outside', '    volumes: ["ROOT/outside:/data"]\n', /app: volumes: \/.*\/outside \(a host path outside the worktree\)/],
  ['bind-main-checkout', '    volumes: ["REPO:/src"]\n', /app: volumes: \/.*\/pol \(a host path outside the worktree\)/],
  [
    'volume-binds-host',
    '    volumes: ["hostetc:/host-etc"]\nvolumes:\n  hostetc:\n    driver_opts: {type: none, o: bind, device: /etc}\n',
    /app: volumes: \/etc \(a host path outside the worktree\)/,
  ],
  ['link-out', '    volumes: ["./hostroot:/host"]\n', /app: volumes: \/ \(holds the container engine's socket/],
];

async function branch(fx: Fixture, name: string, compose: string, more: Record<string, string> = {}): Promise<void> {
  await fx.git('switch', '-q', '-c', name, 'main');
  await fx.write({ 'compose.yaml': compose, ...more });
  await fx.commit(name);
}

describe('the compose policy: refused unless envs.yaml on the default branch allows it', () => {
  const fx = useRepo({ 'compose.yaml': service('') }, 'pol', async (fx) => {
    await mkdir(join(fx.root, 'outside'));
    for (const [name, extra] of REFUSED) {
      await fx.git('switch', '-q', '-c', name, 'main');
      await fx.write({ 'compose.yaml': service(extra.replaceAll('ROOT', fx.root).replaceAll('REPO', fx.repo)) });
      if (name === 'link-out') await symlink('/', join(fx.repo, 'hostroot'));
      await fx.commit(name);
    }
    await fx.git('switch', '-q', 'main');
  });

  it.each(REFUSED)('%s: plan and create refuse it, naming service, key and value, and change nothing', async (name, _extra, line) => {
    const before = await snapshot(fx);
    // The human form from plan, the JSON form from create: both go through the same check.
    const human = await envs(fx.repo, fx.home, ['plan', name]);
    expect(human.exitCode, human.stderr).toBe(1);
    expect(human.stderr).toMatch(
      new RegExp(`^error: The compose model of ${name} asks for what envs refuses unless envs.yaml allows it:\\n  - `),
    );
    expect(human.stderr).toMatch(line);
    expect(human.stderr).toMatch(
      /\nhint: If you trust this, allow it in envs\.yaml on main \(a branch cannot allow itself\):\n {2}policy:\n {4}allow:\n {6}- service: app\n/,
    );
    expect(human.stderr).not.toMatch(/ at .*\.js:\d+/);
    const json = await envs(fx.repo, fx.home, ['create', name, '--json']);
    expect(json.exitCode).toBe(1);
    expect(json.json.error.code).toBe('POLICY_REFUSED');
    expect(json.json.error.message).toMatch(line);
    expect(json.json.error.details.violations).toHaveLength(1);
    expect(json.json.error.details.allow).toEqual([expect.objectContaining({ service: 'app' })]);
    expect(await snapshot(fx)).toEqual(before);
    expect(await fx.git('worktree', 'list')).not.toContain(name);
  });

  it('every violation of a branch is reported at once, with one allow entry per service', async () => {
    await branch(
      fx,
      'many',
      `services:\n  dind:\n    image: ${images.busybox}\n    privileged: true\n    cap_add: [SYS_ADMIN]\n  agent:\n    image: ${images.busybox}\n    network_mode: host\n    volumes: ["/var/run/docker.sock:/var/run/docker.sock", "${fx.root}/outside:/o"]\n`,
    );
    await fx.git('switch', '-q', 'main');
    const before = await snapshot(fx);
    const result = await envs(fx.repo, fx.home, ['create', 'many', '--json']);
    expect(result.json.error.message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^- agent: network_mode: host /),
      expect.stringMatching(/^- agent: volumes: \/var\/run\/docker\.sock /),
      expect.stringMatching(new RegExp(`^- agent: volumes: ${fx.root}/outside `)),
      expect.stringMatching(/^- dind: privileged: true /),
      expect.stringMatching(/^- dind: cap_add: SYS_ADMIN /),
    ]);
    expect(result.json.error.details.allow).toEqual([
      { service: 'agent', use: ['network_mode'], bind: ['/var/run/docker.sock', `${fx.root}/outside`] },
      { service: 'dind', use: ['privileged', 'cap_add'] },
    ]);
    expect(await snapshot(fx)).toEqual(before);
  });

  it('an allow-list only on the branch does not admit it', async () => {
    await branch(fx, 'self-allowed', service('    privileged: true\n'), {
      'envs.yaml': 'policy:\n  allow:\n    - service: app\n      use: [privileged]\n    - service: "*"\n      use: [privileged]\n',
    });
    await fx.git('switch', '-q', 'main');
    const before = await snapshot(fx);
    for (const command of ['plan', 'create']) {
      const result = await envs(fx.repo, fx.home, [command, 'self-allowed', '--json']);
      expect(result.json.error.code, command).toBe('POLICY_REFUSED');
    }
    expect(await snapshot(fx)).toEqual(before);
  });

  it('the envs.yaml the hint prints, committed on the default branch, admits it: a privileged env is created', async () => {
    const refused = await envs(fx.repo, fx.home, ['plan', 'privileged', '--json']);
    const yaml = refused.json.error.hint.split('\n').slice(1, -1).join('\n');
    expect(yaml).toBe('policy:\n  allow:\n    - service: app\n      use: [privileged]');
    await fx.write({ 'envs.yaml': `${yaml}\n` });
    await fx.commit('main trusts the privileged app');

    const env = (await envsOk(fx.repo, fx.home, ['create', 'privileged', '--json'])).json;
    expect(env.status).toBe('running');
    const id = await containerOf(env.project, 'app');
    expect((await execa('docker', ['inspect', '--format', '{{.HostConfig.Privileged}}', id])).stdout).toBe('true');
    // Still refused: what main did not allow, on the same service.
    expect((await envs(fx.repo, fx.home, ['plan', 'pid-host', '--json'])).json.error.details.violations).toEqual([
      expect.objectContaining({ service: 'app', setting: 'pid', value: 'host' }),
    ]);
    await envsOk(fx.repo, fx.home, ['destroy', 'privileged']);
    await expectNothingLeft(fx.label);
  });

  it('bind paths allowed on the default branch admit the socket and what is under an allowed directory (plan only)', async () => {
    await fx.write({
      'envs.yaml': `policy:\n  allow:\n    - service: app\n      bind: [/var/run/docker.sock, ${fx.root}]\n`,
    });
    await fx.commit('main trusts the socket and the fixture directory');
    const socket = (await envsOk(fx.repo, fx.home, ['plan', 'socket', '--json'])).json;
    // Allowed is not silent: plan still warns about what the socket gives the service.
    expect(socket.warnings).toContainEqual(expect.stringMatching(/^app: volumes mounts the container engine's socket/));
    await envsOk(fx.repo, fx.home, ['plan', 'bind-outside', '--json']);
    await envsOk(fx.repo, fx.home, ['plan', 'bind-main-checkout', '--json']);
    expect((await envs(fx.repo, fx.home, ['plan', 'socket-dir', '--json'])).json.error.code).toBe('POLICY_REFUSED');
    await fx.git('rm', '-q', 'envs.yaml');
    await fx.commit('main trusts nothing again');
  });

  it('up refuses what the worktree added since create, and changes nothing', async () => {
    await branch(fx, 'plain', service(''));
    await fx.git('switch', '-q', 'main');
    const env = (await envsOk(fx.repo, fx.home, ['create', 'plain', '--json'])).json;
    await envsOk(fx.repo, fx.home, ['down', 'plain']);
    await writeFile(join(env.worktree, 'compose.yaml'), service('    volumes: ["./escape:/host"]\n'));
    await symlink('/etc', join(env.worktree, 'escape'));
    const before = await snapshot(fx, [env.worktree]);
    const result = await envs(fx.repo, fx.home, ['up', 'plain', '--json']);
    expect(result.json.error.code).toBe('POLICY_REFUSED');
    expect(result.json.error.message).toMatch(/app: volumes: \/etc \(a link in the worktree to \/etc, outside it\)/);
    expect(await snapshot(fx, [env.worktree])).toEqual(before);

    await writeFile(join(env.worktree, 'compose.yaml'), service('    privileged: true\n'));
    const privileged = await envs(fx.repo, fx.home, ['up', 'plain', '--json']);
    expect(privileged.json.error.details.violations).toEqual([expect.objectContaining({ setting: 'privileged' })]);
    expect(await containerOf(env.project, 'app')).toBe(''); // still down

    await writeFile(join(env.worktree, 'compose.yaml'), service(''));
    expect((await envsOk(fx.repo, fx.home, ['up', 'plain', '--json'])).json.status).toBe('running');
    await envsOk(fx.repo, fx.home, ['destroy', 'plain', '--force']);
    await expectNothingLeft(fx.label);
  });
});
