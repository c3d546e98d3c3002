import type { Command } from 'commander';
import { CliComposeClient } from '../../compose/cli.ts';
import type { Deps } from '../../core/deps.ts';
import type { Check } from '../../core/doctor.ts';
import { resolveEngine } from '../../docker/endpoint.ts';
import { LazyEngine } from '../../docker/lazy.ts';
import { EnvsError } from '../../errors.ts';
import { runGit } from '../../git/run.ts';
import { envsHome } from '../../state/paths.ts';
import { doctorSummary } from '../output.ts';
import type { CommandContext, Define } from '../program.ts';

export function defineDoctor(program: Command, define: Define): void {
  program
    .command('doctor')
    .description('Check what envs needs: Docker engine, Compose >= 2.24.4, git, Node.js, state directory.')
    .option('--json', 'print the checks as JSON')
    .action(
      define<[{ json?: boolean }]>(async (ctx) => {
        const { runDoctor } = await import('../../core/doctor.ts');
        const result = await runDoctor({
          gitVersion: async () => (await runGit(['--version'], { cwd: ctx.cwd })).stdout,
          compose: new CliComposeClient(ctx.env),
          // An unknown docker context is a failed check, not a crash of doctor.
          engine: await resolveEngine(ctx.env).then(
            (endpoint) => new LazyEngine(endpoint.host, endpoint.env),
            (error: unknown) => ({ info: () => Promise.reject(error) }),
          ),
          home: envsHome(ctx.env),
          nodeVersion: process.versions.node,
          repoChecks: () => repoChecks(ctx),
        });
        ctx.result(result, doctorSummary);
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
    if (EnvsError.is(error) && error.code === 'NOT_A_GIT_REPO') return [];
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
