import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { sql } from '../support/net.ts';
import { useRepo } from '../support/repo.ts';

describe('every way of publishing a port', () => {
  const fx = useRepo(
    {
      'compose.yaml': `services:
  app:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    environment:
      DB_PORT: \${DB_PORT:-5432}
      LITERAL: "costs $$5"
    ports:
      - "\${DB_PORT:-5432}:5432"
      - "127.0.0.1:6001:6001"
      - "0.0.0.0:7000:7000/udp"
      - target: 8000
        published: "8000"
        host_ip: 0.0.0.0
        protocol: tcp
      - "9000"
      - "9100-9101:9100-9101"
`,
    },
    'forms',
  );

  it('remaps the published side of each form to 127.0.0.1 and leaves the container side and variables alone', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/forms', '--json'], { DB_PORT: '6543' })).json;
    const ports = plan.compose.services.app.ports;
    expect(ports.map((p: any) => [p.target, p.protocol])).toEqual([
      [5432, 'tcp'],
      [6001, 'tcp'],
      [7000, 'udp'],
      [8000, 'tcp'],
      [9000, 'tcp'],
      [9100, 'tcp'],
      [9101, 'tcp'],
    ]);
    for (const port of ports) {
      expect(port.host_ip).toBe('127.0.0.1');
      expect(Number(port.published)).toBeGreaterThanOrEqual(20000);
      expect(Number(port.published)).toBeLessThanOrEqual(29999);
    }
    expect(new Set(ports.map((p: any) => p.published)).size).toBe(7);
    // The variable still means what it meant inside the container.
    expect(plan.compose.services.app.environment.DB_PORT).toBe('6543');
  });

  it('runs: the engine binds only 127.0.0.1, and values come through unchanged', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/forms', '--json'])).json;
    expect(env.ports).toHaveLength(7);
    expect(env.ports.every((p: any) => p.host_ip === '127.0.0.1')).toBe(true);
    const container = await containerOf(env.project, 'app');
    const { stdout } = await execa('docker', ['port', container]);
    for (const line of stdout.split('\n')) expect(line).toMatch(/-> 127\.0\.0\.1:\d+$/);
    const printed = await execa('docker', ['exec', container, 'sh', '-c', 'echo "$DB_PORT|$LITERAL"']);
    expect(printed.stdout).toBe('5432|costs $5');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/forms']);
    await expectNothingLeft(fx.label);
  });
});

describe('compose files that pull in other files', () => {
  const fx = useRepo(
    {
      'docker/compose.yaml': `include:
  - db.yaml
services:
  app:
    extends:
      file: ../base/common.yaml
      service: base
    env_file: [../config/app.env]
    ports: ["3000:3000"]
`,
      'docker/db.yaml': `services:
  cache:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    ports: ["6379:6379"]
`,
      'base/common.yaml': `services:
  base:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
`,
      'config/app.env': 'GREETING=hello from env_file\n',
      'envs.yaml': 'compose:\n  files: [docker/compose.yaml]\n',
    },
    'nested',
  );

  it('renders from the commit before any worktree exists, and runs', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/nested', '--json'])).json;
    expect(plan.source_files).toEqual(['docker/compose.yaml']);
    expect(Object.keys(plan.compose.services).sort()).toEqual(['app', 'cache']);
    expect(plan.compose.services.app.environment.GREETING).toBe('hello from env_file');

    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/nested', '--json'])).json;
    expect(env.status).toBe('running');
    expect(env.ports.map((p: any) => p.service).sort()).toEqual(['app', 'cache']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/nested']);
    await expectNothingLeft(fx.label);
  });

  it('names a missing configured compose file', async () => {
    await fx.git('switch', '-q', '-c', 'moved');
    await fx.write({ 'envs.yaml': 'compose:\n  files: [docker/gone.yaml]\n' });
    await fx.commit('point at a missing file');
    await fx.git('switch', '-q', 'main');
    const result = await envs(fx.repo, fx.home, ['plan', 'moved', '--json']);
    expect(result.json.error).toMatchObject({
      code: 'COMPOSE_INVALID',
      message: expect.stringMatching(/docker\/gone\.yaml named by envs\.yaml does not exist/),
    });
  });
});

describe('a repository without a compose file', () => {
  const fx = useRepo({ 'README.md': '# no services here\n' }, 'bare');

  it('gets an embedded Postgres per env, with its own generated password and a DATABASE_URL', async () => {
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/one', '--json'])).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/two', '--json'])).json;
    expect(a.env.DATABASE_URL).toMatch(/^postgres:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/app$/);

    const urlA = (await envsOk(fx.repo, fx.home, ['info', 'feat/one', '--json', '--show-secrets'])).json.env.DATABASE_URL;
    const urlB = (await envsOk(fx.repo, fx.home, ['info', 'feat/two', '--json', '--show-secrets'])).json.env.DATABASE_URL;
    const password = (url: string) => new URL(url).password;
    expect(password(urlA)).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(password(urlA)).not.toBe(password(urlB));

    await sql(urlA, "create table t (v text); insert into t values ('a')");
    expect(await sql(urlA, 'select v from t')).toEqual([{ v: 'a' }]);
    await expect(sql(urlB, 'select v from t')).rejects.toThrow(/does not exist/);

    // The secret is nowhere in what `info` prints without --show-secrets.
    const info = await envsOk(fx.repo, fx.home, ['info', 'feat/one']);
    expect(info.stdout).not.toContain(password(urlA));
    expect(b.status).toBe('running');

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/one']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/two']);
    await expectNothingLeft(fx.label);
  });
});

describe('doctor', () => {
  const fx = useRepo({ 'compose.yaml': 'services:\n  a:\n    image: busybox\n    ports: ["abc:80"]\n' }, 'doc');

  it('passes the machine checks here, and names a broken compose file with a fix', async () => {
    const result = await envs(fx.repo, fx.home, ['doctor', '--json']);
    const byName = Object.fromEntries(result.json.checks.map((c: any) => [c.name, c]));
    for (const name of ['node', 'git', 'docker compose', 'docker engine', 'state directory']) expect(byName[name].ok, name).toBe(true);
    expect(byName['compose model']).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/Invalid hostPort: abc/),
      fix: expect.any(String),
    });
    expect(result.exitCode).toBe(1);
  });

  it('follows the active docker context, as the docker CLI does', async () => {
    // A context whose endpoint is the real engine under another path: only a context-aware client finds it.
    const config = join(fx.root, 'docker-config');
    const socket = join(fx.root, 'engine.sock');
    await mkdir(config);
    await symlink('/var/run/docker.sock', socket);
    await execa('docker', ['context', 'create', 'envs-test', '--docker', `host=unix://${socket}`], { env: { DOCKER_CONFIG: config } });
    await writeFile(join(config, 'config.json'), JSON.stringify({ currentContext: 'envs-test' }));
    const result = await envs(fx.repo, fx.home, ['doctor', '--json'], { DOCKER_CONFIG: config });
    const engine = result.json.checks.find((c: any) => c.name === 'docker engine');
    expect(engine).toMatchObject({ ok: true, detail: expect.stringContaining(`unix://${socket}`) });
  });

  it('says how to fix an engine that is down', async () => {
    const result = await envs(fx.root, fx.home, ['doctor', '--json'], { DOCKER_HOST: 'unix:///nonexistent.sock' });
    const engine = result.json.checks.find((c: any) => c.name === 'docker engine');
    expect(engine).toMatchObject({ ok: false, fix: expect.stringMatching(/Start the engine|Docker Desktop/) });
    expect(result.json.checks.find((c: any) => c.name === 'compose model')).toBeUndefined();
    expect(result.exitCode).toBe(1);
  });
});
