import type { Command } from 'commander';
import { planSummary } from '../output.ts';
import type { Define } from '../program.ts';

export function definePlan(program: Command, define: Define): void {
  program
    .command('plan')
    .description('Show what `create` would do, with the compose file it would generate; changes nothing.')
    .argument('<branch>', 'branch the env would be for')
    .option('--from <ref>', 'start point of a new branch (default: the default branch)')
    .option('--show-secrets', 'do not redact secrets in the generated compose file')
    .option('--json', 'print the plan as JSON')
    .action(
      define<[string, { from?: string; showSecrets?: boolean; json?: boolean }]>(async (ctx, branch, options) => {
        const opening = ctx.open({ pingEarly: true }); // git and the engine ping start at once; the command's code loads meanwhile
        const { planEnv } = await import('../../core/preview.ts');
        const deps = await opening;
        const plan = await planEnv(deps, {
          branch,
          ...(options.from !== undefined ? { from: options.from } : {}),
          showSecrets: Boolean(options.showSecrets),
        });
        ctx.result(plan, planSummary);
      }),
    );
}
