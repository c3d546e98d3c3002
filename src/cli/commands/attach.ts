import type { Command } from 'commander';
import type { Define } from '../program.ts';

export function defineAttach(program: Command, define: Define): void {
  program
    .command('attach')
    .description("Open the env's tmux session (one window per host process, the agent's shown first); detach with Ctrl-b d.")
    .argument('<env>', 'branch, env name or worktree path')
    .option('--json', 'errors as JSON on stdout (the output itself is the program’s)')
    .action(
      define<[string, { json?: boolean }]>(async (ctx, env) => {
        const opening = ctx.open();
        const [{ resolveEnv }, { attachTarget }, { runInteractive }] = await Promise.all([
          import('../../core/resolve.ts'),
          import('../../bootstrap/attach.ts'),
          import('../../process/interactive.ts'),
        ]);
        const deps = await opening;
        const record = await resolveEnv(deps, env, ctx.cwd);
        const stateDir = deps.records.envDir(record.name);
        const target = await attachTarget(stateDir, record.branch, ctx.env);
        ctx.releaseSignals();
        const result = await runInteractive(target.file, target.args, { cwd: ctx.cwd, env: target.env });
        ctx.exitCode = result.exitCode ?? 1;
      }),
    );
}
