import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, envs, envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft, labelled, sweep } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet } from '../support/net.ts';
import { type Fixture, makeRepo, useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

async function running(id: string): Promise<string> {
  const result = await execa('docker', ['inspect', '--format', '{{.State.Status}}', id], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : 'gone';
}

describe('up never changes what an env is made of unasked', () => {
  const fx = useRepo(webFiles(), 'reshape');

  it('refuses when the compose file vanished; --reconfigure switches, removing only containers it made for this env', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/shape', '--json'])).json;
    const web = await containerOf(env.project, 'web');
    // A container in the env's Compose project that envs did not make (say, `docker compose -p <project> -f
    // mine.yaml up`): it carries Compose's labels, config hash included, but none of envs's.
    const foreign = (
      await execa('docker', [
        'run',
        '-d',
        '--label',
        `com.docker.compose.project=${env.project}`,
        '--label',
        'com.docker.compose.service=sidecar',
        '--label',
        'com.docker.compose.oneoff=False',
        '--label',
        'com.docker.compose.config-hash=0123456789abcdef',
        images.busybox,
        'sleep',
        '3600',
      ])
    ).stdout.trim();
    try {
      // Same compose file: up goes on, and leaves the stranger alone (Compose's --remove-orphans would not).
      expect((await envsOk(fx.repo, fx.home, ['up', 'feat/shape', '--json'])).json.status).toBe('running');
      expect(await running(foreign)).toBe('running');

      await rm(join(env.worktree, 'compose.yaml'));
      const before = await snapshot(fx, [env.worktree]);
      const refused = await envs(fx.repo, fx.home, ['up', 'feat/shape']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(
        "error: feat/shape's env was made from compose.yaml, but its worktree has no compose file now: up would replace it with the embedded postgres template.",
      );
      expect(refused.stderr).toContain('envs up feat/shape --reconfigure');
      expect((await envs(fx.repo, fx.home, ['up', 'feat/shape', '--json'])).json.error.code).toBe('COMPOSITION_CHANGED');
      expect(await snapshot(fx, [env.worktree])).toEqual(before);
      expect(await running(web)).toBe('running');
      expect(await httpGet(env.ports[0].published)).not.toBe('');

      const switched = (await envsOk(fx.repo, fx.home, ['up', 'feat/shape', '--reconfigure', '--json'])).json;
      expect(switched.status).toBe('running');
      expect(switched.services).toEqual(['db']);
      expect(switched.env.DATABASE_URL).toMatch(/^postgres:\/\//);
      expect(await running(web)).toBe('gone'); // envs made it for this env, and its service is gone
      expect(await running(foreign)).toBe('running'); // not envs's
      // Back from the template to the compose file needs the flag again.
      await fx.git('-C', env.worktree, 'checkout', '--', 'compose.yaml');
      expect((await envs(fx.repo, fx.home, ['up', 'feat/shape', '--json'])).json.error.code).toBe('COMPOSITION_CHANGED');
    } finally {
      await execa('docker', ['rm', '-f', foreign], { reject: false });
    }
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/shape']);
    await expectNothingLeft(fx.label);
  });
});

describe('ports last as long as the env', () => {
  const fx = useRepo(webFiles(), 'leases');

  it('a failed up from a compose file that publishes fewer ports keeps the env’s leases, and ports do not change', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/lease', '--json'])).json;
    const leases = async () =>
      JSON.parse(await readFile(join(fx.home, 'ports.json'), 'utf8'))
        .leases.filter((l: any) => l.project === env.project)
        .map((l: any) => [l.key, l.port]);
    const held = await leases();
    expect(held).toEqual([['web/80/tcp', env.ports[0].published]]);

    // A broken compose file on the branch: web publishes nothing and dies.
    await writeFile(join(env.worktree, 'compose.yaml'), `services:\n  web:\n    image: ${images.busybox}\n    command: ["false"]\n`);
    const failed = await envs(fx.repo, fx.home, ['up', 'feat/lease', '--json']);
    expect(failed.exitCode).toBe(1);
    expect(failed.json.error.code).toBe('SERVICE_FAILED');
    expect(await leases()).toEqual(held);

    await fx.git('-C', env.worktree, 'checkout', '--', 'compose.yaml');
    const fixed = (await envsOk(fx.repo, fx.home, ['up', 'feat/lease', '--json'])).json;
    expect(fixed.ports).toEqual(env.ports);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/lease']);
    await expectNothingLeft(fx.label);
  });
});

describe('env locks are per repository', () => {
  // Two clones with an env for the same branch (so the same env name), sharing one ENVS_HOME.
  let slow: Fixture;
  let fast: Fixture;
  beforeAll(async () => {
    slow = await makeRepo(
      {
        'compose.yaml': `services:
  slow:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1000
`,
      },
      'twin',
    );
    fast = await makeRepo(webFiles(), 'twin');
  });
  afterAll(async () => {
    for (const fx of [slow, fast]) {
      if (fx?.label) await sweep(fx.label);
      await fx?.cleanup();
    }
  });

  it('a create in one repository does not block the same branch’s env in another', async () => {
    const home = slow.home;
    await envsOk(fast.repo, home, ['create', 'feat/same']);
    const creating = execa('node', [BIN, 'create', 'feat/same'], {
      cwd: slow.repo,
      reject: false,
      env: { ENVS_HOME: home, ENVS_PROXY: 'off' },
    });
    try {
      for (let i = 0; i < 150 && (await labelled(slow.label)).containers.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect((await labelled(slow.label)).containers.length).toBeGreaterThan(0); // it is waiting in compose up, holding its lock
      expect((await envsOk(fast.repo, home, ['down', 'feat/same', '--json'])).json.status).toBe('stopped');
    } finally {
      creating.kill('SIGINT');
      await creating;
    }
    // Ctrl-C leaves the interrupted create as it was (partial); destroy removes it.
    await envsOk(slow.repo, home, ['destroy', 'feat/same']);
    await envsOk(fast.repo, home, ['destroy', 'feat/same']);
    await expectNothingLeft(fast.label);
    await expectNothingLeft(slow.label);
  });
});
