import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseProcessPorts, type ProcessSpec, processStates, startProcesses, stopProcesses } from '../../src/bootstrap/processes.ts';
import { LoopbackProbe } from '../../src/ports/probe.ts';
import { PortRegistry } from '../../src/ports/registry.ts';
import { isAlive } from '../../src/process/group.ts';
import { canBind } from '../support/net.ts';

/**
 * A dev server that reports what it was started with, and leaves behind a grandchild that ignores SIGHUP and
 * SIGTERM (as `nodemon`-like wrappers and careless scripts do): stopping must not let it survive.
 */
const SERVER = `
const http = require('node:http');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const keeper = spawn('sh', ['-c', 'trap "" HUP TERM; while :; do sleep 1; done'], { stdio: 'ignore' });
fs.writeFileSync(process.env.PID_FILE, String(keeper.pid));
http.createServer((req, res) => res.end(JSON.stringify({
  port: process.env.PORT, db: process.env.DATABASE_URL, extra: process.env.EXTRA, name: process.env.ENVS_PROCESS, cwd: process.cwd(),
}))).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`;

let root = '';
let worktree = '';
let stateDir = '';
/** A tmux server of this test's own (a socket path), never the user's. */
const socket = join(tmpdir(), `envs-it-tmux-${process.pid}.sock`);
const owner = { project: 'envs-proc-test', repo: 'proc', env: 'proc' };
const range = { from: 31000, to: 31999 };

async function get(port: number): Promise<Record<string, string>> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as Record<string, string>;
}

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'envs-it-proc-')));
  worktree = join(root, 'worktree');
  await mkdir(join(worktree, 'apps', 'web'), { recursive: true });
  await writeFile(join(worktree, 'apps', 'web', 'server.js'), SERVER);
});

afterAll(async () => {
  await execa('tmux', ['-S', socket, 'kill-server'], { reject: false });
  await rm(socket, { force: true });
  await rm(root, { recursive: true, force: true });
});

describe.each(['tmux', 'group'] as const)('host processes (%s)', (mode) => {
  const baseEnv = { ...process.env, ENVS_TMUX_SOCKET: socket };
  let registry: PortRegistry;
  const specs = (): ProcessSpec[] => [
    {
      name: 'web',
      command: 'exec node server.js',
      port: 3000,
      cwd: 'apps/web',
      env: { EXTRA: "it's $extra", PID_FILE: join(stateDir, 'keeper.pid') },
    },
    { name: 'oneshot', command: ['sh', '-c', 'echo done; exit 3'] },
  ];

  beforeAll(async () => {
    stateDir = join(root, `state-${mode}`);
    registry = new PortRegistry(join(root, `ports-${mode}.json`), join(root, `ports-${mode}.lock`), new LoopbackProbe());
  });
  afterAll(async () => {
    await stopProcesses({ stateDir, graceMs: 500 });
  });

  const lease = () => leaseProcessPorts({ ports: registry, owner, processes: specs(), range, stateDir });
  const start = (ports: Record<string, number>) =>
    startProcesses({
      stateDir,
      session: `envs-it-session-${mode}`,
      worktree,
      processes: specs(),
      ports,
      env: { DATABASE_URL: 'postgres://app:s3cret@127.0.0.1:21437/app', ENVS_BRANCH: 'feat/$(id)' },
      baseEnv,
      mode,
      readyTimeoutMs: 20_000,
    });

  it('start each process with PORT = its leased port and the env’s variables, answering there', async () => {
    const ports = await lease();
    expect(ports.web).toBeGreaterThanOrEqual(31000);
    expect(ports.oneshot).toBeUndefined();
    let stray = 0;
    if (mode === 'tmux') {
      // A session of the env's name that envs has no record of (a lost state file): replaced, its process stopped.
      const made = await execa('tmux', [
        '-S',
        socket,
        'new-session',
        '-d',
        '-s',
        `envs-it-session-${mode}`,
        '-n',
        'web',
        '-P',
        '-F',
        '#{pane_pid}',
        'sleep 600',
      ]);
      stray = Number(made.stdout);
    }
    const states = await start(ports);
    if (stray) expect(await isAlive(stray)).toBe(false);
    const web = states.find((s) => s.name === 'web');
    expect(web).toMatchObject({ state: 'running', port: ports.web, mode });
    expect(await get(ports.web as number)).toEqual({
      port: String(ports.web),
      db: 'postgres://app:s3cret@127.0.0.1:21437/app',
      extra: "it's $extra",
      name: 'web',
      cwd: join(worktree, 'apps', 'web'),
    });
    // A process that ended by itself shows its exit code; its log holds its output.
    await expect
      .poll(async () => (await processStates(stateDir)).find((s) => s.name === 'oneshot'))
      .toMatchObject({ state: 'exited', exitCode: 3 });
    expect(await readFile(join(stateDir, 'logs', 'oneshot.log'), 'utf8')).toContain('done');
    expect(await readFile(join(stateDir, 'logs', 'web.log'), 'utf8')).toContain(`listening on ${ports.web}`);
    for (const file of ['processes.json', 'logs/web.log']) expect((await stat(join(stateDir, file))).mode & 0o777).toBe(0o600);

    if (mode === 'tmux') {
      const windows = await execa('tmux', ['-S', socket, 'list-windows', '-t', `=envs-it-session-${mode}`, '-F', '#{window_name}']);
      expect(windows.stdout.split('\n')).toEqual(['web', 'oneshot']);
      // No secret in any command line tmux shows or starts.
      const commands = await execa('tmux', [
        '-S',
        socket,
        'list-panes',
        '-s',
        '-t',
        `=envs-it-session-${mode}`,
        '-F',
        '#{pane_start_command}',
      ]);
      expect(commands.stdout).not.toContain('s3cret');
    }
  });

  it('stop leaves nothing alive, not even a grandchild that ignores SIGHUP and SIGTERM; start again keeps the port', async () => {
    const before = await processStates(stateDir);
    const web = before.find((s) => s.name === 'web');
    const keeper = Number(await readFile(join(stateDir, 'keeper.pid'), 'utf8'));
    expect(await isAlive(keeper)).toBe(true);

    await stopProcesses({ stateDir, graceMs: 1_000 });
    expect(await isAlive(keeper)).toBe(false);
    expect(await isAlive(web?.pid as number)).toBe(false);
    expect(await canBind(web?.port as number)).toBe(true);
    const after = await processStates(stateDir);
    expect(after.find((s) => s.name === 'web')).toMatchObject({ state: 'stopped' });
    expect(after.find((s) => s.name === 'oneshot')).toMatchObject({ state: 'exited', exitCode: 3 });
    if (mode === 'tmux') {
      const has = await execa('tmux', ['-S', socket, 'has-session', '-t', `=envs-it-session-${mode}`], { reject: false });
      expect(has.exitCode).not.toBe(0);
    }

    const ports = await lease();
    expect(ports.web).toBe(web?.port);
    await start(ports);
    expect((await get(ports.web as number)).port).toBe(String(web?.port));
  });

  it('a process that exits before answering fails the start with the tail of its output', async () => {
    const failing = startProcesses({
      stateDir,
      session: `envs-it-session-${mode}`,
      worktree,
      processes: [{ name: 'broken', command: 'echo "Error: Cannot find module next"; exit 1', port: 3000 }],
      ports: { broken: 31999 },
      env: {},
      baseEnv,
      mode,
      graceMs: 500,
      readyTimeoutMs: 10_000,
    });
    await expect(failing).rejects.toThrow(
      /Process broken .* exited with code 1 before answering on port 31999:\n[\s\S]*Cannot find module next/,
    );
    // Starting again stopped the previous processes first: nothing of theirs is left.
    const keeper = Number(await readFile(join(stateDir, 'keeper.pid'), 'utf8'));
    expect(await isAlive(keeper)).toBe(false);
  });
});
