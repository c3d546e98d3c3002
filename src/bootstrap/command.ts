import { isVariableName, shellQuote } from '../core/env-format.ts';

/**
 * Commands from envs.yaml (`install`, `bootstrap:`, `processes.*.command`) are the user's own code, like the
 * scripts in package.json. This file is the ONE place where envs runs a shell, on purpose:
 *
 * - a string command is shell code written by the user in their repository, and runs as `sh -c <string>`;
 * - an array command runs as is, without a shell.
 *
 * Nothing envs derives (branch names, env names, paths, ports, secrets) is ever spliced into that code: it
 * reaches the command only as environment variables (ENVS_BRANCH, PORT, DATABASE_URL, …).
 *
 * (One more shell runs, started by tmux rather than envs: tmux's pipe-pane takes a command line, and envs hands
 * it `exec cat >> <log path>` with the path single-quoted — see tmux.ts.)
 */
export type UserCommand = string | readonly string[];

/** The program and arguments to start for a user command. */
export function userArgv(command: UserCommand): { file: string; args: string[] } {
  if (typeof command === 'string') return { file: 'sh', args: ['-c', command] };
  const [file, ...args] = command;
  if (file === undefined) throw new Error('an empty command');
  return { file, args };
}

/** How a command is shown in progress lines and errors. */
export function describeCommand(command: UserCommand): string {
  if (typeof command === 'string') return command;
  return command.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg))).join(' ');
}

/**
 * The launcher of a host process (src/bootstrap/processes.ts). It is a fixed script — no value is ever
 * spliced into it — that runs a command and writes its exit code to a status file, so `list` can tell
 * "exited 1" from "stopped" after envs itself has exited.
 *
 *   sh -c LAUNCHER envs-process "" <status file> <program> <args…>   the command in its arguments
 *   sh -c LAUNCHER envs-process <run file> <status file>              in tmux: the command in the run file
 *
 * In tmux the process inherits the tmux server's environment, not ours, so it first reads a run file envs
 * wrote (mode 0600): `export NAME='value'` lines for the env's variables and `set -- 'program' 'arg'…` for
 * the command, every value escaped by shellQuote. No secret and no user argument ever shows in a command
 * line or passes through tmux's own parsing.
 */
export const LAUNCHER = [
  'status=$2',
  'if [ -n "$1" ]; then . "$1" || exit 125; else shift 2; fi',
  '"$@"',
  'code=$?',
  'printf "%s\\n" "$code" > "$status"',
  'exit "$code"',
].join('\n');

/** Launcher arguments for a command passed directly (process groups: the environment is spawn's). */
export function launcherArgv(command: UserCommand, statusFile: string): { file: string; args: string[] } {
  const inner = userArgv(command);
  return { file: 'sh', args: ['-c', LAUNCHER, 'envs-process', '', statusFile, inner.file, ...inner.args] };
}

/** Launcher arguments that read the environment and the command from a run file (tmux). */
export function launcherFromFile(runFile: string, statusFile: string): { file: string; args: string[] } {
  return { file: 'sh', args: ['-c', LAUNCHER, 'envs-process', runFile, statusFile] };
}

/**
 * The run file's text: the variables to export, then the command as the positional parameters. With `only`,
 * `env` is the whole environment: every variable the pane inherited is unset first, except those tmux sets
 * for the pane itself (TERM, TMUX, …) and the shell's own. A tmux server keeps the environment of whoever
 * started it for every pane it ever opens, so without this an agent would get, say, the DATABASE_URL of
 * another env whose agent happened to start the server.
 */
export function runFileText(env: Record<string, string>, command: UserCommand, options: { only?: boolean } = {}): string {
  const inner = userArgv(command);
  const exports = Object.entries(env)
    .filter(([name]) => isVariableName(name))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return `${[...(options.only ? [UNSET_INHERITED] : []), ...exports, `set -- ${[inner.file, ...inner.args].map(shellQuote).join(' ')}`].join('\n')}\n`;
}

/**
 * Fixed code (no value spliced in). The names come from `env` (only lines that start like an assignment);
 * `command unset` so a variable that cannot be unset is skipped instead of ending the shell.
 */
const UNSET_INHERITED = [
  `for envs_name in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do`,
  '  case $envs_name in TERM|TERM_PROGRAM|TERM_PROGRAM_VERSION|COLORTERM|TMUX|TMUX_PANE|PWD|OLDPWD|SHLVL) ;; *) command unset "$envs_name" 2>/dev/null ;; esac',
  'done',
  'unset envs_name',
].join('\n');
