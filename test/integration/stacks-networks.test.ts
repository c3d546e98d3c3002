import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/** A stack that fixes its subnet and addresses, and a client that reaches the server by its fixed IP. */
const fixedSubnet = {
  'compose.yaml': `services:
  server:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo fixed-server > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["8080:80"]
    networks:
      backend:
        ipv4_address: 172.28.1.5
  client:
    image: ${images.busybox}
    init: true
    environment:
      UPSTREAM: http://172.28.1.5/
    # Reaches the server at its fixed address, or exits 1 (and create fails).
    command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- $$UPSTREAM > /tmp/got && exec sleep 3600; sleep 0.5; done; exit 1"]
    depends_on: [server]
    networks: [backend]
networks:
  backend:
    ipam:
      config:
        - subnet: 172.28.0.0/16
          gateway: 172.28.0.1
`,
};

async function ipOf(project: string, service: string): Promise<string> {
  const { stdout } = await execa('docker', [
    'inspect',
    '--format',
    '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
    await containerOf(project, service),
  ]);
  return stdout.trim();
}

describe('fixed subnets and addresses', () => {
  const fx = useRepo(fixedSubnet, 'fixednet');

  it('each env gets its own subnet, addresses moved consistently; the second env starts as the first', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/a', '--json'])).json;
    const subnet = plan.changes.find((c: any) => c.kind === 'subnet' && c.subject === 'network backend');
    expect(subnet).toMatchObject({ from: '172.28.0.0/16', to: expect.stringMatching(/^10\.213\.\d+\.0\/23$/) });

    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'])).json;
    const [ipA, ipB] = [await ipOf(a.project, 'server'), await ipOf(b.project, 'server')];
    expect(ipA).toMatch(/^10\.213\.\d+\.5$/);
    expect(ipB).toMatch(/^10\.213\.\d+\.5$/);
    expect(ipA).not.toBe(ipB);
    for (const env of [a, b]) {
      expect(env.status).toBe('running');
      const { stdout } = await execa('docker', ['exec', await containerOf(env.project, 'client'), 'cat', '/tmp/got']);
      expect(stdout.trim()).toBe('fixed-server');
    }
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
    expect((await envsOk(fx.repo, fx.home, ['plan', 'feat/c', '--json'])).json.warnings).toEqual([]);
  });
});

describe('references to renamed names', () => {
  const fx = useRepo(
    {
      'compose.yaml': `name: appwrite
services:
  proxy:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    labels:
      traefik.docker.network: appwrite
    environment:
      DOCKER_NETWORK: appwrite
      COMPOSE_PROJECT_NAME: appwrite
      UPSTREAM_ALIAS: appwrite
    networks: [appwrite]
networks:
  appwrite:
    name: appwrite
`,
    },
    'appwrite',
  );

  it('are rewritten where the key says what they name, warned about elsewhere, in two envs', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/a', '--json'])).json;
    expect(plan.warnings).toContainEqual(expect.stringMatching(/^proxy: environment\.UPSTREAM_ALIAS is "appwrite", a name envs changed/));
    for (const branch of ['feat/a', 'feat/b']) {
      const env = (await envsOk(fx.repo, fx.home, ['create', branch, '--json'])).json;
      const id = await containerOf(env.project, 'proxy');
      const { stdout } = await execa('docker', [
        'inspect',
        '--format',
        '{{index .Config.Labels "traefik.docker.network"}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}',
        id,
      ]);
      const [label, network] = stdout.trim().split(' ');
      expect(label).toBe(`${env.project}_appwrite`);
      expect(network).toBe(label);
      const variables = (await execa('docker', ['exec', id, 'env'])).stdout;
      expect(variables).toContain(`DOCKER_NETWORK=${env.project}_appwrite`);
      expect(variables).toContain(`COMPOSE_PROJECT_NAME=${env.project}`);
      expect(variables).toContain('UPSTREAM_ALIAS=appwrite');
    }
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
  });
});

describe('many envs on one engine with its default address pools', () => {
  const fx = useRepo(webFiles(), 'fleet');
  const COUNT = 40;
  const range = { ENVS_SUBNET_RANGE: '10.214.0.0/18' };

  it(`runs ${COUNT} envs at once (Docker's default pools hold ~30 networks), each on its own subnet`, async () => {
    const branches = Array.from({ length: COUNT }, (_, i) => `fleet/${i}`);
    try {
      for (let i = 0; i < branches.length; i += 4) {
        await Promise.all(branches.slice(i, i + 4).map((branch) => envsOk(fx.repo, fx.home, ['create', branch], range)));
      }
      const listed = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
      expect(listed.filter((e: any) => e.status === 'running')).toHaveLength(COUNT);
      const { stdout } = await execa('docker', ['network', 'ls', '-q', '--filter', fx.label.replace(/^/, 'label=')]);
      const subnets = await Promise.all(
        stdout
          .split('\n')
          .filter(Boolean)
          .map(async (id) =>
            (await execa('docker', ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', id])).stdout.trim(),
          ),
      );
      expect(new Set(subnets).size).toBe(COUNT);
      for (const subnet of subnets) expect(subnet).toMatch(/^10\.214\.\d+\.0\/24$/);
      expect(await httpGet(listed[COUNT - 1].ports[0].published)).not.toBe('');
    } finally {
      for (let i = 0; i < branches.length; i += 8) {
        await Promise.all(branches.slice(i, i + 8).map((branch) => envs(fx.repo, fx.home, ['destroy', branch])));
      }
    }
    await expectNothingLeft(fx.label);
  });

  it('refuses the next env when the range is exhausted, before it changes anything, naming the setting', async () => {
    const tiny = { ENVS_SUBNET_RANGE: '10.214.64.0/29', ENVS_SUBNET_SIZE: '29' };
    await envsOk(fx.repo, fx.home, ['create', 'feat/first'], tiny);
    const before = await snapshot(fx);
    const refused = await envs(fx.repo, fx.home, ['create', 'feat/second', '--json'], tiny);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error.code).toBe('SUBNETS_EXHAUSTED');
    expect(refused.json.error.message).toMatch(/No free \/29 subnet left in 10\.214\.64\.0\/29 .*ENVS_SUBNET_RANGE/);
    expect(refused.json.error.hint).toMatch(/ENVS_SUBNET_RANGE/);
    expect(await snapshot(fx)).toEqual(before);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/first']);
    await expectNothingLeft(fx.label);
  });
});
