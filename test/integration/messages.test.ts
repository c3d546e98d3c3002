import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { useRepo } from '../support/repo.ts';

const http = (text: string, port: number) =>
  `["sh", "-c", "mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p ${port} -h /www"]`;

describe('messages that point the right way', () => {
  const fx = useRepo(
    {
      // Listed web first; Compose's own output sorts analytics first. 9000 is ClickHouse's native port: no URL.
      'compose.yaml': `version: "3.8"
services:
  web:
    image: ${images.busybox}
    init: true
    command: ${http('web', 80)}
    ports: ["8080:80"]
  analytics:
    image: ${images.busybox}
    init: true
    command: ${http('native', 9000)}
    ports: ["9000:9000", "8123:8123"]
  docs:
    image: ${images.busybox}
    init: true
    command: ${http('docs', 4000)}
    ports:
      - target: 4000
        published: "4000"
        app_protocol: http
`,
    },
    'msgs',
    async (fx) => {
      await fx.git('switch', '-q', '-c', 'missing-image');
      await fx.write({ 'compose.yaml': `services:\n  api:\n    image: envs-test/never-built:1.0\n    ports: ["8080:80"]\n` });
      await fx.commit('an image nobody has');
      await fx.git('switch', '-q', '-c', 'risky', 'main');
      await fx.write({
        'compose.yaml': `services:\n  agent:\n    image: ${images.busybox}\n    network_mode: host\n  watcher:\n    image: ${images.busybox}\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n`,
      });
      await fx.commit('host networking and the engine socket');
      await fx.git('switch', '-q', 'main');
    },
  );

  it('the preview URL is the first HTTP service in compose-file order, never a non-HTTP port; --json stdout is one JSON document', async () => {
    const created = await envsOk(fx.repo, fx.home, ['create', 'feat/urls', '--json']);
    expect(() => JSON.parse(created.stdout)).not.toThrow(); // Compose's "version is obsolete" warning stays out
    const env = created.json;
    expect(Object.keys(env.urls)).toEqual(['web', 'docs']);
    expect(env.urls.web).toBe(`http://${env.name}.localhost:1355`);
    expect(env.urls.docs).toBe(`http://docs.${env.name}.localhost:1355`);
    expect(Object.keys(env.direct_urls)).toEqual(['web', 'docs']);
    expect(Object.values(env.direct_urls).join(' ')).not.toMatch(/:(9000)\//);
    expect(env.ports.map((p: any) => p.service)).toEqual(['web', 'analytics', 'analytics', 'docs']);
    const list = await envsOk(fx.repo, fx.home, ['list']);
    expect(list.stdout).toContain(env.urls.web);
    const destroyed = await envsOk(fx.repo, fx.home, ['destroy', 'feat/urls', '--json']);
    expect(destroyed.json.branch).toBe('feat/urls');
    await expectNothingLeft(fx.label);
  });

  it('plan names host networking and engine-socket mounts, service and key, as warnings once the default branch allows them', async () => {
    // Refused until envs.yaml on main allows them (the compose policy); allowed, they are still warned about.
    expect((await envs(fx.repo, fx.home, ['plan', 'risky', '--json'])).json.error.code).toBe('POLICY_REFUSED');
    await fx.write({
      'envs.yaml':
        'policy:\n  allow:\n    - service: agent\n      use: [network_mode]\n    - service: watcher\n      bind: [/var/run/docker.sock]\n',
    });
    await fx.commit('main allows host networking and the socket');
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'risky', '--json'])).json;
    expect(plan.warnings).toContainEqual(expect.stringMatching(/^agent: network_mode "host"/));
    expect(plan.warnings).toContainEqual(
      expect.stringMatching(
        /^watcher: volumes mounts the container engine's socket \/var\/run\/docker\.sock.*controls the container engine/,
      ),
    );
    const human = await envsOk(fx.repo, fx.home, ['plan', 'risky']);
    expect(human.stdout).toMatch(/warning: agent: network_mode "host"/);
    await fx.git('rm', '-q', 'envs.yaml');
    await fx.commit('main allows nothing again');
  });

  it('an image that cannot be pulled is named, and the registry said to be unreachable', async () => {
    const result = await envs(fx.repo, fx.home, ['create', 'missing-image', '--json']);
    expect(result.exitCode).toBe(1);
    expect(result.json.error.code).toBe('IMAGE_PULL_FAILED');
    expect(result.json.error.message).toMatch(/^Could not pull envs-test\/never-built:1\.0: /);
    expect(result.json.error.hint).toMatch(/docker pull envs-test\/never-built:1\.0/);
    await expectNothingLeft(fx.label);
  });
});
