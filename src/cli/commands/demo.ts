import type { Command } from 'commander';
import { printable as p } from '../../core/naming.ts';
import type { DemoResult } from '../../demo/run.ts';
import type { Define } from '../program.ts';

export function defineDemo(program: Command, define: Define): void {
  program
    .command('demo')
    .description('Write a small demo monorepo (web app + Postgres + .env) and make two envs of it side by side.')
    .argument('[dir]', 'an empty or new directory for the demo repository', 'envs-demo')
    .option('--json', 'print the two envs as JSON')
    .action(
      define<[string, { json?: boolean }]>(async (ctx, dir) => {
        const [{ runDemo }, { afterStart }] = await Promise.all([import('../../demo/run.ts'), import('../../proxy/auto.ts')]);
        const result = await runDemo({ dir, cwd: ctx.cwd, env: ctx.env, signal: ctx.signal, onProgress: ctx.progress });
        // The URLs printed are the router's: it runs, and each answers, before they are shown.
        for (const env of result.envs) await afterStart({ env: ctx.env, cwd: ctx.cwd, signal: ctx.signal, progress: ctx.progress }, env);
        ctx.result(result, demoSummary);
      }),
    );
}

function demoSummary(result: DemoResult): string {
  const lines = [`✓ The demo repository is at ${p(result.dir)}, with two envs running side by side:`, ''];
  for (const env of result.envs) {
    const url = Object.values(env.urls)[0] ?? '(no URL)';
    const db = env.ports.find((b) => b.service === 'db');
    lines.push(`  ${p(env.branch).padEnd(10)} ${p(url)}   database on 127.0.0.1:${db?.published ?? '?'}   worktree ${p(env.worktree)}`);
  }
  lines.push(
    '',
    "Open both URLs: each dev server answers from its own database. Each worktree's .env points at its own port.",
    `See them with \`envs -C ${p(result.dir)} list\`; remove them with`,
    ...result.envs.map((env) => `  envs -C ${p(result.dir)} destroy ${p(env.branch)}`),
    // The first env's database became the repository's snapshot (the second is a clone of it): it outlives both.
    ...result.envs.flatMap((env) =>
      env.database?.made_snapshot
        ? [`  envs -C ${p(result.dir)} db rm-snapshot ${p(env.database.made_snapshot)}   (then its database snapshot)`]
        : [],
    ),
  );
  return `${lines.join('\n')}\n`;
}
