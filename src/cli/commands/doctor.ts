import type { Command } from 'commander';
import { CliComposeClient } from '../../compose/cli.ts';
import type { Deps, Engine } from '../../core/deps.ts';
import type { Check } from '../../core/doctor.ts';
import { composeEnvironment, resolveEngine } from '../../docker/endpoint.ts';
import { LazyEngine } from '../../docker/lazy.ts';
import { EnvsError } from '../../errors.ts';
import { runGit } from '../../git/run.ts';
import { envsHome, StatePaths } from '../../state/paths.ts';
import { clearStaleTemp } from '../../state/temp.ts';
import { doctorSummary } from '../output.ts';
import type { CommandContext, Define } from '../program.ts';

export function defineDoctor(program: Command, define: Define): void {
  program
    .command('doctor')
    .description('Check what envs needs: Docker engine, Compose >= 2.24.4, git, Node.js, state directory and its files.')
    .option('--fix', 'move damaged state files aside (never deleting them) and rebuild the port registry')
    .option('--json', 'print the checks as JSON')
    .action(
      define<[{ fix?: boolean; json?: boolean }]>(async (ctx, options) => {
        const { runDoctor } = await import('../../core/doctor.ts');
        const { stateDoctor } = await import('../../wire.ts');
        // An unknown docker context is a failed check, not a crash of doctor.
        const endpoint = await resolveEngine(ctx.env).catch((error: unknown) => error as Error);
        const engine: Pick<Engine, 'info' | 'containers'> =
          endpoint instanceof Error
            ? { info: () => Promise.reject(endpoint), containers: () => Promise.reject(endpoint) }
            : new LazyEngine(endpoint.host, { env: { ...ctx.env, ...endpoint.env }, signal: ctx.signal });
        const home = envsHome(ctx.env, ctx.cwd);
        await clearStaleTemp(new StatePaths(home).tmp);
        const result = await runDoctor({
          gitVersion: async () => (await runGit(['--version'], { cwd: ctx.cwd, env: ctx.env })).stdout,
          compose: new CliComposeClient(
            endpoint instanceof Error ? ctx.env : composeEnvironment(ctx.env, endpoint),
            new StatePaths(home).tmp,
          ),
          engine,
          home,
          nodeVersion: process.versions.node,
          repoChecks: () => repoChecks(ctx),
          state: stateDoctor(home, engine),
          fix: Boolean(options.fix),
        });
        ctx.result(result, (r) => `${(r.fixed ?? []).map((line) => `fixed: ${line}\n`).join('')}${doctorSummary(r)}`);
        if (!result.ok) ctx.exitCode = 1;
      }),
    );
}

/** Inside a repository: does its compose setup render? Outside one: nothing to check. */
async function repoChecks(ctx: CommandContext): Promise<Check[]> {
  let deps: Deps;
  try {
    deps = await ctx.open();
  } catch (error) {
    // Outside a repository there is nothing to render; an unusable state directory has its own check.
    if (EnvsError.is(error) && (error.code === 'NOT_A_GIT_REPO' || error.code === 'STATE_UNUSABLE')) return [];
    throw error;
  }
  const root = deps.git.repo.root;
  const { dirTree, readSource, renderSource } = await import('../../core/source.ts');
  try {
    const env = { ENVS_DB_PASSWORD: 'doctor' };
    const source = await readSource(deps, dirTree(deps, root), { env: { ...deps.env, ...env } });
    await renderSource(deps, source, { project: 'envs-doctor', worktree: root, onDisk: true, env });
    const what = source.template ? 'no compose file: envs will give each env a Postgres' : source.sourceFiles.join(' + ');
    return [{ name: 'compose model', ok: true, detail: `${root}: ${what}` }];
  } catch (error) {
    return [
      {
        name: 'compose model',
        ok: false,
        detail: EnvsError.is(error) ? error.message : String(error),
        fix: EnvsError.is(error) && error.hint ? error.hint : 'Fix the compose file.',
      },
    ];
  }
}
