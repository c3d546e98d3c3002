import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EnvsError } from '../../errors.ts';
import type { Define } from '../program.ts';

export function defineMcp(program: Command, define: Define): void {
  program
    .command('mcp')
    .description(
      'An MCP server over stdio for agents: tools create, list, info, destroy, up, down, logs, exec, env; a resource per env (envs://<repo>/<env>).',
    )
    .option('--repo <dir>', 'the repository it works for (default: the current directory)')
    .option('--allow-force', 'let the destroy tool take force (delete work in the worktree); off by default')
    .action(
      define<[{ repo?: string; allowForce?: boolean }]>(async (ctx, options) => {
        const { serveMcp } = await import('../../mcp/server.ts');
        ctx.endOnSignal(); // Ctrl-C/SIGTERM close the server and cancel what runs; stdout is the protocol's alone
        await serveMcp({
          repo: resolve(ctx.cwd, options.repo ?? '.'),
          env: ctx.env,
          allowForce: Boolean(options.allowForce),
          signal: ctx.signal,
          stderr: (text) => ctx.out.stderr(text),
        }).catch((error: unknown) => {
          // The repository is this command's --repo (an MCP client's config names it), not -C.
          if (EnvsError.is(error) && error.code === 'NOT_A_GIT_REPO') {
            throw new EnvsError(error.code, error.message, {
              hint: "Start it with --repo <dir> naming your project's checkout (in the MCP client's config), or from inside one.",
            });
          }
          throw error;
        });
      }),
    );
}
