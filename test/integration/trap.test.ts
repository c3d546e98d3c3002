import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { canBind, httpGet, sql } from '../support/net.ts';
import { trapFiles, useRepo } from '../support/repo.ts';

// A compose file with every trap, run twice side by side, then destroyed.
describe('two envs of a compose file full of traps', () => {
  let a: any;
  let b: any;
  const fx = useRepo(trapFiles(), 'trapapp', async (fx) => {
    a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'])).json;
  });

  it('both reach running, with their own worktrees and projects', async () => {
    expect(a.status).toBe('running');
    expect(b.status).toBe('running');
    expect(a.worktree).not.toBe(b.worktree);
    expect(a.project).not.toBe(b.project);
    const list = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(list.map((e: any) => [e.branch, e.status])).toEqual([
      ['feat/a', 'running'],
      ['feat/b', 'running'],
    ]);
    expect(await fx.git('worktree', 'list')).toContain(a.worktree);
  });

  it('keeps its records and generated files private (0600 in 0700 directories)', async () => {
    const { stat } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    expect(await mode(a.compose_file)).toBe(0o600);
    expect(await mode(dirname(a.compose_file))).toBe(0o700);
    const record = `${dirname(a.compose_file)}.json`;
    expect(await mode(record)).toBe(0o600);
    expect(await mode(fx.home)).toBe(0o700);
    expect(await mode(`${fx.home}/ports.json`)).toBe(0o600);
  });

  it('publishes every port on 127.0.0.1 only, each env on its own ports', () => {
    const ports = [...a.ports, ...b.ports];
    expect(ports.every((p: any) => p.host_ip === '127.0.0.1')).toBe(true);
    expect(new Set(ports.map((p: any) => p.published)).size).toBe(4);
    expect(ports.map((p: any) => p.published)).not.toContain(5432);
    expect(a.ports.map((p: any) => [p.service, p.target])).toEqual([
      ['db', 5432],
      ['web', 80],
    ]);
  });

  it('answers on each env’s own ports', async () => {
    for (const env of [a, b]) {
      const web = env.ports.find((p: any) => p.service === 'web').published;
      expect(await httpGet(web)).toBe('trap-web');
      expect(await sql(await databaseUrl(env.branch), 'select 1 as one')).toEqual([{ one: 1 }]);
    }
  });

  it('keeps databases apart: a row written in A is absent from B', async () => {
    const urlA = await databaseUrl('feat/a');
    const urlB = await databaseUrl('feat/b');
    await sql(urlA, "create table notes (body text); insert into notes values ('only in A')");
    expect(await sql(urlA, 'select body from notes')).toEqual([{ body: 'only in A' }]);
    await expect(sql(urlB, 'select body from notes')).rejects.toThrow(/relation "notes" does not exist/);
  });

  it('keeps the old container_name reachable as an alias inside each env', async () => {
    for (const env of [a, b]) {
      const web = await containerOf(env.project, 'web');
      const connect = (host: string) => execa('docker', ['exec', web, 'sh', '-c', `nc -w 3 ${host} 5432 </dev/null`], { reject: false });
      expect((await connect('trap-db')).exitCode).toBe(0);
      expect((await connect('no-such-name')).exitCode).not.toBe(0);
    }
    const { stdout } = await execa('docker', ['ps', '-a', '--format', '{{.Names}}']);
    expect(stdout.split('\n')).not.toContain('trap-db');
  });

  it('gives each env its own named volume and its own built image', async () => {
    const { stdout: volumes } = await execa('docker', ['volume', 'ls', '-q']);
    expect(volumes.split('\n')).not.toContain('trapapp-pgdata');
    expect(volumes.split('\n')).toEqual(expect.arrayContaining([`${a.project}_pgdata`, `${b.project}_pgdata`]));
    for (const env of [a, b]) {
      const inspect = await execa('docker', [
        'image',
        'inspect',
        `${env.project}-web`,
        '--format',
        '{{index .Config.Labels "dev.envs.env"}}',
      ]);
      expect(inspect.stdout).toBe(env.name);
    }
    expect((await execa('docker', ['image', 'inspect', 'trapapp-web:latest'], { reject: false })).exitCode).not.toBe(0);
  });

  it('destroying both leaves nothing labelled, removes the worktrees, keeps the branches, frees the ports', async () => {
    const ports: number[] = [...a.ports, ...b.ports].map((p: any) => p.published);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['rm', b.worktree]);

    await expectNothingLeft(fx.label);
    expect(existsSync(a.worktree)).toBe(false);
    expect(existsSync(b.worktree)).toBe(false);
    expect(await fx.git('worktree', 'list', '--porcelain')).not.toContain('feat/');
    expect((await fx.git('branch', '--list', 'feat/*')).split('\n').map((l) => l.trim())).toEqual(['feat/a', 'feat/b']);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
    for (const port of ports) expect(await canBind(port)).toBe(true);

    // Allocated again: the same branch lands on the same (hash-chosen) ports.
    const again = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    expect(again.ports.map((p: any) => p.published)).toEqual(a.ports.map((p: any) => p.published));
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await expectNothingLeft(fx.label);
  });

  async function databaseUrl(branch: string): Promise<string> {
    return (await envsOk(fx.repo, fx.home, ['info', branch, '--show-secrets', '--json'])).json.env.DATABASE_URL;
  }
});
