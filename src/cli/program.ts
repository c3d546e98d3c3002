import { Command, CommanderError } from 'commander';
import { printableLines } from '../core/naming.ts';
import { EnvsError } from '../errors.ts';
import { defineAdopt } from './commands/adopt.ts';
import { defineAgent } from './commands/agent.ts';
import { defineAttach } from './commands/attach.ts';
import { defineCreate } from './commands/create.ts';
import { defineDb } from './commands/db.ts';
import { defineDemo } from './commands/demo.ts';
import { defineDestroy } from './commands/destroy.ts';
import { defineDoctor } from './commands/doctor.ts';
import { defineEnv } from './commands/env.ts';
import { defineExec } from './commands/exec.ts';
import { defineGc } from './commands/gc.ts';
import { defineHook } from './commands/hook.ts';
import { defineInfo } from './commands/info.ts';
import { defineInit } from './commands/init.ts';
import { defineList } from './commands/list.ts';
import { defineLogs } from './commands/logs.ts';
import { defineMcp } from './commands/mcp.ts';
import { defineOpen } from './commands/open.ts';
import { definePlan } from './commands/plan.ts';
import { defineProxy } from './commands/proxy.ts';
import { definePrune } from './commands/prune.ts';
import { defineUpDown } from './commands/up-down.ts';
import { errorJson, errorText, json, type Out, processOut } from './output.ts';
import { type CommandContext, runAction } from './runner.ts';

export type { CommandContext };

/** Wraps a command body into a commander action: args typed, context built, exit code kept. */
export type Define = <A extends unknown[]>(
  body: (ctx: CommandContext, ...args: A) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

export const VERSION = '0.1.0';

/** Runs the CLI on argv; returns the exit code. */
export async function run(argv: string[], out: Out = processOut, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode = 0;
  const program = new Command('envs');
  // Only envs's own arguments: after `--` they belong to the command `envs exec` runs.
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const wantsJson = own.includes('--json');
  program
    .description('An isolated development environment per branch: worktree, own Compose project, remapped ports.')
    .version(VERSION, '-v, --version')
    .option('-C, --cwd <dir>', 'run as if started in <dir>')
    .showHelpAfterError('hint: Run `envs --help` for the commands and their options.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => out.stdout(text),
      // In --json mode a usage error is reported as JSON below, not as commander's text. Commander quotes
      // the arguments it rejects: escape them so they cannot forge lines or colours.
      writeErr: (text) => (wantsJson ? undefined : out.stderr(printableLines(text))),
    });

  const define: Define =
    (body) =>
    async (...args) => {
      const command = args[args.length - 1] as Command;
      const flags = command.opts<{ json?: boolean; events?: string }>();
      const cwd = program.opts<{ cwd?: string }>().cwd ?? process.cwd();
      exitCode = await runAction({ cwd, env, out }, { ...flags, command: command.name() }, (ctx) =>
        body(ctx, ...(args.slice(0, -1) as never)),
      );
    };

  defineCreate(program, define);
  definePlan(program, define);
  defineList(program, define);
  defineInfo(program, define);
  defineDestroy(program, define);
  defineUpDown(program, define);
  defineDoctor(program, define);
  defineExec(program, define);
  defineEnv(program, define);
  defineLogs(program, define);
  defineAttach(program, define);
  defineAgent(program, define);
  defineDb(program, define);
  defineDemo(program, define);
  defineOpen(program, define);
  defineProxy(program, define);
  defineGc(program, define);
  definePrune(program, define);
  defineMcp(program, define);
  defineAdopt(program, define);
  defineHook(program, define);
  defineInit(program, define);

  try {
    await program.parseAsync(argv, { from: 'node' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
      const usage = new EnvsError('USAGE', error.message.replace(/^error: /, ''), {
        hint: 'Run `envs --help` for the commands and their options.',
      });
      if (wantsJson) json(out, errorJson(usage));
      return usage.exitCode;
    }
    out.stderr(errorText(error));
    return 70;
  }
}
