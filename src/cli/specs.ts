import { type Command, Option as CommanderOption, InvalidArgumentError } from 'commander';
import { ENV_FORMATS } from '../core/env-format.ts';

/**
 * The arguments and options of the commands an agent can also call through `envs mcp`, as data. Commander's
 * definitions (`commandFrom` below) and the MCP tools' input schemas (mcp/schemas.ts) are both made from
 * these, so the two cannot drift apart. Plain data, no zod: the CLI reads this at every start.
 * `--json` is the CLI's own (the MCP tools always answer JSON) and is added by each command.
 */
export interface ArgSpec {
  /** The argument's name; also its key in a tool's input. */
  name: string;
  description: string;
  required: boolean;
  /** Takes the rest of the words (`exec`'s command): an array of strings in a tool's input. */
  variadic?: boolean;
}

interface BaseOption {
  /** The key commander gives the value (camelCase of the long flag); also its key in a tool's input. */
  key: string;
  /** Commander's flags, e.g. `-f, --force` or `--from <ref>`. */
  flags: string;
  description: string;
  /** False: the CLI's only (a follow, which a tool call cannot do). */
  mcp?: false;
}

export type OptionSpec =
  | (BaseOption & { type: 'flag' })
  | (BaseOption & { type: 'string' })
  /** A whole number ≥ 0. */
  | (BaseOption & { type: 'count' })
  | (BaseOption & { type: 'choice'; choices: readonly string[]; default?: string });

export interface CommandSpec {
  name: string;
  description: string;
  args: ArgSpec[];
  options: OptionSpec[];
}

const ENV = 'branch, env name or worktree path';
const ENV_AMBIGUOUS = `${ENV} (name:<env name> or branch:<branch> when one word names two envs)`;
const env = (description = ENV): ArgSpec => ({ name: 'env', description, required: true });
/** The phases as JSON lines on stderr (core/events.ts); a tool call has no stderr to stream them to. */
const EVENTS = {
  key: 'events',
  flags: '--events <format>',
  description: 'stream each phase as it starts and ends, one JSON object a line on stderr (instead of the progress lines)',
  type: 'choice',
  choices: ['ndjson'],
  mcp: false,
} as const satisfies OptionSpec;

export const SPECS = {
  create: {
    name: 'create',
    description: 'Make an env for a branch: worktree, its own Compose project on remapped ports, running.',
    args: [{ name: 'branch', description: 'branch to work on; created from --from when it does not exist', required: true }],
    options: [
      { key: 'from', flags: '--from <ref>', description: 'start point of a new branch (default: the default branch)', type: 'string' },
      {
        key: 'dbFrom',
        flags: '--db-from <env>',
        description: "start the database from a copy of another env's data as it is now (stopped for the copy)",
        type: 'string',
      },
      {
        key: 'keepOnFailure',
        flags: '--keep-on-failure',
        description: 'on failure keep what was made (status failed) instead of rolling back',
        type: 'flag',
      },
      EVENTS,
    ],
  },
  list: {
    name: 'list',
    description: 'Every env of this repository: status, ports, URL, worktree, dirty, merged and idle flags.',
    args: [],
    options: [
      {
        key: 'merged',
        flags: '--merged',
        description: 'only the envs whose branch is merged into the base (what `prune --merged` considers)',
        type: 'flag',
      },
      { key: 'idle', flags: '--idle', description: 'only the envs idle for --idle-days', type: 'flag' },
      {
        key: 'idleDays',
        flags: '--idle-days <n>',
        description: 'days without a commit, a container start or an envs change that make an env idle (default 7)',
        type: 'count',
      },
      {
        key: 'base',
        flags: '--base <ref>',
        description: "the branch `merged` is judged against (default: the repository's default branch)",
        type: 'string',
      },
      {
        key: 'unmanaged',
        flags: '--unmanaged',
        description: 'list the worktrees of this repository that have no env instead (for `envs adopt <path>`)',
        type: 'flag',
        mcp: false,
      },
    ],
  },
  info: {
    name: 'info',
    description: 'One env in full, including the variables it injects (secrets redacted).',
    args: [env()],
    options: [{ key: 'showSecrets', flags: '--show-secrets', description: 'show secret values', type: 'flag' }],
  },
  destroy: {
    name: 'destroy',
    description: 'Remove an env: containers, volumes, networks, ports, worktree. The branch is kept.',
    args: [env(ENV_AMBIGUOUS)],
    options: [
      {
        key: 'force',
        flags: '-f, --force',
        description:
          'also delete modified, untracked and precious ignored files, and submodule changes; commits only the worktree has are kept under refs/envs/',
        type: 'flag',
      },
      {
        key: 'worktree',
        flags: '--worktree',
        description: 'also remove an adopted worktree (`envs adopt`: by default destroy keeps a worktree envs did not make)',
        type: 'flag',
      },
      EVENTS,
    ],
  },
  up: {
    name: 'up',
    description: "Start an env's containers again (same ports, same data), applying compose-file changes.",
    args: [env(ENV_AMBIGUOUS)],
    options: [
      {
        key: 'reconfigure',
        flags: '--reconfigure',
        description:
          'let the env change what it is made of (other compose files, or none) and remove its containers of services that are gone',
        type: 'flag',
      },
      EVENTS,
    ],
  },
  down: {
    name: 'down',
    description: "Stop an env's containers, keeping its data, ports and worktree.",
    args: [env(ENV_AMBIGUOUS)],
    options: [EVENTS],
  },
  logs: {
    name: 'logs',
    description: "An env's output: its Compose services (docker compose logs) and its host processes (their log files).",
    args: [env(), { name: 'name', description: 'one compose service or process (default: all)', required: false }],
    options: [
      { key: 'follow', flags: '-f, --follow', description: 'keep printing new output until Ctrl-C', type: 'flag', mcp: false },
      { key: 'tail', flags: '-n, --tail <lines>', description: 'only the last lines of each', type: 'count' },
    ],
  },
  exec: {
    name: 'exec',
    description:
      "Run a command in an env's worktree with its variables (DATABASE_URL, ports, …); its exit code is envs's. Put -- before the command.",
    args: [
      env(),
      {
        name: 'command',
        description: 'the program and its arguments (no shell: write `sh -c "…"` for shell syntax)',
        required: true,
        variadic: true,
      },
    ],
    options: [],
  },
  env: {
    name: 'env',
    description:
      'Print an env\'s variables for other programs: dotenv (default), shell (`eval "$(envs env feat/x --format shell)"`) or json. Secrets are printed in clear, on purpose: this is what tools and eval read (`envs info` redacts them).',
    args: [env()],
    options: [
      { key: 'format', flags: '--format <format>', description: 'output format', type: 'choice', choices: ENV_FORMATS, default: 'dotenv' },
    ],
  },
} as const satisfies Record<string, CommandSpec>;

export type SpecName = keyof typeof SPECS;

/** A whole number ≥ 0, for `count` options. */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

/** The commander command of a spec: its arguments and options; the caller adds `--json`, aliases and the action. */
export function commandFrom(program: Command, spec: CommandSpec): Command {
  const command = program.command(spec.name).description(spec.description);
  for (const arg of spec.args) {
    const word = `${arg.name}${arg.variadic ? '...' : ''}`;
    command.argument(arg.required ? `<${word}>` : `[${word}]`, arg.description);
  }
  for (const option of spec.options) {
    if (option.type === 'flag' || option.type === 'string') command.option(option.flags, option.description);
    else if (option.type === 'count') command.option(option.flags, option.description, count);
    else {
      const choice = new CommanderOption(option.flags, option.description).choices(option.choices);
      command.addOption(option.default === undefined ? choice : choice.default(option.default));
    }
  }
  return command;
}
