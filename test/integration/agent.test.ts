import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { alive } from '../support/proc.ts';
import { useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';
import { until } from '../support/until.ts';

/**
 * The stand-in agent: writes what it was started with to $AGENT_OUT (a variable of the caller's environment,
 * as an agent's API key would be), then waits like an agent waiting for its user.
 */
const AGENT = `{
  printf 'DATABASE_URL=%s\\n' "$DATABASE_URL"
  printf 'PORT=%s\\n' "\${PORT-<unset>}"
  printf 'FIRST_CALLER=%s\\n' "\${FIRST_CALLER-<unset>}"
  printf 'PWD=%s\\n' "$(pwd -P)"
  for arg in "$@"; do printf 'ARG=%s\\n' "$arg"; done
} > "$AGENT_OUT.tmp" && mv "$AGENT_OUT.tmp" "$AGENT_OUT"
exec sleep 300
`;

const files = {
  'compose.yaml': `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: agent-secret
      POSTGRES_DB: app
    ports:
      - "5432:5432"
`,
  // A host process, so the session exists before the agent and has a window of its own to be spared or not.
  'envs.yaml': 'processes:\n  web:\n    command: [sh, -c, "exec sleep 300"]\n',
  'agent.sh': AGENT,
};

/** The test's own tmux server (a socket path, as tmux -S, removed after): never the user's. */
const socket = join(tmpdir(), `envs-it-agent-${process.pid}.sock`);
const tmux = (...args: string[]) => execa('tmux', ['-S', socket, ...args], { reject: false });

/** What the stand-in agent wrote, once it has. */
async function report(file: string): Promise<{ vars: Record<string, string>; args: string[] }> {
  const text = await until('the agent to write its report', async () => (existsSync(file) ? readFile(file, 'utf8') : undefined));
  const lines = text.trimEnd().split('\n');
  const vars = Object.fromEntries(
    lines.filter((l) => !l.startsWith('ARG=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { vars, args: lines.filter((l) => l.startsWith('ARG=')).map((l) => l.slice(4)) };
}

describe('envs agent', () => {
  const fx = useRepo(files, 'agentapp', async (fx) => {
    // A branch whose envs.yaml names its agent: `envs agent` without `--` starts that.
    await fx.git('switch', '-q', '-c', 'configured');
    await fx.write({ 'envs.yaml': 'agent: [sh, agent.sh, from-envs-yaml]\n' });
    await fx.commit('an agent');
    await fx.git('switch', '-q', 'main');
  });
  let out = '';
  const env = () => ({ ENVS_TMUX_SOCKET: socket, AGENT_OUT: out });
  // Shell metacharacters in the branch: it reaches tmux, file names and the agent only as data.
  const branch = "agent/$(touch${IFS}pwned);`touch${IFS}pwned2`'q";
  beforeAll(() => {
    out = join(fx.root, 'agent-report'); // in the fixture's directory: removed with it
  });
  afterAll(async () => {
    await tmux('kill-server');
    await rm(socket, { force: true });
  });

  it('refuses without tmux, and without a command, in one line each, changing nothing', async () => {
    const before = await snapshot(fx);
    // A PATH with git and node but no tmux.
    const bin = await mkdtemp(join(tmpdir(), 'envs-it-notmux-'));
    try {
      for (const tool of ['git', 'node', 'docker']) {
        const { stdout } = await execa('sh', ['-c', 'command -v "$1"', 'sh', tool]);
        await symlink(stdout.trim(), join(bin, tool));
      }
      const noTmux = await envs(fx.repo, fx.home, ['agent', 'feat/none', '--', 'sh', 'agent.sh'], { ...env(), PATH: bin });
      expect(noTmux.exitCode).toBe(1);
      expect(noTmux.stderr).toMatch(/^error: envs agent runs the agent in the env’s tmux session, and tmux is not installed\.\n/);
      expect(noTmux.stderr).toMatch(/envs exec feat\/none -- /);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
    const none = await envs(fx.repo, fx.home, ['agent', 'feat/none', '--json'], env());
    expect(none.exitCode).toBe(1);
    expect(none.json.error.code).toBe('AGENT_NOT_CONFIGURED');
    expect(none.json.error.message).toBe('No agent command: envs.yaml has no `agent:` and none follows `--`.');
    expect(none.json.error.hint).toMatch(/agent: claude/);
    expect(await snapshot(fx)).toEqual(before);
  });

  it("makes the env and runs the agent in its tmux session, in the worktree, with the env's values and the arguments verbatim", async () => {
    const args = ['two words', '$(touch pwned3)', '`touch pwned4`', `it's "quoted"; echo x`, '*', '${HOME}'];
    // This command starts the tmux server (for the env's host process): the server keeps its environment.
    const result = await envsOk(fx.repo, fx.home, ['agent', branch, '--json', '--', 'sh', 'agent.sh', ...args], {
      ...env(),
      FIRST_CALLER: 'its own value',
    });
    const { agent, env: view, attach } = result.json;
    expect(view.branch).toBe(branch);
    expect(view.status).toBe('running');
    expect(agent).toMatchObject({ window: 'agent', running: true, session: view.project });
    expect(attach).toBe(`envs attach ${branch}`);

    const seen = await report(out);
    expect(seen.args).toEqual(args);
    expect(seen.vars.FIRST_CALLER).toBe('its own value'); // the caller's environment, as `envs exec` gives it
    expect(seen.vars.PWD).toBe(await realpath(view.worktree));
    const vars = (await envsOk(fx.repo, fx.home, ['env', branch, '--json'], env())).json;
    expect(seen.vars.DATABASE_URL).toBe(vars.DATABASE_URL);
    expect(new URL(vars.DATABASE_URL).port).toBe(String(view.ports.find((p: { service: string }) => p.service === 'db').published));
    // PORT as `envs exec` gives it (the env has none of its own outside its host processes).
    const exec = await envsOk(fx.repo, fx.home, ['exec', branch, '--', 'sh', '-c', 'printf %s "${PORT-<unset>}"'], env());
    expect(seen.vars.PORT).toBe(exec.stdout);
    // Nothing was run by a shell along the way: no file made by the branch name or the arguments.
    for (const dir of [fx.repo, view.worktree, fx.root, fx.home]) {
      for (const name of ['pwned', 'pwned2', 'pwned3', 'pwned4']) expect(existsSync(join(dir, name))).toBe(false);
    }

    // tmux itself: the agent's window, tagged, beside the host process's, running the launcher envs recorded.
    const windows = await tmux(
      'list-windows',
      '-t',
      `=${view.project}`,
      '-F',
      '#{window_name} #{@envs-agent} #{pane_pid} #{window_active}',
    );
    expect(windows.stdout.split('\n').sort()).toEqual([`agent 1 ${agent.pid} 0`, expect.stringMatching(/^web {2}\d+ 1$/)]);

    const list = (await envsOk(fx.repo, fx.home, ['list', '--json'], env())).json;
    const listed = list.find((v: { branch: string }) => v.branch === branch);
    expect(listed.agents).toEqual([
      { window: 'agent', running: true, command: agent.command, started_at: agent.started_at, pid: agent.pid },
    ]);
    expect(listed.agents[0].command).toContain("'two words'");
    // The FLAGS column (the branch and paths hold "agent" too, never between blanks).
    expect((await envsOk(fx.repo, fx.home, ['list'], env())).stdout).toMatch(/\sagent\s/);
    // The file that carried the caller's environment into the pane removed itself once read.
    const kept = await readdir(fx.home, { recursive: true, withFileTypes: true });
    for (const entry of kept.filter((e) => e.isFile())) {
      expect(await readFile(join(entry.parentPath, entry.name), 'utf8').catch(() => '')).not.toContain('export AGENT_OUT=');
    }
  });

  it('refuses a second agent (pointing at attach), starts one beside it with --new', async () => {
    const before = await snapshot(fx);
    const again = await envs(fx.repo, fx.home, ['agent', branch, '--json', '--', 'sh', 'agent.sh'], env());
    expect(again.exitCode).toBe(1);
    expect(again.json.error.code).toBe('AGENT_RUNNING');
    expect(again.json.error.hint).toContain(`envs attach ${branch}`);
    expect(await snapshot(fx)).toEqual(before);

    const second = (
      await envsOk(fx.repo, fx.home, ['agent', branch, '--new', '--json', '--', 'sleep', '300'], { ...env(), AGENT_OUT: `${out}-2` })
    ).json;
    expect(second.agent.window).toBe('agent-2');
    expect(second.env.agents.map((a: { window: string; running: boolean }) => [a.window, a.running])).toEqual([
      ['agent', true],
      ['agent-2', true],
    ]);
  });

  it('attach lands on the agent’s window', async () => {
    const project = (await envsOk(fx.repo, fx.home, ['info', branch, '--json'], env())).json.project;
    // No terminal here, so tmux itself refuses to attach; the window it would show is chosen before that.
    const active = async () =>
      (await tmux('list-windows', '-t', `=${project}`, '-F', '#{window_active} #{window_name}')).stdout
        .split('\n')
        .find((line) => line.startsWith('1 '));
    expect(await active()).toBe('1 web');
    const attach = await envs(fx.repo, fx.home, ['attach', branch], env());
    expect(attach.stderr).toMatch(/not a terminal/);
    expect(await active()).toBe('1 agent');
  });

  it('down stops the host processes but not the agent (and says so); up starts them beside it', async () => {
    const before = (await envsOk(fx.repo, fx.home, ['info', branch, '--json'], env())).json;
    const agentPid = before.agents[0].pid;
    const webPid = before.processes[0].pid;
    const down = await envsOk(fx.repo, fx.home, ['down', branch], env());
    expect(down.stderr).toContain(`agent agent (sh agent.sh`);
    expect(down.stderr).toContain(`keeps running in tmux ${before.project}`);
    expect(alive(webPid)).toBe(false);
    expect(alive(agentPid)).toBe(true);
    const windows = await tmux('list-windows', '-t', `=${before.project}`, '-F', '#{window_name}');
    expect(windows.stdout.split('\n').sort()).toEqual(['agent', 'agent-2']);

    const up = (await envsOk(fx.repo, fx.home, ['up', branch, '--json'], env())).json;
    expect(up.status).toBe('running');
    expect(alive(agentPid)).toBe(true);
    const after = (await envsOk(fx.repo, fx.home, ['info', branch, '--json'], env())).json;
    expect(after.processes[0]).toMatchObject({ name: 'web', state: 'running' });
    expect(after.agents.map((a: { pid: number; running: boolean }) => [a.pid, a.running])).toContainEqual([agentPid, true]);
  });

  it('without `--` runs the `agent:` of the branch’s envs.yaml', async () => {
    const result = (await envsOk(fx.repo, fx.home, ['agent', 'configured', '--json'], { ...env(), AGENT_OUT: `${out}-configured` })).json;
    expect(result.agent.command).toBe('sh agent.sh from-envs-yaml');
    const seen = await report(`${out}-configured`);
    expect(seen.args).toEqual(['from-envs-yaml']);
    // Not what the tmux server inherited from the command that started it (another env's caller).
    expect(seen.vars.FIRST_CALLER).toBe('<unset>');
    expect(seen.vars.PWD).toBe(await realpath(result.env.worktree));
  });

  it('an agent that cannot start is AGENT_FAILED with its exit code, not "runs"', async () => {
    const failed = await envs(fx.repo, fx.home, ['agent', 'configured', '--new', '--json', '--', 'envs-no-such-agent'], env());
    expect(failed.exitCode).toBe(1);
    expect(failed.json.error).toMatchObject({ code: 'AGENT_FAILED', details: { exit_code: 127 } });
    expect(failed.json.error.hint).toContain('envs attach configured');
    expect((await envsOk(fx.repo, fx.home, ['info', 'configured', '--json'], env())).json.status).toBe('running');
  });

  it('destroy stops the agents and leaves no tmux window or session behind', async () => {
    for (const b of [branch, 'configured']) {
      const view = (await envsOk(fx.repo, fx.home, ['info', b, '--json'], env())).json;
      await envsOk(fx.repo, fx.home, ['destroy', b], env());
      for (const agent of view.agents) expect(alive(agent.pid)).toBe(false);
      expect((await tmux('has-session', '-t', `=${view.project}`)).exitCode).not.toBe(0);
    }
    const sessions = await tmux('list-sessions', '-F', '#{session_name}');
    expect(sessions.stdout).toBe('');
    await expectNothingLeft(fx.label);
  });
});
