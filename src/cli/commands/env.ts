import { type Command, Option } from 'commander';
import { ENV_FORMATS, type EnvFormat } from '../../core/env-format.ts';
import type { Define } from '../program.ts';

export function defineEnv(program: Command, define: Define): void {
  program
    .command('env')
    .description(
      'Print an env\'s variables for other programs: dotenv (default), shell (`eval "$(envs env feat/x --format shell)"`) or json. Secrets are printed in clear, on purpose: this is what tools and eval read (`envs info` redacts them).',
    )
    .argument('<env>', 'branch, env name or worktree path')
    .addOption(new Option('--format <format>', 'output format').choices(ENV_FORMATS).default('dotenv'))
    .option('--json', 'the same as --format json')
    .action(
      define<[string, { format: EnvFormat; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open();
        const [{ resolveEnv }, { formatEnv }] = await Promise.all([import('../../core/resolve.ts'), import('../../core/env-format.ts')]);
        const record = await resolveEnv(await opening, env, ctx.cwd);
        const { text, skipped } = formatEnv(record.env, options.json ? 'json' : options.format);
        if (skipped.length > 0) ctx.out.stderr(`warning: left out ${skipped.join(', ')} (not variable names)\n`);
        ctx.out.stdout(text);
      }),
    );
}
