import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { images } from '../support/images.ts';
import { sql } from '../support/net.ts';
import { alive } from '../support/proc.ts';
import { useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/**
 * A second Docker engine owned by this test: its own socket, data root, exec root and pid file under a temp
 * directory, so killing it never touches the engine everyone else uses, and no iptables rules of its own.
 *
 * Its default bridge is an interface the test makes (and removes). Never `--bridge none`, nor
 * `--default-address-pool`: with the first dockerd deletes the host's `docker0` at start, with the second when
 * it restarts on a data root that has a bridge network (moby's removeDefaultBridgeInterface) — the main
 * engine's default bridge, gone for everyone.
 */
class Daemon {
  readonly host: string;
  readonly dir: string;
  readonly bridge = `envsrt${randomBytes(4).toString('hex')}`;
  private bridgeMade = false;
  private child: ChildProcess | undefined;
  constructor(dir: string) {
    this.dir = dir;
    this.host = `unix://${dir}/docker.sock`;
  }

  /** The bridge interface, on a /24 of 10.215.0.0/16 no route of this machine uses. */
  private async makeBridge(): Promise<void> {
    if (this.bridgeMade) return;
    const routes = (await execa('ip', ['-4', 'route'])).stdout;
    const free = [...Array(256).keys()].filter((n) => !routes.includes(`10.215.${n}.`));
    const subnet = free[Math.floor(Math.random() * free.length)];
    if (subnet === undefined) throw new Error('no free /24 in 10.215.0.0/16 for the test bridge');
    await execa('ip', ['link', 'add', 'name', this.bridge, 'type', 'bridge']);
    this.bridgeMade = true;
    await execa('ip', ['addr', 'add', `10.215.${subnet}.1/24`, 'dev', this.bridge]);
    await execa('ip', ['link', 'set', this.bridge, 'up']);
  }

  async start(): Promise<void> {
    await this.makeBridge();
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    this.child = spawn(
      'dockerd',
      [
        '--host',
        this.host,
        '--data-root',
        join(this.dir, 'data'),
        '--exec-root',
        join(this.dir, 'exec'),
        '--pidfile',
        join(this.dir, 'docker.pid'),
        '--bridge',
        this.bridge,
        '--iptables=false',
        '--ip6tables=false',
      ],
      { stdio: ['ignore', log, log], detached: true },
    );
    this.child.unref();
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      if (this.child.exitCode !== null) throw new Error(`dockerd exited ${this.child.exitCode}: ${await this.log()}`);
      const ping = await execa('docker', ['-H', this.host, 'version', '--format', '{{.Server.Version}}'], { reject: false });
      if (ping.exitCode === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`dockerd did not answer within 60 s: ${await this.log()}`);
  }

  /**
   * The engine dies as in a crash: dockerd, its containerd, and the containers (their init processes, so
   * their whole PID namespaces) and shims — SIGKILL, no clean shutdown for anything.
   */
  async crash(): Promise<void> {
    const socket = join(this.dir, 'exec', 'containerd', 'containerd.sock');
    const procs = await processes();
    const dockerd = this.child?.pid;
    const containerd = procs.filter((p) => p.cmd.includes(join(this.dir, 'exec', 'containerd', 'containerd.toml')));
    const shims = procs.filter((p) => p.cmd.includes('containerd-shim') && p.cmd.includes(socket));
    const inits = procs.filter((p) => shims.some((s) => s.pid === p.ppid));
    for (const pid of [dockerd, ...containerd.map((p) => p.pid), ...inits.map((p) => p.pid), ...shims.map((p) => p.pid)]) {
      if (pid) kill(pid, 'SIGKILL');
    }
    await waitGone([dockerd, ...containerd.map((p) => p.pid), ...inits.map((p) => p.pid)].filter((p): p is number => !!p));
  }

  /** Stops it for good, whatever state it is in, and removes its directory (its mounts first). */
  async remove(): Promise<void> {
    const pid = this.child?.pid;
    if (pid && alive(pid)) {
      kill(pid, 'SIGTERM');
      await waitGone([pid], 20_000);
    }
    await this.crash(); // what is left of it, if anything
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target === this.dir || target.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const target of mounts) await execa('umount', ['-l', target], { reject: false });
    await rm(this.dir, { recursive: true, force: true });
    if (this.bridgeMade) await execa('ip', ['link', 'del', this.bridge], { reject: false });
  }

  log(): Promise<string> {
    return readFile(join(this.dir, 'dockerd.log'), 'utf8')
      .then((text) => text.split('\n').slice(-15).join('\n'))
      .catch(() => '');
  }
}

async function processes(): Promise<{ pid: number; ppid: number; cmd: string }[]> {
  const found: { pid: number; ppid: number; cmd: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      found.push({ pid: Number(entry), ppid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function waitGone(pids: number[], ms = 10_000): Promise<void> {
  const started = Date.now();
  while (pids.some(alive) && Date.now() - started < ms) await new Promise((r) => setTimeout(r, 100));
}

/** Whether this machine can run a second dockerd: root, and the binary present. */
async function canRunDaemon(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to run a second dockerd';
  const which = await execa('sh', ['-c', 'command -v dockerd'], { reject: false });
  if (which.exitCode !== 0) return 'dockerd is not installed';
  return undefined;
}

describe('an engine that is killed and restarted', () => {
  const fx = useRepo({ 'README.md': 'no compose file: the embedded Postgres\n' }, 'restart');
  let daemon: Daemon | undefined;
  let skipped: string | undefined;
  /** The main engine's default bridge as it was before this test's engine started: it must stay. */
  let bridgeBefore: string | undefined;
  const hostBridge = async () => (await execa('ip', ['-br', 'link', 'show', 'docker0'], { reject: false })).stdout.split(/\s+/)[0];
  const env = () => ({ DOCKER_HOST: daemon?.host ?? '' });

  beforeAll(async () => {
    skipped = await canRunDaemon();
    if (skipped) return;
    bridgeBefore = await hostBridge();
    daemon = new Daemon(await realpath(await mkdtemp(join(tmpdir(), 'envs-dockerd-'))));
    try {
      await daemon.start();
    } catch (error) {
      skipped = `a second dockerd does not start here: ${(error as Error).message}`;
      return;
    }
    // No registry here: the images the env runs come from the main engine.
    await execa('sh', ['-c', 'docker save "$1" | docker -H "$2" load -q', 'sh', images.postgres, daemon.host]);
  }, 180_000);

  afterAll(async () => {
    if (daemon && !skipped) {
      // Whatever the test left on its engine goes with the engine's directory.
      await envs(fx.repo, fx.home, ['destroy', 'feat/data', '--force'], env()).catch(() => undefined);
    }
    await daemon?.remove();
  }, 120_000);

  it('envs up restores the env with its data; while the engine is down every command answers within 2 s and changes nothing', async (ctx) => {
    if (skipped) ctx.skip(skipped);
    const created = (await envsOk(fx.repo, fx.home, ['create', 'feat/data', '--json'], env())).json;
    const url = (await envsOk(fx.repo, fx.home, ['info', 'feat/data', '--json', '--show-secrets'], env())).json.env.DATABASE_URL;
    await sql(url, "create table notes (body text); insert into notes values ('before the crash')");
    const resources = async () =>
      (await execa('docker', ['-H', daemon?.host ?? '', 'volume', 'ls', '-q', '--filter', `label=${fx.label}`])).stdout;
    const volumes = await resources();

    await daemon?.crash();

    // Down: the mutating commands refuse (one line, exit 1), list and info answer from the records.
    const before = await snapshot(fx, [created.worktree]);
    const timings: Record<string, number> = {};
    for (const args of [
      ['up', 'feat/data'],
      ['down', 'feat/data'],
      ['destroy', 'feat/data', '--force'],
      ['create', 'feat/other'],
      ['plan', 'feat/other'],
    ]) {
      const started = Date.now();
      const human = await envs(fx.repo, fx.home, args, env());
      timings[args[0] as string] = Date.now() - started;
      expect(human.exitCode, `${args.join(' ')}: ${human.stderr}`).toBe(1);
      expect(human.stderr).toMatch(
        new RegExp(`^error: The Docker engine at unix://${daemon?.dir}/docker\\.sock does not answer \\([^\\n]*\\)\\.\\nhint: `),
      );
      expect(human.stderr.split('\n').filter((l) => l.startsWith('error: '))).toHaveLength(1);
      const json = await envs(fx.repo, fx.home, [...args, '--json'], env());
      expect(json.json.error.code, args.join(' ')).toBe('DOCKER_UNAVAILABLE');
    }
    for (const args of [['list'], ['info', 'feat/data']]) {
      const started = Date.now();
      const result = await envsOk(fx.repo, fx.home, [...args, '--json'], env());
      timings[args[0] as string] = Date.now() - started;
      const shown = Array.isArray(result.json) ? result.json[0] : result.json;
      expect(shown).toMatchObject({ branch: 'feat/data', status: 'unknown', problems: [expect.stringMatching(/did not answer/)] });
    }
    console.log(`engine down, ms per command: ${JSON.stringify(timings)}`);
    for (const [command, ms] of Object.entries(timings)) expect(ms, `${command} took ${ms} ms`).toBeLessThan(2000);
    expect(await snapshot(fx, [created.worktree])).toEqual(before);

    const restarting = Date.now();
    await daemon?.start();
    console.log(`engine restarted in ${Date.now() - restarting} ms`);
    // The restarted engine found its containers dead: the env is not running until `envs up`.
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/data', '--json'], env())).json.status).not.toBe('running');
    const upStarted = Date.now();
    const up = (await envsOk(fx.repo, fx.home, ['up', 'feat/data', '--json'], env())).json;
    console.log(`envs up after the restart: ${Date.now() - upStarted} ms`);
    expect(up.status).toBe('running');
    expect(up.ports).toEqual(created.ports);
    expect(await sql(url, 'select body from notes')).toEqual([{ body: 'before the crash' }]);
    expect(await resources()).toBe(volumes);

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/data'], env());
    const left = await execa('docker', ['-H', daemon?.host ?? '', 'ps', '-aq', '--filter', `label=${fx.label}`]);
    expect(left.stdout).toBe('');
    expect(await hostBridge()).toBe(bridgeBefore);
  }, 300_000);
});
