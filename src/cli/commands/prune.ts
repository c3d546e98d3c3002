import type { Command } from 'commander';
import { EnvsError } from '../../errors.ts';
import { pruneSummary } from '../output.ts';
import type { Define } from '../program.ts';

export function definePrune(program: Command, define: Define): void {
  program
    .command('prune')
    .description('Destroy the envs whose branch is merged into the base (fast-forward, merge commit, squash, rebase); say why for each.')
    .option('--merged', 'prune envs whose branch the base holds (required: what prune removes)')
    .option('--base <ref>', "the branch merges go into (default: the repository's default branch)")
    .option('--dry-run', 'only say what would be pruned and what kept, changing nothing')
    .option('--delete-branch', 'also delete each pruned branch, only at the tip found merged')
    .option('--json', 'print {pruned, kept, failed} as JSON')
    .action(
      define<[{ merged?: boolean; base?: string; dryRun?: boolean; deleteBranch?: boolean; json?: boolean }]>(async (ctx, options) => {
        if (!options.merged) {
          throw new EnvsError('USAGE', 'Say what to prune: `envs prune --merged`.', {
            hint: 'It destroys the envs whose branch is merged into the base; add --dry-run to see the decisions first.',
          });
        }
        const opening = ctx.open({ pingEarly: true });
        const { pruneMerged } = await import('../../core/prune.ts');
        const deps = await opening;
        const result = await pruneMerged(deps, {
          ...(options.base !== undefined ? { base: options.base } : {}),
          dryRun: Boolean(options.dryRun),
          deleteBranch: Boolean(options.deleteBranch),
          signal: ctx.signal,
          onProgress: ctx.progress,
        });
        ctx.result(result, pruneSummary);
        if (result.failed.length > 0) ctx.exitCode = 1;
      }),
    );
}
