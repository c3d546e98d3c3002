import type { Command } from 'commander';
import { printable } from '../../core/naming.ts';
import { envCreated } from '../output.ts';
import type { Define } from '../program.ts';

export function defineAdopt(program: Command, define: Define): void {
  program
    .command('adopt')
    .description('Give an existing worktree of this repository (git worktree add, Claude Code…) an env, leaving its files as they are.')
    .argument('<path>', 'the worktree (or a path inside it)')
    .option('--keep-on-failure', 'on failure keep what was made (status failed) instead of rolling back')
    .option('--json', 'print the env as JSON')
    .action(
      define<[string, { keepOnFailure?: boolean; json?: boolean }]>(async (ctx, path, options) => {
        const opening = ctx.open({ pingEarly: true });
        const [{ adoptEnv }, { afterStart }] = await Promise.all([import('../../core/adopt.ts'), import('../../proxy/auto.ts')]);
        const deps = await opening;
        const view = await adoptEnv(deps, path, {
          keepOnFailure: Boolean(options.keepOnFailure),
          signal: ctx.signal,
          onProgress: ctx.progress,
        });
        await afterStart({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, progress: ctx.progress }, view);
        ctx.result(
          view,
          (v) => `${envCreated(v)}  adopted: \`envs destroy ${printable(v.branch)}\` keeps this worktree (--worktree removes it too)\n`,
        );
      }),
    );
}
