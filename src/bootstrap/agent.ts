import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shellQuote } from '../core/env-format.ts';
import { EnvsError } from '../errors.ts';
import { DEFAULT_GRACE_MS, groupMembers, isAlive, killGroup, processIdentity } from '../process/group.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { describeCommand, launcherFromFile, runFileText, type UserCommand } from './command.ts';
import { processSession } from './processes.ts';
import { readState as readStateFile, readStatus } from './state-file.ts';
import {
  hasSession,
  killSession,
  killWindow,
  openAgentWindow,
  selectWindow,
  serverFromEnv,
  sessionPanes,
  type TmuxServer,
  tmuxAvailable,
} from './tmux.ts';

/**
 * Agents launched in their env (`envs agent`): a command (Claude Code, …) in a window of the env's tmux
 * session, in the worktree, with the env's variables. Always tmux: an agent is interactive and outlives
 * the envs command that started it, so it needs a terminal someone can attach to later.
 *
 * It is started by the launcher of command.ts (the same one as host processes: the command and the
 * environment come from a 0600 run file, never from a command line), which records its exit code. The run
 * file holds the caller's environment (API keys the agent needs), so its last line removes it once read.
 *
 * State lives in `<state dir>/agent.json`; whether an agent runs is told from its recorded pid and start
 * time (/proc), without asking tmux: `list` stays one engine query plus file reads.
 */
export interface AgentState {
  /** The tmux window: `agent`, then `agent-2`, … for more with --new. */
  window: string;
  running: boolean;
  /** When it ended by itself: its exit code (null: killed by a signal). */
  exitCode?: number | null;
  /** The launcher: leader of the pane's process group and session. */
  pid: number;
  command: string;
  startedAt: string;
  session: string;
}

interface Entry {
  windowId: string;
  pid: number;
  identity: string;
  command: string;
  startedAt: string;
  status: string;
}

interface StateFile {
  version: 1;
  socketPath: string;
  session: string;
  agents: Record<string, Entry>;
}

export const AGENT_STATE_FILE = 'agent.json';

function paths(stateDir: string) {
  const run = join(stateDir, 'run', 'agents');
  return {
    state: join(stateDir, AGENT_STATE_FILE),
    run,
    runFile: (window: string) => join(run, `${window}.sh`),
    status: (window: string) => join(run, `${window}.status`),
  };
}

export interface StartAgentOptions {
  stateDir: string;
  /** The env's tmux session: its Compose project name (the host processes' session). */
  session: string;
  worktree: string;
  command: UserCommand;
  /** The whole environment the agent gets (the caller's with the env's variables over it): nothing else reaches it. */
  env: Record<string, string>;
  /** envs's own environment: tmux runs with it (ENVS_TMUX_SOCKET picks the server). */
  baseEnv: NodeJS.ProcessEnv;
}

/** Whether agents can run here at all (tmux installed). */
export async function agentsAvailable(baseEnv: NodeJS.ProcessEnv): Promise<boolean> {
  return tmuxAvailable(baseEnv);
}

/**
 * Starts an agent in a new window (`agent`, or the next free `agent-N`) of the env's session: the server the
 * host processes run on when they do, else the one ENVS_TMUX_SOCKET names (or the user's default). Windows
 * of agents that ended are closed first. Refusing a second agent is the caller's (it knows the branch).
 */
export async function startAgent(options: StartAgentOptions): Promise<AgentState> {
  const p = paths(options.stateDir);
  const previous = await readState(p.state);
  const server: TmuxServer = previous
    ? { socketPath: previous.socketPath }
    : ((await processSession(options.stateDir))?.server ?? serverFromEnv(options.baseEnv));
  const state: StateFile = previous ?? { version: 1, socketPath: '', session: options.session, agents: {} };
  for (const [window, entry] of Object.entries(state.agents)) {
    if (await entryRunning(entry)) continue;
    await killWindow(server, entry.windowId);
    delete state.agents[window];
  }
  const taken = new Set([...(await sessionPanes(server, options.session)).map((pane) => pane.windowName), ...Object.keys(state.agents)]);
  let window = 'agent';
  for (let n = 2; taken.has(window); n++) window = `agent-${n}`;

  await mkdir(p.run, { recursive: true, mode: 0o700 });
  const runFile = p.runFile(window);
  const status = p.status(window);
  await rm(status, { force: true });
  // Sourced by the launcher; its last line deletes it, so the caller's environment does not stay on disk.
  await writeFile(runFile, `${runFileText(options.env, options.command, { only: true })}rm -f -- ${shellQuote(runFile)}\n`, {
    mode: 0o600,
  });
  const launcher = launcherFromFile(runFile, status);
  const startedAt = new Date().toISOString();
  const opened = await openAgentWindow(server, {
    session: options.session,
    window,
    cwd: options.worktree,
    argv: [launcher.file, ...launcher.args],
    env: options.baseEnv,
  }).catch(async (error: Error) => {
    await rm(runFile, { force: true });
    throw new EnvsError('AGENT_FAILED', `Could not start the agent in tmux: ${error.message}`, {
      hint: '`tmux ls` shows whether the tmux server answers; ENVS_TMUX_SOCKET picks another one.',
    });
  });
  const command = describeCommand(options.command);
  state.socketPath = opened.socketPath;
  state.session = options.session;
  state.agents[window] = {
    windowId: opened.windowId,
    pid: opened.pid,
    identity: await processIdentity(opened.pid),
    command,
    startedAt,
    status,
  };
  await writeFileAtomic(p.state, `${JSON.stringify(state, null, 2)}\n`);
  return { window, running: true, pid: opened.pid, command, startedAt, session: options.session };
}

/** The env's agents (those envs started and has not stopped), each running or ended with its code. */
export async function agentStates(stateDir: string): Promise<AgentState[]> {
  const state = await readState(paths(stateDir).state);
  if (!state) return [];
  return Promise.all(
    Object.entries(state.agents).map(async ([window, entry]) => {
      const base = { window, pid: entry.pid, command: entry.command, startedAt: entry.startedAt, session: state.session };
      const code = await readStatus(entry.status);
      if (code === undefined && (await entryRunning(entry))) return { ...base, running: true };
      return { ...base, running: false, exitCode: code ?? null };
    }),
  );
}

/**
 * Selects the window of the env's first running agent, so attaching to the session shows it. Returns the
 * session to attach to, or undefined when no agent runs (or its session is gone).
 */
export async function focusAgent(stateDir: string): Promise<{ server: TmuxServer; session: string } | undefined> {
  const state = await readState(paths(stateDir).state);
  if (!state) return undefined;
  const server = { socketPath: state.socketPath };
  for (const entry of Object.values(state.agents)) {
    if (!(await entryRunning(entry)) || (await readStatus(entry.status)) !== undefined) continue;
    if (!(await hasSession(server, state.session))) return undefined;
    if (await selectWindow(server, entry.windowId)) return { server, session: state.session };
  }
  return undefined;
}

export interface StopAgentsOptions {
  stateDir: string;
  /** SIGTERM → SIGKILL delay. Default 5 s. */
  graceMs?: number;
  /** Also end the env's tmux session (destroy: nothing of the env may stay behind). */
  endSession?: boolean;
  onProgress?: (event: { step: string; message: string }) => void;
}

/** Stops the env's agents (whole process groups), closes their windows and forgets them. Idempotent. */
export async function stopAgents(options: StopAgentsOptions): Promise<void> {
  const p = paths(options.stateDir);
  const state = await readState(p.state);
  if (!state) return;
  const server = { socketPath: state.socketPath };
  await Promise.all(
    Object.entries(state.agents).map(async ([window, entry]) => {
      const how = entry.identity
        ? await killGroup(entry.pid, { graceMs: options.graceMs ?? DEFAULT_GRACE_MS, identity: entry.identity })
        : 'gone';
      if (how !== 'gone') options.onProgress?.({ step: 'agent', message: `stopped agent ${window} (${entry.command})` });
      await killWindow(server, entry.windowId);
    }),
  );
  if (options.endSession) await killSession(server, state.session);
  await rm(p.state, { force: true });
  await rm(p.run, { recursive: true, force: true });
}

/**
 * The launcher is alive and the same process (its start time matches), or it died without recording a code
 * (its tmux server was killed) while part of its tree lives on in its group or session.
 */
async function entryRunning(entry: Entry): Promise<boolean> {
  if (!entry.identity) return false; // gone before it could be identified: no proof the pid is still ours
  if (await isAlive(entry.pid, entry.identity)) return true;
  return (await groupMembers(entry.pid)).length > 0;
}

function readState(file: string): Promise<StateFile | undefined> {
  return readStateFile<StateFile>(file, 'agents', 'an agent state');
}
