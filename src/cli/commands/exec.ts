import type { Command } from 'commander';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineExec(program: Command, define: Define): void {
  commandFrom(program, SPECS.exec)
    .usage('<env> -- <command...>')
    .option('--json', 'errors as JSON on stdout (the output itself is the program’s)')
    .action(
      define<[string, string[], { json?: boolean }]>(async (ctx, env, command) => {
        const opening = ctx.open();
        const [{ execFailed, execTarget }, { runInteractive }] = await Promise.all([
          import('../../core/exec.ts'),
          import('../../process/interactive.ts'),
        ]);
        const target = await execTarget(await opening, env, ctx.cwd, command);
        const [file, ...args] = command as [string, ...string[]];
        ctx.releaseSignals(); // the command owns Ctrl-C now
        const result = await runInteractive(file, args, { cwd: target.cwd, env: { ...ctx.env, ...target.env } });
        if (result.exitCode === undefined) throw execFailed(file, result.spawnError);
        ctx.exitCode = result.exitCode;
      }),
    );
}
