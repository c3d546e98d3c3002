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

/** The pids of a session's panes (their launchers), for stopping a session envs has no record of. */
export async function panePids(server: TmuxServer, session: string): Promise<number[]> {
  const result = await tmux(server, ['list-panes', '-s', '-t', `=${session}`, '-F', '#{pane_pid}']);
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
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
  const exists = await hasSession(server, spec.session);
  const create = exists
    ? ['new-window', '-d', '-t', `=${spec.session}:`, '-n', spec.window]
    : ['new-session', '-d', '-s', spec.session, '-n', spec.window, '-x', '200', '-y', '50'];
  const result = await tmux(
    server,
    [
      ...create,
      '-c',
      formatLiteral(spec.cwd),
      '-P',
      '-F',
      '#{pane_pid} #{socket_path}',
      '--',
      ...spec.argv,
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
    ],
    spec.env,
  );
  const [pid, ...socket] = result.stdout.trim().split(' ');
  if (result.exitCode !== 0 || !pid || !/^\d+$/.test(pid)) {
    throw new Error(`tmux could not open window ${spec.window} in ${spec.session}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return { pid: Number(pid), socketPath: socket.join(' ') };
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
