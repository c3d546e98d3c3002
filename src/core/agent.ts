import { describeCommand, type UserCommand } from '../bootstrap/command.ts';
import { CONFIG_FILES } from '../config/files.ts';
import { EnvsError } from '../errors.ts';
import type { Progress } from './converge.ts';
import { createEnv } from './create.ts';
import type { Deps } from './deps.ts';
import { execTarget } from './exec.ts';
import { envLock } from './guards.ts';
import { infoEnv } from './list.ts';
import { checkBranchShape, namesFor, printable } from './naming.ts';
import { planCreate } from './plan.ts';
import type { EnvRecord } from './record.ts';
import { configFrom, dirReader } from './source.ts';
import { upEnv } from './updown.ts';
import { type AgentView, agentView, type EnvView } from './view.ts';

export interface AgentOptions {
  branch: string;
  /** Start point of a new branch (as `create --from`); refused for an env that exists. */
  from?: string;
  /** The program and its arguments (after `--`); default: `agent:` in envs.yaml. */
  command?: string[];
  /** Start another agent beside one that runs (window `agent-2`, …) instead of refusing. */
  another?: boolean;
  signal?: AbortSignal;
  onProgress?: Progress;
}

export interface AgentResult {
  /** The agent just started, with its tmux session. */
  agent: AgentView & { session: string };
  /** What to run to see it. */
  attach: string;
  env: EnvView;
}

/**
 * `envs agent <branch>`: the env (made as `create` makes it, or started again when stopped), then the
 * agent in a window of the env's tmux session, in the worktree, with what `envs exec` gives a command: the
 * caller's environment with the env's variables over it (no PORT of its own, like exec: the env's dev
 * servers have theirs). Every refusal (no tmux, no command, an agent already running, --from for an env
 * that exists) comes before anything is made or started.
 */
export async function startAgentIn(deps: Deps, options: AgentOptions): Promise<AgentResult> {
  const { branch } = options;
  checkBranchShape(branch);
  const shown = printable(branch);
  if (!(await deps.app.agentsAvailable(deps.env))) {
    throw new EnvsError('TMUX_MISSING', 'envs agent runs the agent in the env’s tmux session, and tmux is not installed.', {
      hint: `Install tmux (apt install tmux, brew install tmux), or run it in the foreground: \`envs create ${shown}\`, then \`envs exec ${shown} -- <cmd…>\`.`,
    });
  }
  const names = namesFor(deps.repoId, branch);
  const found = await deps.records.get(names.name);
  // A create that was interrupted or failed is resumed by create itself, as `envs create` would.
  const existing = found && found.status !== 'creating' && found.status !== 'failed' ? found : undefined;
  let command: UserCommand;
  if (existing) {
    if (options.from !== undefined) {
      throw new EnvsError('ENV_EXISTS', `${shown} already has an env; --from applies only when envs agent makes one.`, {
        hint: `Run \`envs agent ${shown}\` without --from. Nothing was changed.`,
      });
    }
    command = chooseCommand(options.command, await worktreeAgent(existing), shown);
    await refuseRunning(deps, existing, options.another);
    const live = await infoEnv(deps, `name:${existing.name}`);
    if (live.status !== 'running') {
      options.onProgress?.({ step: 'up', message: `${shown}'s env is ${live.status}: starting it (envs up)` });
      await upEnv(deps, `name:${existing.name}`, withEvents(options));
    }
  } else {
    const plan = await planCreate(deps, { branch, ...(options.from !== undefined ? { from: options.from } : {}) });
    command = chooseCommand(options.command, plan.source.config.agent, shown);
    await createEnv(deps, { branch, ...(options.from !== undefined ? { from: options.from } : {}), plan, ...withEvents(options) });
  }

  const started = await deps.locks.with(envLock(deps.repoId, names.name), { what: `envs agent ${branch}`, waitMs: 0 }, async () => {
    const record = await deps.records.get(names.name);
    if (!record)
      throw new EnvsError('ENV_NOT_FOUND', `${shown}'s env was removed meanwhile.`, { hint: `Run \`envs agent ${shown}\` again.` });
    await refuseRunning(deps, record, options.another);
    const argv = typeof command === 'string' ? ['sh', '-c', command] : [...command];
    const target = await execTarget(deps, `name:${record.name}`, record.worktree, argv);
    options.onProgress?.({ step: 'agent', message: `starting ${describeCommand(command)} in tmux session ${record.project}` });
    const agent = await deps.app.startAgent({
      stateDir: deps.records.envDir(record.name),
      session: record.project,
      worktree: target.cwd,
      command,
      env: agentEnvironment(deps.env, target.env),
      baseEnv: deps.env,
    });
    return agent;
  });
  await refuseEndedAtOnce(deps, deps.records.envDir(names.name), started.window, shown, options.signal);
  const env = await infoEnv(deps, `name:${names.name}`);
  return {
    agent: { ...agentView(started), session: started.session },
    attach: `envs attach ${shown}`,
    env,
  };
}

/**
 * What the agent's pane gets: the caller's environment (the agent's API keys, ENVS_HOME so envs inside it
 * finds this env, PATH) with the env's variables over it — as `envs exec` — minus what describes the
 * caller's terminal or shell rather than the pane (tmux sets TERM, TMUX and TMUX_PANE there itself).
 */
export function agentEnvironment(caller: NodeJS.ProcessEnv, env: Record<string, string>): Record<string, string> {
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(caller)) {
    if (value !== undefined && !TERMINAL_VARIABLES.has(name)) own[name] = value;
  }
  return { ...own, ...env };
}

const TERMINAL_VARIABLES = new Set([
  'TERM',
  'TERM_PROGRAM',
  'TERM_PROGRAM_VERSION',
  'TERM_SESSION_ID',
  'TMUX',
  'TMUX_PANE',
  'COLUMNS',
  'LINES',
  'PWD',
  'OLDPWD',
  'SHLVL',
  '_',
]);

/** The command to start: the one after `--`, else envs.yaml's `agent:`, else a refusal saying how to set one. */
export function chooseCommand(argv: readonly string[] | undefined, configured: UserCommand | undefined, shownBranch: string): UserCommand {
  if (argv && argv.length > 0) return [...argv];
  if (configured !== undefined) return configured;
  throw new EnvsError('AGENT_NOT_CONFIGURED', 'No agent command: envs.yaml has no `agent:` and none follows `--`.', {
    hint: `Set \`agent: claude\` (or your agent's command) in envs.yaml, or run \`envs agent ${shownBranch} -- <cmd…>\`. Nothing was changed.`,
  });
}

async function refuseRunning(deps: Deps, record: EnvRecord, another: boolean | undefined): Promise<void> {
  if (another) return;
  const running = (await deps.app.agents(deps.records.envDir(record.name))).filter((a) => a.running);
  const [first] = running;
  if (!first) return;
  const shown = printable(record.branch);
  throw new EnvsError(
    'AGENT_RUNNING',
    `An agent already runs in ${shown}'s env: ${first.command} (window ${first.window}, since ${first.startedAt}).`,
    {
      hint: `See it with \`envs attach ${shown}\`, or start another beside it with \`envs agent ${shown} --new\`. Nothing was changed.`,
    },
  );
}

/** How long a new agent is watched for a failure at start (command not found, a bad flag). */
export const AGENT_SETTLE_MS = 500;

/**
 * An agent that fails within its first moments (`claude` not installed: exit 127) is AGENT_FAILED with its
 * code, not "✓ runs": a script would go on as if it worked. Its window stays (remain-on-exit), so attach
 * shows what it printed. One that ends at once with 0 is not an error (its result says running: false).
 */
async function refuseEndedAtOnce(deps: Deps, stateDir: string, window: string, shown: string, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + AGENT_SETTLE_MS;
  for (;;) {
    const state = (await deps.app.agents(stateDir)).find((a) => a.window === window);
    if (!state) return; // nothing recorded to judge by
    if (!state.running) {
      if (state.exitCode === 0) return;
      const how = state.exitCode === null || state.exitCode === undefined ? 'was killed' : `exited with code ${state.exitCode}`;
      throw new EnvsError('AGENT_FAILED', `The agent ${how} as it started: ${state.command}.`, {
        hint: `${state.exitCode === 127 ? 'Is it installed, and on PATH? ' : ''}\`envs attach ${shown}\` shows what it printed. The env itself is up (\`envs info ${shown}\`).`,
        details: { window, exit_code: state.exitCode ?? null },
      });
    }
    if (performance.now() >= deadline || signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `agent:` from the worktree's own envs.yaml (what the branch says now). */
async function worktreeAgent(record: EnvRecord): Promise<UserCommand | undefined> {
  return (await configFrom(await dirReader(record.worktree)(CONFIG_FILES))).agent;
}

function withEvents(options: AgentOptions): { signal?: AbortSignal; onProgress?: Progress } {
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
}
