import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet } from '../support/net.ts';
import { useRepo } from '../support/repo.ts';

/**
 * Two services that build from one context under one image name (a web and a worker of the same app,
 * told apart by a build argument): each build replaces the tag, leaving the other untagged.
 */
const TAG = 'envs-test-shop-web:dev';
const files = {
  'compose.yaml': `services:
  web:
    build:
      context: ./app
      args: { ROLE: web }
    image: ${TAG}
    init: true
    ports: ["8080:80"]
  worker:
    build:
      context: ./app
      args: { ROLE: worker }
    image: ${TAG}
    init: true
    command: ["sleep", "3600"]
`,
  'app/Dockerfile': `FROM ${images.busybox}
ARG ROLE
RUN mkdir -p /www && echo "built-from-branch $ROLE" > /www/index.html
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`,
};

async function imageIds(filter: string): Promise<string[]> {
  const { stdout } = await execa('docker', ['image', 'ls', '-a', '-q', '--filter', filter]);
  return stdout.split('\n').filter(Boolean);
}

describe('services that build and name an image', () => {
  const fx = useRepo(files, 'shop');
  afterAll(() => execa('docker', ['image', 'rm', '-f', TAG], { reject: false }));

  it('reuse the image when the engine has it, as Compose would, and leave it alone on destroy', async () => {
    const context = await mkdtemp(join(tmpdir(), 'envs-prebuilt-'));
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${images.busybox}\nRUN mkdir -p /www && echo prebuilt > /www/index.html\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n`,
    );
    await execa('docker', ['build', '-q', '-t', TAG, context]);
    await rm(context, { recursive: true });
    const [prebuilt] = await imageIds(`reference=${TAG}`);

    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/reuse', '--json'])).json;
    expect(plan.compose.services.web.image).toBe(TAG);
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/reuse', '--json'])).json;
    expect(await httpGet(env.ports[0].published)).toBe('prebuilt');
    const { stdout } = await execa('docker', ['inspect', '--format', '{{.Image}}', await containerOf(env.project, 'web')]);
    expect(stdout).toBe((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', TAG])).stdout);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/reuse']);
    await expectNothingLeft(fx.label);
    expect(await imageIds(`reference=${TAG}`)).toEqual([prebuilt]);
    await execa('docker', ['image', 'rm', '-f', TAG]);
  });

  it('build per env when the image cannot be had, never clobbering another env; destroy leaves no image, dangling ones included', async () => {
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'])).json;
    // Which of the two builds wins the shared tag inside one env is Compose's business, as without envs.
    for (const env of [a, b]) expect(await httpGet(env.ports[0].published)).toMatch(/^built-from-branch (web|worker)$/);
    expect(await imageIds(`reference=${TAG}`)).toEqual([]); // the shared tag was never written
    const built = await imageIds(`label=dev.envs.project=${a.project}`);
    expect(built.length).toBeGreaterThanOrEqual(2); // web's and worker's builds, one of them untagged now

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    expect(await imageIds(`label=dev.envs.project=${a.project}`)).toEqual([]);
    expect(await httpGet(b.ports[0].published)).toMatch(/^built-from-branch/);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
  });
});
