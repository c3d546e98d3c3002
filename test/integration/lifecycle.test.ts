import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft, labelled } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { canBind, holdPort, httpGet, release, sql } from '../support/net.ts';
import { trapFiles, useRepo, webFiles } from '../support/repo.ts';

describe('a create that fails half-way leaves nothing half-made', () => {
  const fx = useRepo(webFiles(), 'fragile');

  it.each(['after-worktree', 'after-ports', 'after-compose-file', 'after-compose-up'])(
    'an error %s rolls back everything',
    async (point) => {
      const result = await envs(fx.repo, fx.home, ['create', 'feat/rollback', '--json'], { ENVS_FAILPOINT: `${point}:error` });
      expect(result.exitCode).toBe(1);
      expect(result.json.error.message).toMatch(new RegExp(`failpoint ${point}`));
      await expectNothingLeft(fx.label);
      expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
      expect(await fx.git('worktree', 'list')).not.toMatch(/rollback/);
      // The branch create made (still without commits of its own) is gone too.
      expect(await fx.git('branch', '--list', 'feat/rollback')).toBe('');
    },
  );

  it.each(['after-worktree', 'after-ports', 'after-compose-up'])(
    'a create killed %s shows as partial; destroy removes it all',
    async (point) => {
      const killed = await envs(fx.repo, fx.home, ['create', 'feat/killed'], { ENVS_FAILPOINT: point });
      expect(killed.exitCode).not.toBe(0);
      const [env] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
      expect(env).toMatchObject({ branch: 'feat/killed', status: 'partial' });
      expect(env.problems[0]).toMatch(/interrupted/);

      await envsOk(fx.repo, fx.home, ['destroy', 'feat/killed']);
      await expectNothingLeft(fx.label);
      expect(existsSync(env.worktree)).toBe(false);
      expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
      await fx.git('branch', '-D', 'feat/killed');
    },
  );

  it('a killed create is resumed by running create again, removing what its own containers left', async () => {
    await envs(fx.repo, fx.home, ['create', 'feat/resume'], { ENVS_FAILPOINT: 'after-ports' });
    // What Ctrl-C during a clone's layout leaves: envs's holder container (the env's labels, not Compose's), created.
    const [partial] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    const labels = { 'dev.envs.managed': 'true', 'dev.envs.project': partial.project, 'dev.envs.home': fx.home };
    const { stdout: holder } = await execa('docker', [
      'create',
      ...[...Object.entries(labels).map(([k, v]) => `${k}=${v}`), fx.label].flatMap((l) => ['--label', l]),
      images.busybox,
      'true',
    ]);
    const resumed = await envsOk(fx.repo, fx.home, ['create', 'feat/resume', '--json']);
    expect(resumed.json.status).toBe('running');
    expect((await execa('docker', ['ps', '-aq', '--no-trunc', '--filter', `id=${holder.trim()}`])).stdout).toBe('');
    expect(await httpGet(resumed.json.ports[0].published)).not.toBe('');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/resume']);
    await expectNothingLeft(fx.label);
  });

  it('--keep-on-failure keeps a failed env for inspection, and destroy cleans it', async () => {
    const result = await envs(fx.repo, fx.home, ['create', 'feat/kept', '--keep-on-failure'], { ENVS_FAILPOINT: 'after-compose-up:error' });
    expect(result.exitCode).toBe(1);
    const [env] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(env).toMatchObject({ branch: 'feat/kept', status: 'failed' });
    expect((await labelled(fx.label)).containers).toHaveLength(1);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/kept']);
    await expectNothingLeft(fx.label);
  });
});

describe('a destroy that is killed half-way', () => {
  const fx = useRepo(webFiles(), 'halfgone');

  it('shows as partial, and running destroy again finishes it', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/halfgone', '--json'])).json;
    const killed = await envs(fx.repo, fx.home, ['destroy', 'feat/halfgone'], { ENVS_FAILPOINT: 'destroy-after-down' });
    expect(killed.exitCode).not.toBe(0);
    const [listed] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(listed).toMatchObject({
      branch: 'feat/halfgone',
      status: 'partial',
      problems: [expect.stringMatching(/destroy was interrupted/)],
    });
    expect(existsSync(env.worktree)).toBe(true); // the worktree goes only after the containers

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/halfgone']);
    await expectNothingLeft(fx.label);
    expect(existsSync(env.worktree)).toBe(false);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
    expect(JSON.parse(await readFile(join(fx.home, 'ports.json'), 'utf8')).leases).toEqual([]);
  });
});

describe('an env whose worktree was deleted by hand', () => {
  const fx = useRepo(webFiles(), 'vanished');

  it('shows as partial, and destroy still removes everything else', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/vanished', '--json'])).json;
    await rm(env.worktree, { recursive: true, force: true });
    const [listed] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(listed).toMatchObject({
      status: 'partial',
      worktree_exists: false,
      problems: [expect.stringMatching(/worktree .* is missing/)],
    });

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/vanished']);
    await expectNothingLeft(fx.label);
    expect(await fx.git('worktree', 'list', '--porcelain')).not.toContain(env.worktree);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
  });
});

describe('envs used from inside an env’s worktree', () => {
  const fx = useRepo(webFiles(), 'inside');

  it('finds the repository and the env from the current directory', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/inside', '--json'])).json;
    const sub = join(env.worktree, 'sub');
    await mkdir(sub);
    expect((await envsOk(sub, fx.home, ['info', '.', '--json'])).json.name).toBe(env.name);
    expect((await envsOk(env.worktree, fx.home, ['list', '--json'])).json.map((e: any) => e.name)).toEqual([env.name]);
    expect((await envsOk(fx.root, fx.home, ['-C', env.worktree, 'info', env.name, '--json'])).json.repo).toBe(fx.repo);
    await rm(sub, { recursive: true });
    await envsOk(env.worktree, fx.home, ['destroy', 'feat/inside']);
    await expectNothingLeft(fx.label);
  });
});

describe('Ctrl-C during create', () => {
  // A service that never becomes healthy, so `compose up --wait` is still waiting when we interrupt.
  const fx = useRepo(
    {
      'compose.yaml': `services:
  slow:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    ports: ["8080:80"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1000
`,
    },
    'impatient',
  );

  it('stops at once with exit 130, leaving a partial env that destroy removes', async () => {
    const child = execa('node', [BIN, 'create', 'feat/interrupted'], {
      cwd: fx.repo,
      reject: false,
      env: { ENVS_HOME: fx.home, ENVS_PROXY: 'off' },
    });
    // Wait until the container exists (compose is waiting for health), then interrupt.
    for (let i = 0; i < 100 && (await labelled(fx.label)).containers.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    const interrupted = Date.now();
    child.kill('SIGINT');
    const result = await child;
    expect(Date.now() - interrupted).toBeLessThan(1_500);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/error: Cancelled \(Ctrl-C\)\./);
    // What a kill leaves, and the design makes resumable: the record says where it stopped.
    const [env] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(env).toMatchObject({
      branch: 'feat/interrupted',
      status: 'partial',
      problems: [expect.stringMatching(/create was interrupted at "compose-up"/)],
    });
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/interrupted']);
    await expectNothingLeft(fx.label);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
  });
});

describe('down and up', () => {
  const fx = useRepo(trapFiles(), 'steady');

  it('keep data and ports; a port taken meanwhile moves, and the env says where', async () => {
    const created = (await envsOk(fx.repo, fx.home, ['create', 'feat/steady', '--json'])).json;
    const url = (await envsOk(fx.repo, fx.home, ['info', 'feat/steady', '--json', '--show-secrets'])).json.env.DATABASE_URL;
    await sql(url, "create table kept (v text); insert into kept values ('still here')");

    const down = (await envsOk(fx.repo, fx.home, ['down', 'feat/steady', '--json'])).json;
    expect(down.status).toBe('stopped');
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json[0].status).toBe('stopped');
    // Ports stay leased while stopped: another env does not get them.
    const other = (await envsOk(fx.repo, fx.home, ['plan', 'feat/other', '--json'])).json;
    const held = created.ports.map((p: any) => p.published);
    expect(other.ports.map((p: any) => p.published).some((p: number) => held.includes(p))).toBe(false);

    const up = (await envsOk(fx.repo, fx.home, ['up', 'feat/steady', '--json'])).json;
    expect(up.status).toBe('running');
    expect(up.ports).toEqual(created.ports);
    expect(await sql(url, 'select v from kept')).toEqual([{ v: 'still here' }]);

    // Someone takes the web port while the env is down.
    await envsOk(fx.repo, fx.home, ['down', 'feat/steady']);
    const webPort = created.ports.find((p: any) => p.service === 'web').published;
    const holder = await holdPort(webPort);
    try {
      const moved = (await envsOk(fx.repo, fx.home, ['up', 'feat/steady', '--json'])).json;
      const newWeb = moved.ports.find((p: any) => p.service === 'web').published;
      expect(newWeb).not.toBe(webPort);
      expect(moved.ports.find((p: any) => p.service === 'db')).toEqual(created.ports.find((p: any) => p.service === 'db'));
      expect(await httpGet(newWeb)).toBe('trap-web');
      expect(moved.env.ENVS_WEB_PORT).toBe(String(newWeb));
      expect(await sql(url, 'select v from kept')).toEqual([{ v: 'still here' }]);
    } finally {
      await release(holder);
    }

    const destroyed = (await envsOk(fx.repo, fx.home, ['destroy', 'feat/steady', '--json'])).json;
    expect(destroyed.released_ports).not.toContain(webPort);
    for (const port of destroyed.released_ports) expect(await canBind(port)).toBe(true);
    await expectNothingLeft(fx.label);
  });
});
