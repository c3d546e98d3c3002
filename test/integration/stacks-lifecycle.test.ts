import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet, sql } from '../support/net.ts';
import { useRepo } from '../support/repo.ts';

const web = (text: string) => `["sh", "-c", "mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www"]`;

/** A migrator that runs once before the app, and services whose healthchecks are switched off. */
const oneShots = (migrate: string) => `services:
  migrate:
    image: ${images.busybox}
    restart: "no"
    command: ["sh", "-c", "${migrate}"]
  app:
    image: ${images.busybox}
    init: true
    command: ${web('app-up')}
    ports: ["8080:80"]
    depends_on:
      migrate:
        condition: service_completed_successfully
    healthcheck:
      disable: true
  worker:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    healthcheck:
      test: ["NONE"]
`;

describe('one-shot services and disabled healthchecks', () => {
  const fx = useRepo({ 'compose.yaml': oneShots('echo migrated 0042; exit 0') }, 'oneshot', async (fx) => {
    await fx.git('switch', '-q', '-c', 'broken-migration');
    await fx.write({ 'compose.yaml': oneShots('echo applying 0043; echo relation users already exists >&2; exit 3') });
    await fx.commit('a migration that fails');
    await fx.git('switch', '-q', 'main');
  });

  it('come up in two envs side by side: the migrator done, the others running', async () => {
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'])).json;
    for (const env of [a, b]) {
      expect(env.status).toBe('running');
      expect(await httpGet(env.ports.find((p: any) => p.service === 'app').published)).toBe('app-up');
    }
    // No router here (ENVS_PROXY=off): `open` gives the address that answers, and says why.
    const opened = await envsOk(fx.repo, fx.home, ['open', 'feat/a']);
    const appPort = a.ports.find((p: any) => p.service === 'app').published;
    expect(opened.stdout.trim()).toBe(`http://127.0.0.1:${appPort}/`);
    expect(opened.stderr).toMatch(/preview router is not running/);
    expect((await envsOk(fx.repo, fx.home, ['open', 'feat/a', '--json'])).json).toMatchObject({ routed: false });
    const listed = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(listed.map((e: any) => [e.branch, e.status, e.problems])).toEqual([
      ['feat/a', 'running', []],
      ['feat/b', 'running', []],
    ]);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
  });

  it('a one-shot that exits non-zero fails create with its name, exit code and last output; nothing is left', async () => {
    const result = await envs(fx.repo, fx.home, ['create', 'broken-migration', '--json']);
    expect(result.exitCode).toBe(1);
    expect(result.json.error.code).toBe('SERVICE_FAILED');
    expect(result.json.error.message).toMatch(/Service migrate exited with code 3/);
    expect(result.json.error.message).toMatch(/relation users already exists/);
    await expectNothingLeft(fx.label);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
  });
});

describe('broken services are never reported as healthy', () => {
  const fx = useRepo(
    {
      'compose.yaml': `services:
  app:
    image: ${images.busybox}
    restart: unless-stopped
    # Exits 0 on SIGTERM, as a graceful server does: stopped by hand, it must not pass for a finished one-shot.
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /www && echo app-up > /www/index.html && httpd -p 80 -h /www && while true; do sleep 1; done"]
    ports: ["8080:80"]
  web:
    image: ${images.busybox}
    # Compose's default restart policy, as most files leave it; it publishes a port, so it is a server.
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /www && echo web-up > /www/index.html && httpd -p 80 -h /www && while true; do sleep 1; done"]
    ports: ["8081:80"]
  seed:
    image: ${images.busybox}
    command: ["true"]
`,
    },
    'crashy',
    async (fx) => {
      await fx.git('switch', '-q', '-c', 'crash-loop');
      await fx.write({
        'compose.yaml': `services:
  app:
    image: ${images.busybox}
    restart: unless-stopped
    command: ["sh", "-c", "echo cannot connect to the queue; exit 1"]
`,
      });
      await fx.commit('an app that crashes at start');
      await fx.git('switch', '-q', 'main');
    },
  );

  it('a crash-looping service fails create with its restart count and last output', async () => {
    const result = await envs(fx.repo, fx.home, ['create', 'crash-loop', '--json']);
    expect(result.exitCode).toBe(1);
    expect(result.json.error.code).toBe('SERVICE_FAILED');
    expect(result.json.error.message).toMatch(/Service app keeps restarting \(\d+ restarts, last exit code 1\)/);
    expect(result.json.error.message).toMatch(/cannot connect to the queue/);
    await expectNothingLeft(fx.label);
  });

  it('a long-running service stopped by hand shows as down, a finished one-shot as done', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/stopped', '--json'])).json;
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/stopped', '--json'])).json).toMatchObject({ status: 'running', problems: [] });
    await execa('docker', ['stop', await containerOf(env.project, 'app')]);
    const info = (await envsOk(fx.repo, fx.home, ['info', 'feat/stopped', '--json'])).json;
    expect(info.status).toBe('partial'); // web still runs
    expect(info.service_states.find((s: any) => s.service === 'app')).toMatchObject({ state: 'exited', one_shot: false });
    const { stdout } = await execa('docker', [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${env.project}`,
      '--format',
      '{{.Names}} {{.Status}}',
    ]);
    expect(stdout).toMatch(/app-1 Exited \(0\)/);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/stopped']);
    await expectNothingLeft(fx.label);
  });

  it('a server with no restart policy that exits 0 is down, not a finished job', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/web-stopped', '--json'])).json;
    await execa('docker', ['stop', await containerOf(env.project, 'web')]);
    const info = (await envsOk(fx.repo, fx.home, ['info', 'feat/web-stopped', '--json'])).json;
    expect(info.status).not.toBe('running');
    const state = (name: string) => info.service_states.find((s: any) => s.service === name);
    expect(state('web')).toMatchObject({ state: 'exited', exit_code: 0, one_shot: false });
    expect(state('seed')).toMatchObject({ state: 'done', one_shot: true });
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/web-stopped']);
    await expectNothingLeft(fx.label);
  });
});

describe('a database without a healthcheck', () => {
  const fx = useRepo(
    {
      'compose.yaml': `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: secret
      POSTGRES_DB: app
    ports: ["5432:5432"]
`,
    },
    'nohealth',
  );

  it('is handed out only once it accepts connections, in each env', async () => {
    for (const branch of ['feat/a', 'feat/b']) {
      await envsOk(fx.repo, fx.home, ['create', branch]);
      const url = (await envsOk(fx.repo, fx.home, ['info', branch, '--json', '--show-secrets'])).json.env.DATABASE_URL;
      // No retry: the first connection right after create must work.
      expect(await sql(url, "select current_database() as db, 'ok' as state")).toEqual([{ db: 'app', state: 'ok' }]);
    }
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
  });
});
