import type { Command } from 'commander';
import { envCreated } from '../output.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineCreate(program: Command, define: Define): void {
  commandFrom(program, SPECS.create)
    .option('--json', 'print the env as JSON')
    .action(
      define<[string, { from?: string; dbFrom?: string; keepOnFailure?: boolean; json?: boolean }]>(async (ctx, branch, options) => {
        const opening = ctx.open({ pingEarly: true }); // git and the engine ping start at once; the command's code loads meanwhile
        const [{ createEnv }, { afterStart }] = await Promise.all([import('../../core/create.ts'), import('../../proxy/auto.ts')]);
        const deps = await opening;
        const view = await createEnv(deps, {
          branch,
          ...(options.from !== undefined ? { from: options.from } : {}),
          ...(options.dbFrom !== undefined ? { dbFrom: options.dbFrom } : {}),
          keepOnFailure: Boolean(options.keepOnFailure),
          signal: ctx.signal,
          onProgress: ctx.progress,
          ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
        });
        await afterStart({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, progress: ctx.progress }, view);
        ctx.result(view, envCreated);
      }),
    );
}
