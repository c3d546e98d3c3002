import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcesses, stopProcesses } from '../../src/bootstrap/processes.ts';
import { StatePaths } from '../../src/state/paths.ts';
import { BIN, envs, envsOk } from '../support/cli.ts';
import { images } from '../support/images.ts';
import { type Fixture, useRepo } from '../support/repo.ts';
import { until } from '../support/until.ts';

/** A web service that says hello in its log, so `envs logs` has something to show. */
const files = {
  'compose.yaml': `services:
  web:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "echo hello-from-compose; exec httpd -f -p 80 -h /"]
    ports:
      - "8080:80"
`,
  'sub/dir/.keep': '',
};

/** The env's tmux server, and another one standing in for the user's terminal: both the test's own. */
const socket = join(tmpdir(), `envs-it-cmds-${process.pid}.sock`);
const terminal = join(tmpdir(), `envs-it-term-${process.pid}.sock`);
const tmuxTest = (...args: string[]) => execa('tmux', ['-S', terminal, ...args], { reject: false });

describe('exec, env, logs and attach on a real env', () => {
  const fx: Fixture = useRepo(files, 'cmds');
  let env: { name: string; branch: string; worktree: string; project: string; ports: Array<{ published: number }> };
  let stateDir = '';

  beforeAll(async () => {
    env = (await envsOk(fx.repo, fx.home, ['create', 'feat/cmds', '--json'])).json;
    const repoId = env.project.replace(/^envs-/, '').replace(`-${env.name}`, '');
    stateDir = new StatePaths(fx.home).envFiles(repoId, env.name);
  });
  afterAll(async () => {
    await stopProcesses({ stateDir, graceMs: 500 });
    await tmuxTest('kill-server');
    await execa('tmux', ['-S', socket, 'kill-server'], { reject: false });
    await rm(socket, { force: true });
    await rm(terminal, { force: true });
    await envs(fx.repo, fx.home, ['destroy', 'feat/cmds', '--force']);
  });

  it('exec runs in the worktree with the env’s variables and passes the exit code through', async () => {
    const ok = await envs(fx.repo, fx.home, [
      'exec',
      'feat/cmds',
      '--',
      'sh',
      '-c',
      'echo "$ENVS_BRANCH|$COMPOSE_PROJECT_NAME|$(pwd)"; exit 7',
    ]);
    expect(ok.exitCode).toBe(7);
    expect(ok.stdout).toBe(`feat/cmds|${env.project}|${env.worktree}`);
    // From a directory inside the worktree, the command runs there; `--json` after -- is the command's.
    const inside = await envs(join(env.worktree, 'sub', 'dir'), fx.home, [
      'exec',
      'feat/cmds',
      '--',
      'sh',
      '-c',
      'pwd; echo "$1"',
      'sh',
      '--json',
    ]);
    expect(inside).toMatchObject({ exitCode: 0, stdout: `${join(env.worktree, 'sub', 'dir')}\n--json` });
    const missing = await envs(fx.repo, fx.home, ['exec', 'feat/cmds', '--', 'envs-no-such-command']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/No such command: envs-no-such-command/);
    const killed = await envs(fx.repo, fx.home, ['exec', 'feat/cmds', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.exitCode).toBe(143);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('exec forwards %s to the command and waits for it', async (signal) => {
    const child = execa(
      'node',
      [BIN, 'exec', 'feat/cmds', '--', 'sh', '-c', 'trap "echo caught; exit 42" INT TERM; echo ready; while :; do sleep 0.1; done'],
      {
        cwd: fx.repo,
        env: { ENVS_HOME: fx.home },
        reject: false,
      },
    );
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await until('the command to start', async () => (out.includes('ready') ? true : undefined));
    child.kill(signal);
    const result = await child;
    expect(result.exitCode).toBe(42);
    expect(result.stdout).toContain('caught');
  });

  it('env prints the variables as dotenv, shell and json that read back the same, secrets included', async () => {
    const info = (await envsOk(fx.repo, fx.home, ['info', 'feat/cmds', '--show-secrets', '--json'])).json;
    const dotenv = await envsOk(fx.repo, fx.home, ['env', 'feat/cmds']);
    expect(parse(dotenv.stdout)).toEqual(info.env);
    const json = await envsOk(fx.repo, fx.home, ['env', 'feat/cmds', '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(info.env);
    expect((await envsOk(fx.repo, fx.home, ['env', 'feat/cmds', '--json'])).json).toEqual(info.env);
    const shell = await envsOk(fx.repo, fx.home, ['env', 'feat/cmds', '--format', 'shell']);
    const names = Object.keys(info.env);
    const sourced = await execa(
      'sh',
      ['-c', `eval "$1"; for n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`, 'sh', shell.stdout],
      {
        env: {},
        extendEnv: false,
      },
    );
    expect(
      Object.fromEntries(
        sourced.stdout
          .split('\0')
          .slice(0, -1)
          .map((v, i) => [names[i], v]),
      ),
    ).toEqual(info.env);
    expect((await envs(fx.repo, fx.home, ['env', 'feat/cmds', '--format', 'yaml'])).exitCode).toBe(2);
  });

  it('logs shows a compose service, a process, or all of them with prefixes; -f follows until Ctrl-C', async () => {
    await startProcesses({
      stateDir,
      session: env.project,
      worktree: env.worktree,
      processes: [
        { name: 'worker', command: 'echo "worker says $ENVS_PROCESS"; i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done' },
      ],
      ports: {},
      env: {},
      baseEnv: { ...process.env, ENVS_TMUX_SOCKET: socket },
    });
    const service = await envsOk(fx.repo, fx.home, ['logs', 'feat/cmds', 'web']);
    expect(service.stdout).toContain('hello-from-compose');
    await until('the worker to tick', async () =>
      (await envs(fx.repo, fx.home, ['logs', 'feat/cmds', 'worker'])).stdout.includes('tick 2') ? true : undefined,
    );
    const worker = await envsOk(fx.repo, fx.home, ['logs', 'feat/cmds', 'worker', '--tail', '1']);
    expect(worker.stdout).toMatch(/^tick \d+$/); // one line (execa drops the final newline)
    const all = await envsOk(fx.repo, fx.home, ['logs', 'feat/cmds']);
    expect(all.stdout).toMatch(/^worker \| worker says worker$/m);
    expect(all.stdout).toContain('hello-from-compose');
    const unknown = await envs(fx.repo, fx.home, ['logs', 'feat/cmds', 'nope']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/services and processes: web, worker/);

    const following = execa('node', [BIN, 'logs', 'feat/cmds', 'worker', '-f', '-n', '0'], {
      cwd: fx.repo,
      env: { ENVS_HOME: fx.home },
      reject: false,
    });
    let out = '';
    following.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await until('new output to be followed', async () => ((out.match(/tick/g) ?? []).length >= 2 ? true : undefined));
    following.kill('SIGINT');
    expect((await following).exitCode).toBe(0);
  });

  it('attach opens the env’s tmux session in the terminal, and says why when it cannot', async () => {
    // A terminal for envs to run in: a pane of the test's own tmux server, running `envs attach`.
    await tmuxTest(
      'new-session',
      '-d',
      '-s',
      'outer',
      '-x',
      '120',
      '-y',
      '30',
      '-c',
      fx.repo,
      '-e',
      `ENVS_HOME=${fx.home}`,
      '--',
      'node',
      BIN,
      'attach',
      'feat/cmds',
    );
    const screen = await until('the env’s session on screen', async () => {
      const shown = (await tmuxTest('capture-pane', '-p', '-t', '=outer:')).stdout;
      return shown.includes('tick') ? shown : undefined;
    }).catch(async (error) => {
      throw new Error(`${error.message}; the terminal shows:\n${(await tmuxTest('capture-pane', '-p', '-t', '=outer:')).stdout}`);
    });
    expect(screen).toContain('worker says worker');
    await tmuxTest('send-keys', '-t', '=outer:', 'C-b', 'd'); // detach: envs attach returns, its pane closes
    await until('envs attach to return', async () => ((await tmuxTest('has-session', '-t', '=outer')).exitCode !== 0 ? true : undefined));

    await stopProcesses({ stateDir, graceMs: 500 });
    const stopped = await envs(fx.repo, fx.home, ['attach', 'feat/cmds', '--json']);
    expect(stopped.exitCode).toBe(1);
    expect(stopped.json.error).toMatchObject({ code: 'NO_SESSION', hint: expect.stringMatching(/envs up feat\/cmds/) });

    // Without tmux on PATH (only node and git), a clear error.
    const bin = await mkdtemp(join(tmpdir(), 'envs-it-bin-'));
    try {
      await mkdir(bin, { recursive: true });
      await symlink(process.execPath, join(bin, 'node'));
      await symlink((await execa('sh', ['-c', 'command -v git'])).stdout.trim(), join(bin, 'git'));
      const noTmux = await execa(join(bin, 'node'), [BIN, 'attach', 'feat/cmds', '--json'], {
        cwd: fx.repo,
        env: { ENVS_HOME: fx.home, PATH: bin },
        extendEnv: false,
        reject: false,
      });
      expect(JSON.parse(noTmux.stdout).error).toMatchObject({ code: 'TMUX_MISSING' });
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
