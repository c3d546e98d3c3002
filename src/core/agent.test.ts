import { realpath } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentState, StartAgentOptions } from '../bootstrap/agent.ts';
import type { ComposeModel } from '../compose/model.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { agentEnvironment, chooseCommand, startAgentIn } from './agent.ts';
import { createEnv } from './create.ts';

const model: ComposeModel = {
  name: 'x',
  services: {
    db: {
      image: 'postgres:17-alpine',
      environment: { POSTGRES_PASSWORD: 'pw' },
      ports: [{ target: 5432, published: '5432', protocol: 'tcp' }],
    },
  },
};

let fakes: Fakes;
let started: StartAgentOptions[];
let running: AgentState[];
beforeEach(async () => {
  fakes = await makeFakes(model);
  started = [];
  running = [];
  fakes.deps.env = { ANTHROPIC_API_KEY: 'sk-test', DATABASE_URL: 'postgres://main-checkout/db', TERM: 'xterm-kitty', TMUX: '/tmp/t,1,0' };
  fakes.deps.app.startAgent = async (options) => {
    started.push(options);
    fakes.calls.push('agent start');
    return { window: 'agent', running: true, pid: 4242, command: 'x', startedAt: '2026-11-21T00:00:00Z', session: options.session };
  };
  fakes.deps.app.agents = async () => running;
});
afterEach(async () => {
  await fakes.cleanup();
});

describe('envs agent', () => {
  it('makes the env, then starts the agent in its session and worktree with the caller’s environment under the env’s', async () => {
    const result = await startAgentIn(fakes.deps, { branch: 'feat/x', command: ['claude', '--resume'] });
    expect(fakes.calls.indexOf('agent start')).toBeGreaterThan(fakes.calls.lastIndexOf('compose up'));
    const [options] = started;
    expect(options?.command).toEqual(['claude', '--resume']);
    expect(options?.session).toBe(result.env.project);
    expect(options?.worktree).toBe(await realpath(result.env.worktree));
    expect(options?.env.ANTHROPIC_API_KEY).toBe('sk-test');
    expect(options?.env.DATABASE_URL).toMatch(/^postgres:\/\/postgres:pw@127\.0\.0\.1:\d+\/postgres$/);
    expect(options?.env).not.toHaveProperty('TERM');
    expect(options?.env).not.toHaveProperty('TMUX');
    expect(result.attach).toBe('envs attach feat/x');
    expect(result.agent).toMatchObject({ window: 'agent', running: true, session: result.env.project });
  });

  it('refuses before making anything when tmux is missing or no command is set', async () => {
    fakes.deps.app.agentsAvailable = async () => false;
    await expect(startAgentIn(fakes.deps, { branch: 'feat/x', command: ['claude'] })).rejects.toMatchObject({ code: 'TMUX_MISSING' });
    fakes.deps.app.agentsAvailable = async () => true;
    await expect(startAgentIn(fakes.deps, { branch: 'feat/x' })).rejects.toMatchObject({ code: 'AGENT_NOT_CONFIGURED' });
    expect(fakes.calls).toEqual([]);
    expect((await fakes.deps.records.scan()).records).toEqual([]);
  });

  it('refuses a second agent (unless another is asked for) and --from on an env that exists, before starting anything', async () => {
    await createEnv(fakes.deps, { branch: 'feat/x' });
    fakes.calls.length = 0;
    running = [{ window: 'agent', running: true, pid: 1, command: 'claude', startedAt: 'then', session: 's' }];
    await expect(startAgentIn(fakes.deps, { branch: 'feat/x', command: ['claude'] })).rejects.toMatchObject({
      code: 'AGENT_RUNNING',
      hint: expect.stringContaining('envs attach feat/x'),
    });
    await expect(startAgentIn(fakes.deps, { branch: 'feat/x', from: 'main', command: ['claude'] })).rejects.toMatchObject({
      code: 'ENV_EXISTS',
    });
    expect(fakes.calls).toEqual([]);
    await startAgentIn(fakes.deps, { branch: 'feat/x', command: ['claude'], another: true });
    expect(fakes.calls).toContain('agent start');
  });
});

describe('the agent’s command and environment', () => {
  it('takes the command after --, else envs.yaml’s agent:, else refuses saying how to set one', () => {
    expect(chooseCommand(['aider', '--yes'], 'claude', 'feat/x')).toEqual(['aider', '--yes']);
    expect(chooseCommand(undefined, 'claude --continue', 'feat/x')).toBe('claude --continue');
    expect(chooseCommand([], ['claude'], 'feat/x')).toEqual(['claude']);
    expect(() => chooseCommand(undefined, undefined, 'feat/x')).toThrow(/no `agent:`/);
  });

  it('keeps the caller’s variables under the env’s, dropping what describes the caller’s terminal', () => {
    const env = agentEnvironment(
      { PATH: '/bin', HOME: '/home/u', PORT: '3000', TERM: 'xterm', TMUX_PANE: '%1', PWD: '/elsewhere', SHLVL: '2', UNSET: undefined },
      { DATABASE_URL: 'postgres://env', HOME: '/home/u' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/home/u', PORT: '3000', DATABASE_URL: 'postgres://env' });
  });
});

describe('an agent that fails as it starts', () => {
  it('is AGENT_FAILED with its exit code, not "runs"; the env stays up', async () => {
    fakes.deps.app.agents = async () =>
      started.length === 0
        ? []
        : [{ window: 'agent', running: false, exitCode: 127, pid: 4242, command: 'claude', startedAt: '', session: 's' }];
    await expect(startAgentIn(fakes.deps, { branch: 'feat/x', command: ['claude'] })).rejects.toMatchObject({
      code: 'AGENT_FAILED',
      message: 'The agent exited with code 127 as it started: claude.',
      hint: expect.stringMatching(/^Is it installed, and on PATH\? `envs attach feat\/x` shows what it printed/),
    });
    expect(fakes.calls).toContain('agent start');
  });

  it('ending at once with 0 is not a failure', async () => {
    fakes.deps.app.agents = async () =>
      started.length === 0
        ? []
        : [{ window: 'agent', running: false, exitCode: 0, pid: 4242, command: 'true', startedAt: '', session: 's' }];
    await expect(startAgentIn(fakes.deps, { branch: 'feat/x', command: ['true'] })).resolves.toMatchObject({
      attach: 'envs attach feat/x',
    });
  });
});
