import { existsSync } from 'node:fs';
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoIdFor } from '../../src/core/naming.ts';
import { appFiles as files, MAIN_DOTENV } from '../support/app-fixture.ts';
import { envs, envsOk } from '../support/cli.ts';
import { containerOf, expectNothingLeft } from '../support/docker.ts';
import { canBind, httpGet } from '../support/net.ts';
import { alive } from '../support/proc.ts';
import { useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

const socket = `envs-test-bootstrap-${process.pid}`;

function portOf(url: string): number {
  return Number(new URL(url).port);
}

describe('the app, not just its containers (pnpm workspace)', () => {
  const fx = useRepo(files, 'shop', async (fx) => {
    await execa('pnpm', ['install', '--silent'], { cwd: fx.repo });
    await fx.commit('lockfile');
    await fx.write({ '.env': MAIN_DOTENV, 'certs/dev.pem': 'not a real certificate\n', 'config/local.json': '{"local": true}\n' });
    // A branch that tracks the file envs would write: refused, never overwritten.
    await fx.git('switch', '-q', '-c', 'tracks-env');
    await fx.git('add', '-f', '.env');
    await fx.commit('track .env');
    await fx.git('switch', '-q', 'main');
    await writeFile(join(fx.repo, '.env'), MAIN_DOTENV);
  });
  const env = { ENVS_TMUX_SOCKET: socket };
  afterAll(() => execa('tmux', ['-L', socket, 'kill-server'], { reject: false }));

  it('plan shows every rewrite and the process, with secrets redacted', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/a', '--json'], env)).json;
    expect(plan.processes).toEqual([{ name: 'web', port: expect.any(Number), command: 'pnpm --filter web dev' }]);
    expect(plan.rewrites).toContainEqual(
      expect.stringMatching(
        /^\.env DATABASE_URL: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/app → postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/app$/,
      ),
    );
    expect(plan.rewrites).toContainEqual(
      expect.stringMatching(/^service auth API_EXTERNAL_URL: http:\/\/localhost:8000 → http:\/\/localhost:\d+$/),
    );
    expect(JSON.stringify(plan)).not.toContain('secret@');
  });

  it('two envs: each dev server on its own port, with its own database, the main checkout untouched, worktrees clean', async () => {
    const before = await readFile(join(fx.repo, '.env'), 'utf8');
    const mainStatus = await fx.git('status', '--porcelain', '--ignored');
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'], env)).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'], env)).json;
    for (const view of [a, b]) {
      const info = (await envsOk(fx.repo, fx.home, ['info', view.branch, '--json', '--show-secrets'], env)).json;
      const dbPort = view.ports.find((p: any) => p.service === 'db').published;
      const gatewayPort = view.ports.find((p: any) => p.service === 'gateway').published;
      const served = JSON.parse(await httpGet(portOf(view.direct_urls.web)));
      expect(served).toMatchObject({ port: portOf(view.direct_urls.web), greeting: 'hello from shared' });
      expect(portOf(served.database)).toBe(dbPort);
      expect(served.database).toBe(info.env.DATABASE_URL);
      expect(portOf(served.fileDatabase)).toBe(dbPort); // the worktree's .env says the env's own database
      expect(served.fileApi).toBe(`http://localhost:${gatewayPort}`);
      // A compose service that hands out the gateway's URL hands out the env's port.
      const { stdout } = await execa('docker', ['exec', await containerOf(view.project, 'auth'), 'env']);
      expect(stdout).toContain(`API_EXTERNAL_URL=http://localhost:${gatewayPort}`);
      // Copied files, private; dependencies of its own, not a link into the main checkout.
      for (const path of ['.env', 'certs/dev.pem', 'config/local.json'])
        expect((await stat(join(view.worktree, path))).mode & 0o777).toBe(0o600);
      expect((await stat(join(view.worktree, 'node_modules'))).isDirectory()).toBe(true);
      expect(await execa('git', ['status', '--porcelain'], { cwd: view.worktree }).then((r) => r.stdout)).toBe('');
      expect(info.processes).toEqual([expect.objectContaining({ name: 'web', state: 'running', port: portOf(view.direct_urls.web) })]);
    }
    expect(portOf(a.direct_urls.web)).not.toBe(portOf(b.direct_urls.web));
    expect(await readFile(join(fx.repo, '.env'), 'utf8')).toBe(before);
    expect(await fx.git('status', '--porcelain', '--ignored')).toBe(mainStatus);
  });

  it('down leaves no process alive; up brings them back on the same ports; destroy leaves none', async () => {
    const a = (await envsOk(fx.repo, fx.home, ['info', 'feat/a', '--json'], env)).json;
    const port = portOf(a.direct_urls.web);
    const pid = a.processes[0].pid;
    await envsOk(fx.repo, fx.home, ['down', 'feat/a'], env);
    expect(alive(pid)).toBe(false);
    expect(await canBind(port)).toBe(true);
    const up = (await envsOk(fx.repo, fx.home, ['up', 'feat/a', '--json'], env)).json;
    expect(up.direct_urls.web).toBe(a.direct_urls.web);
    expect(JSON.parse(await httpGet(port)).port).toBe(port);

    const b = (await envsOk(fx.repo, fx.home, ['info', 'feat/b', '--json'], env)).json;
    for (const view of [up, b]) await envsOk(fx.repo, fx.home, ['destroy', view.branch], env);
    for (const view of [a, b]) expect(await canBind(portOf(view.direct_urls.web))).toBe(true);
    expect(alive(b.processes[0].pid)).toBe(false);
    await expectNothingLeft(fx.label);
  });

  it('refuses to write into a file the branch tracks, changing nothing', async () => {
    const before = await snapshot(fx);
    const result = await envs(fx.repo, fx.home, ['create', 'tracks-env', '--json'], env);
    expect(result.exitCode).toBe(1);
    expect(result.json.error.code).toBe('ENV_FILE_TRACKED');
    expect(result.json.error.message).toMatch(/\.env/);
    expect(await snapshot(fx)).toEqual(before);
  });
});

describe('envs demo', () => {
  const fx = useRepo({ 'README.md': 'the demo is written next to this repository\n' }, 'demo-host');
  const env = { ENVS_TMUX_SOCKET: `${socket}-demo` };
  afterAll(() => execa('tmux', ['-L', `${socket}-demo`, 'kill-server'], { reject: false }));

  it('writes a demo repository and two envs whose URLs answer with different databases', async () => {
    const dir = join(fx.root, 'demo');
    const result = await envsOk(fx.root, fx.home, ['demo', dir], env);
    expect(result.stdout).toMatch(/two envs running side by side/);
    const views = (await envsOk(dir, fx.home, ['list', '--json'], env)).json;
    expect(views.map((v: any) => v.branch)).toEqual(['demo/one', 'demo/two']);
    const answers = await Promise.all(views.map(async (v: any) => JSON.parse(await httpGet(portOf(v.direct_urls.web)))));
    for (const [i, answer] of answers.entries()) {
      expect(answer.server_started).toMatch(/^\d{4}-\d\d-\d\d /);
      expect(portOf(answer.database)).toBe(views[i].ports.find((p: any) => p.service === 'db').published);
    }
    expect(answers[0].server_started).not.toBe(answers[1].server_started);
    const removals = result.stdout.split('\n').filter((l) => / destroy | db rm-snapshot /.test(l));
    expect(removals.filter((l) => l.includes('rm-snapshot'))).toHaveLength(1);
    for (const line of removals) {
      const args = line
        .trim()
        .split(/\s+/)
        .slice(1, line.includes('rm-snapshot') ? 6 : undefined);
      await envsOk(fx.root, fx.home, args, env);
    }
    expect(existsSync(join(dir, '.env'))).toBe(true);
    // What the demo says to run removes everything, its database snapshot included.
    await expectNothingLeft(`dev.envs.repo=${repoIdFor('demo', await realpath(join(dir, '.git')))}`, { snapshots: true });
  });
});
