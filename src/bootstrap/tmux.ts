import { shellQuote } from '../core/env-format.ts';
import { run } from '../process/run.ts';

/**
 * tmux as a subprocess (argument arrays; see processes.ts for what runs in it). Targets are always exact
 * (`=name`): tmux otherwise matches a session name by prefix, and `envs-app-feat` would find `envs-app-feat-x`.
 *
 * The server: the user's default one (so `tmux ls` shows the envs' sessions beside their own), or the one
 * ENVS_TMUX_SOCKET names (a name like tmux -L, or a path like -S). A session records the socket path its
 * server answered on, so stop and attach reach the same server whatever the environment says later.
 */
export interface TmuxServer {
  /** A socket path (tmux -S). */
  socketPath?: string;
  /** A socket name (tmux -L). */
  socketName?: string;
}

export function serverFromEnv(env: NodeJS.ProcessEnv): TmuxServer {
  const socket = env.ENVS_TMUX_SOCKET?.trim();
  if (!socket) return {};
  return socket.includes('/') ? { socketPath: socket } : { socketName: socket };
}

export function serverArgs(server: TmuxServer): string[] {
  if (server.socketPath) return ['-S', server.socketPath];
  if (server.socketName) return ['-L', server.socketName];
  return [];
}

/** The environment tmux runs with: ours, without TMUX (which would point the client at the server we run in). */
export function tmuxEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { TMUX: _tmux, TMUX_PANE: _pane, ...rest } = env;
  return rest;
}

export async function tmuxAvailable(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const result = await run('tmux', ['-V'], { env: tmuxEnv(env) });
  return result.exitCode === 0;
}

async function tmux(server: TmuxServer, args: string[], env?: NodeJS.ProcessEnv) {
  return run('tmux', [...serverArgs(server), ...args], { env: tmuxEnv(env) });
}

export async function hasSession(server: TmuxServer, session: string): Promise<boolean> {
  return (await tmux(server, ['has-session', '-t', `=${session}`])).exitCode === 0;
}

export async function killSession(server: TmuxServer, session: string): Promise<void> {
  await tmux(server, ['kill-session', '-t', `=${session}`]);
}

export interface NewWindow {
  session: string;
  /** The window's name (a process name: starts with a letter, so it never reads as an index). */
  window: string;
  cwd: string;
  /** The program and its arguments (envs's launcher: fixed words and paths, no user input). */
  argv: string[];
  /** The pane's output is appended here (tmux pipe-pane). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Opens a window running `argv` — in a new detached session when the session does not exist yet — that
 * stays after its program exits (remain-on-exit: attach shows why it ended), with its output appended to
 * `logFile`. The three commands go in one tmux invocation, so they take effect before the program can exit
 * or print. Returns the pane's pid (the launcher, leader of the pane's session and group) and the socket.
 */
export async function openWindow(server: TmuxServer, spec: NewWindow): Promise<{ pid: number; socketPath: string }> {
  const target = `=${spec.session}:=${spec.window}`;
  const { pid, socketPath } = await newWindow(server, spec, [
    ';',
    'set-option',
    '-w',
    '-t',
    target,
    'remain-on-exit',
    'on',
    ';',
    'pipe-pane',
    '-t',
    target,
    '-o',
    // tmux runs this with /bin/sh and expands #{formats} in it first: the path is quoted, its # doubled.
    formatLiteral(`exec cat >> ${shellQuote(spec.logFile)}`),
  ]);
  return { pid, socketPath };
}

/** A string tmux's format expansion gives back unchanged. */
export function formatLiteral(text: string): string {
  return text.split('#').join('##');
}

/**
 * What `envs attach` runs: switch the current client when envs runs inside tmux on the same server, else
 * attach (nested inside another server's pane if need be: TMUX is unset for it, as tmux asks).
 */
export function attachCommand(
  server: TmuxServer,
  session: string,
  env: NodeJS.ProcessEnv,
): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  const inside = env.TMUX?.split(',')[0];
  if (inside && server.socketPath && inside === server.socketPath) {
    return { file: 'tmux', args: [...serverArgs(server), 'switch-client', '-t', `=${session}`], env };
  }
  return { file: 'tmux', args: [...serverArgs(server), 'attach-session', '-t', `=${session}`], env: tmuxEnv(env) };
}

/**
 * The tmux window option that marks a window as an agent's (`envs agent`): host-process restarts and `down`
 * spare such windows, so the agent's work outlives them (agent.ts). A user option (`@…`), so tmux keeps it
 * with the window whatever the window is renamed to.
 */
export const AGENT_OPTION = '@envs-agent';

export interface PaneInfo {
  windowId: string;
  windowName: string;
  /** The window carries AGENT_OPTION. */
  agent: boolean;
  pid: number;
  dead: boolean;
}

/** Every pane of a session (all its windows) in one call; empty when the session does not exist. */
export async function sessionPanes(server: TmuxServer, session: string): Promise<PaneInfo[]> {
  const result = await tmux(server, [
    'list-panes',
    '-s',
    '-t',
    `=${session}`,
    '-F',
    // The name last: it is the one field a user may set to anything (tabs included).
    `#{window_id}\t#{${AGENT_OPTION}}\t#{pane_pid}\t#{pane_dead}\t#{window_name}`,
  ]);
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields) => fields.length >= 5 && /^@\d+$/.test(fields[0] ?? '') && /^\d+$/.test(fields[2] ?? ''))
    .map(([windowId, agent, pid, dead, ...name]) => ({
      windowId: windowId as string,
      windowName: name.join('\t'),
      agent: agent === '1',
      pid: Number(pid),
      dead: dead === '1',
    }));
}

/** Closes a window by its id (`@3`, unique on its server); gone already is fine. */
export async function killWindow(server: TmuxServer, windowId: string): Promise<void> {
  await tmux(server, ['kill-window', '-t', windowId]);
}

/** Makes a window its session's current one, so attaching shows it. */
export async function selectWindow(server: TmuxServer, windowId: string): Promise<boolean> {
  return (await tmux(server, ['select-window', '-t', windowId])).exitCode === 0;
}

/**
 * Ends what host processes left of a session: the whole session — or, while an agent's window is in it,
 * every other window, so `down` and a process restart never take the agent with them.
 */
export async function closeSessionSparingAgents(server: TmuxServer, session: string): Promise<void> {
  const panes = await sessionPanes(server, session);
  if (!panes.some((p) => p.agent)) {
    await killSession(server, session);
    return;
  }
  for (const windowId of new Set(panes.filter((p) => !p.agent).map((p) => p.windowId))) await killWindow(server, windowId);
}

/**
 * One tmux invocation: a window running `argv` (in a new detached session when the session does not exist
 * yet), then `more` commands (`;`-separated) on it, so they take effect before the program can exit or print.
 */
async function newWindow(
  server: TmuxServer,
  spec: { session: string; window: string; cwd: string; argv: string[]; env?: NodeJS.ProcessEnv },
  more: string[],
): Promise<{ pid: number; windowId: string; socketPath: string }> {
  const exists = await hasSession(server, spec.session);
  const create = exists
    ? ['new-window', '-d', '-t', `=${spec.session}:`, '-n', spec.window]
    : ['new-session', '-d', '-s', spec.session, '-n', spec.window, '-x', '200', '-y', '50'];
  const args = [...create, '-c', formatLiteral(spec.cwd), '-P', '-F', '#{pane_pid} #{window_id} #{socket_path}', '--', ...spec.argv];
  const result = await tmux(server, [...args, ...more], spec.env);
  const [pid, windowId, ...socket] = result.stdout.trim().split(' ');
  if (result.exitCode !== 0 || !pid || !/^\d+$/.test(pid) || !windowId?.startsWith('@')) {
    throw new Error(`tmux could not open window ${spec.window} in ${spec.session}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return { pid: Number(pid), windowId, socketPath: socket.join(' ') };
}

export interface AgentWindow {
  session: string;
  /** The window's name (`agent`, `agent-2`, …). */
  window: string;
  cwd: string;
  /** envs's launcher: fixed words and paths, no user input (the command is in its run file). */
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Opens an agent's window (in a new detached session when there is none yet), tagged with AGENT_OPTION in
 * the same tmux invocation. No pipe-pane: an agent is an interactive program, its screen is not a log.
 * Then `remain-on-exit failed` (tmux ≥ 3.2; older ones ignore it), so attach shows why an agent failed
 * while one that was quit on purpose closes its window.
 */
export async function openAgentWindow(
  server: TmuxServer,
  spec: AgentWindow,
): Promise<{ pid: number; windowId: string; socketPath: string }> {
  const opened = await newWindow(server, spec, [';', 'set-option', '-w', '-t', `=${spec.session}:=${spec.window}`, AGENT_OPTION, '1']);
  await tmux(server, ['set-option', '-w', '-t', opened.windowId, 'remain-on-exit', 'failed'], spec.env);
  return opened;
}
