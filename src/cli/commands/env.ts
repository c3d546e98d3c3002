import type { Command } from 'commander';
import type { EnvFormat } from '../../core/env-format.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineEnv(program: Command, define: Define): void {
  commandFrom(program, SPECS.env)
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
