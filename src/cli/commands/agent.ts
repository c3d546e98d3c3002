import type { Command } from 'commander';
import type { AgentResult } from '../../core/agent.ts';
import { printable } from '../../core/naming.ts';
import type { Define } from '../program.ts';

export function defineAgent(program: Command, define: Define): void {
  program
    .command('agent')
    .description(
      "Start an agent (envs.yaml `agent:`, or the command after --) in the env's tmux session, in its worktree, with its variables; makes the env first when needed, starts it when stopped.",
    )
    .argument('<branch>', 'branch to work on; its env is created (as `envs create`) when it has none')
    .argument('[command...]', 'the program and its arguments, after -- (no shell); default: `agent:` in envs.yaml')
    .usage('<branch> [options] [-- <command...>]')
    .option('--from <ref>', 'start point of a new branch (default: the default branch)')
    .option('--new', 'start another agent beside one that runs (window agent-2, …)')
    .option('--no-attach', 'do not attach to it, even at a terminal')
    .option('--json', 'print the agent and its env as JSON (never attaches)')
    .action(
      define<[string, string[], { from?: string; new?: boolean; attach: boolean; json?: boolean }]>(
        async (ctx, branch, command, options) => {
          const opening = ctx.open({ pingEarly: true });
          const [{ startAgentIn }, { afterStart }] = await Promise.all([import('../../core/agent.ts'), import('../../proxy/auto.ts')]);
          const deps = await opening;
          const result = await startAgentIn(deps, {
            branch,
            ...(options.from !== undefined ? { from: options.from } : {}),
            ...(command.length > 0 ? { command } : {}),
            another: Boolean(options.new),
            signal: ctx.signal,
            onProgress: ctx.progress,
          });
          await afterStart({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, progress: ctx.progress }, result.env);
          const attachNow = options.attach && !ctx.json && Boolean(process.stdout.isTTY && process.stdin.isTTY);
          if (!attachNow) {
            ctx.result(result, agentStarted);
            return;
          }
          ctx.out.stderr(agentStarted(result));
          const [{ attachTarget }, { runInteractive }] = await Promise.all([
            import('../../bootstrap/attach.ts'),
            import('../../process/interactive.ts'),
          ]);
          const target = await attachTarget(deps.records.envDir(result.env.name), printable(result.env.branch), ctx.env);
          ctx.releaseSignals();
          const attached = await runInteractive(target.file, target.args, { cwd: ctx.cwd, env: target.env });
          ctx.exitCode = attached.exitCode ?? 1;
        },
      ),
    );
}

function agentStarted(result: AgentResult): string {
  const { agent, env } = result;
  return [
    `✓ agent ${printable(agent.command)} runs in ${printable(env.branch)}'s env  (env ${printable(env.name)})`,
    `  tmux      session ${printable(agent.session)}, window ${printable(agent.window)}`,
    `  worktree  ${printable(env.worktree)}`,
    `  attach    ${printable(result.attach)}`,
    '',
  ].join('\n');
}
