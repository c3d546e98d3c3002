import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/docker/engine.ts';
import { SocketEngine } from '../../src/docker/socket-engine.ts';
import { images } from '../support/images.ts';
import { until } from '../support/until.ts';

/**
 * envs talks to a unix-socket engine through its own Engine API client (no dockerode import at every
 * command) and to tcp/ssh engines through dockerode: on the real engine both must see the same things,
 * and the socket client's removals must leave nothing.
 */
const SOCKET = '/var/run/docker.sock';
const ENDPOINT = `unix://${SOCKET}`;
const project = `envs-clients-${randomBytes(3).toString('hex')}`;
const labels = { 'dev.envs.project': project, 'dev.envs.managed': 'true' };
const labelArgs = Object.entries({ ...labels, 'com.docker.compose.project': project, 'com.docker.compose.service': 'web' }).flatMap(
  ([k, v]) => ['--label', `${k}=${v}`],
);
const signal = () => AbortSignal.timeout(20_000);

const dockerode = new DockerodeEngine(ENDPOINT, {});
const socket = new SocketEngine(SOCKET, ENDPOINT, async () => dockerode);
let ids: { running: string; exited: string; network: string; volume: string; image: string };

beforeAll(async () => {
  const network = (await execa('docker', ['network', 'create', '--subnet', '10.231.7.0/24', ...labelArgs, `${project}_net`])).stdout.trim();
  const volume = (await execa('docker', ['volume', 'create', ...labelArgs, `${project}_data`])).stdout.trim();
  const running = (
    await execa('docker', [
      'run',
      '-d',
      ...labelArgs,
      '--network',
      `${project}_net`,
      '-v',
      `${volume}:/data`,
      '-p',
      '127.0.0.1::80',
      images.busybox,
      'sh',
      '-c',
      'mkdir -p /w && exec httpd -f -p 80 -h /w',
    ])
  ).stdout.trim();
  const exited = (await execa('docker', ['run', '-d', ...labelArgs, images.busybox, 'sh', '-c', 'exit 3'])).stdout.trim();
  await execa('docker', ['wait', exited]);
  await execa('docker', ['build', '-q', '-t', `${project}-img`, ...labelArgs, '-'], {
    input: `FROM ${images.busybox}\nLABEL x=${project}\n`,
  });
  const image = (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', `${project}-img`])).stdout.trim();
  ids = { running, exited, network, volume, image };
}, 120_000);

afterAll(async () => {
  await execa('docker', ['rm', '-f', '-v', ids?.running ?? '', ids?.exited ?? ''], { reject: false });
  await execa('docker', ['network', 'rm', `${project}_net`], { reject: false });
  await execa('docker', ['volume', 'rm', '-f', `${project}_data`], { reject: false });
  await execa('docker', ['image', 'rm', '-f', `${project}-img`], { reject: false });
});

describe('the socket client and dockerode', () => {
  it('answer the ping with the same engine', async () => {
    const [a, b] = await Promise.all([socket.info(signal()), dockerode.info(signal())]);
    expect(a).toEqual(b);
    expect(a.id).not.toBe('');
  });

  it('list the same containers by label: states, exit codes, published ports', async () => {
    const [a, b] = await Promise.all([socket.containers(labels, signal()), dockerode.containers(labels, signal())]);
    const byId = (list: typeof a) => [...list].sort((x, y) => x.id.localeCompare(y.id));
    expect(byId(a)).toEqual(byId(b));
    expect(a.find((c) => c.id === ids.exited)?.state).toBe('exited(3)');
    const web = a.find((c) => c.id === ids.running);
    expect(web).toMatchObject({ project, service: 'web', state: 'running' });
    expect(web?.ports[0]).toMatchObject({ target: 80, host_ip: '127.0.0.1', protocol: 'tcp' });
  });

  it('find the same labelled resources, inspect alike, see the same subnets and images', async () => {
    const sorted = (r: Awaited<ReturnType<SocketEngine['labeled']>>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [...v].sort()]));
    const [la, lb] = await Promise.all([socket.labeled(labels, signal()), dockerode.labeled(labels, signal())]);
    expect(sorted(la)).toEqual(sorted(lb));
    expect(la.networks).toEqual([ids.network]);
    expect(la.volumes).toEqual([`${project}_data`]);
    expect(la.images).toEqual([ids.image]);

    const both = [ids.running, ids.exited, 'no-such-container'];
    expect(await socket.inspect(both, signal())).toEqual(await dockerode.inspect(both, signal()));
    const subnets = async (engine: SocketEngine | DockerodeEngine) => (await engine.networkSubnets(undefined, signal())).sort();
    expect(await subnets(socket)).toEqual(await subnets(dockerode));
    expect(await socket.networkSubnets(undefined, signal())).toContain('10.231.7.0/24');
    const refs = [images.busybox, `${project}-img`, 'envs-no-such-image:never'];
    expect([...(await socket.imagesPresent(refs, signal()))].sort()).toEqual([images.busybox, `${project}-img`].sort());
  });

  it('both make volumes, list them with where their data is, and run task containers alike (then remove them)', async () => {
    for (const [name, engine] of [
      ['socket', socket],
      ['dockerode', dockerode],
    ] as const) {
      const volume = await engine.createVolume({ name: `${project}-${name}-vol`, labels }, signal());
      expect(volume).toMatchObject({ name: `${project}-${name}-vol`, labels, driver: 'local' });
      expect(volume.dataDir).toMatch(new RegExp(`/volumes/${project}-${name}-vol/_data$`));
      const bind = await engine.createVolume(
        { name: `${project}-${name}-bind`, labels, options: { type: 'none', o: 'bind', device: '/tmp' } },
        signal(),
      );
      expect(bind.dataDir).toBe('/tmp');
      const task = await engine.runTask(
        {
          image: images.busybox,
          cmd: ['sh', '-c', 'echo out; echo err >&2; id -u; touch /v/made; exit 4'],
          mounts: [{ kind: 'volume', source: volume.name, target: '/v' }],
          labels,
          timeoutMs: 20_000,
        },
        signal(),
      );
      expect(task).toEqual({ exitCode: 4, output: expect.stringMatching(/out\n(err\n)?0\n|err\nout\n0\n/) });
      expect(task.output).toContain('err');
    }
    const listed = async (engine: SocketEngine | DockerodeEngine) =>
      (await engine.volumes(labels, signal())).map((v) => [v.name, v.dataDir]).sort();
    expect(await listed(socket)).toEqual(await listed(dockerode));
    expect((await socket.volumes({ ...labels, 'dev.envs.no-such-label': '' }, signal())).length).toBe(0);
    // Task containers are gone; the volumes go with the sweep below.
    expect((await socket.labeled(labels, signal())).containers.sort()).toEqual([ids.running, ids.exited].sort());
  });

  it('both make directories with owners and modes in a volume, starting nothing (then remove their container)', async () => {
    for (const [name, engine] of [
      ['socket', socket],
      ['dockerode', dockerode],
    ] as const) {
      const volume = await engine.createVolume({ name: `${project}-${name}-dirs`, labels }, signal());
      const mount = { kind: 'volume' as const, source: volume.name, target: '/v' };
      await engine.makeDirs(
        {
          image: images.busybox,
          mount,
          dirs: [
            { path: 'upper', uid: 999, gid: 998, mode: 0o700 },
            { path: 'deep/er/work', uid: 0, gid: 0, mode: 0o755 },
          ],
          labels,
        },
        signal(),
      );
      const seen = await engine.runTask(
        {
          image: images.busybox,
          cmd: ['sh', '-c', 'cd /v && stat -c "%n %u:%g %a" upper deep deep/er/work && ls -A upper | wc -l && ls -A deep/er/work | wc -l'],
          mounts: [mount],
          labels,
          timeoutMs: 20_000,
        },
        signal(),
      );
      expect(seen).toEqual({ exitCode: 0, output: 'upper 999:998 700\ndeep 0:0 755\ndeep/er/work 0:0 755\n0\n0\n' });
      // An existing directory keeps what it holds and takes the owner and mode it is given.
      await engine.makeDirs({ image: images.busybox, mount, dirs: [{ path: 'deep', uid: 5, gid: 6, mode: 0o750 }], labels }, signal());
      const again = await engine.runTask(
        {
          image: images.busybox,
          cmd: ['stat', '-c', '%u:%g %a', '/v/deep', '/v/deep/er/work'],
          mounts: [mount],
          labels,
          timeoutMs: 20_000,
        },
        signal(),
      );
      expect(again.output).toBe('5:6 750\n0:0 755\n');
    }
    // The containers that carried the uploads go (the socket client removes them while its caller goes on);
    // nothing of ours runs.
    const expected = [ids.running, ids.exited].sort();
    await until('the upload containers to be removed', async () => {
      const left = (await socket.labeled(labels, signal())).containers.sort();
      return JSON.stringify(left) === JSON.stringify(expected) ? left : undefined;
    });
  });

  it('the socket client removes all of it (a resource already gone is no error), and nothing is left', async () => {
    const found = await socket.labeled(labels, signal());
    await socket.remove({ ...found, containers: [...found.containers, 'f'.repeat(64)] }, signal());
    expect(await socket.labeled(labels, signal())).toEqual({ containers: [], volumes: [], networks: [], images: [] });
    expect(await dockerode.labeled(labels, signal())).toEqual({ containers: [], volumes: [], networks: [], images: [] });
  });

  it('an engine error carries its status and the engine’s message', async () => {
    const error = await socket.logs('no-such-container', 5, signal()).catch((e: unknown) => e);
    expect((error as { statusCode?: number }).statusCode).toBe(404);
    const own = await socket.inspect(['no-such-container'], signal());
    expect(own).toEqual([]);
  });
});
