import type { Command } from 'commander';
import type { SnapshotView } from '../../core/db-commands.ts';
import { formatBytes } from '../../db/bytes.ts';
import type { Define } from '../program.ts';

const ENV_ARG = 'branch, env name or worktree path';

function snapshotLine(s: SnapshotView): string {
  const used = s.used_by.length > 0 ? `  used by ${s.used_by.join(', ')}` : '';
  return `${s.name}  ${s.service} on ${s.image} (PostgreSQL ${s.pg_version || '?'})  ${formatBytes(s.bytes)}  at ${s.commit.slice(0, 8)} from ${s.from}  ${s.created_at}${used}\n`;
}

export function defineDb(program: Command, define: Define): void {
  const db = program.command('db').description("Per-env databases: snapshots, resets, URLs (see the README's Databases).");
  db.command('snapshot')
    .description("Take a consistent snapshot of an env's database (the server is stopped for the copy and started again).")
    .argument('[env]', `${ENV_ARG} (default: the env of the current directory)`)
    .option('--name <name>', "the snapshot's name (default: <env>-<time>)")
    .option('--json', 'print the snapshot as JSON')
    .action(
      define<[string | undefined, { name?: string; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open({ pingEarly: true });
        const { takeSnapshot } = await import('../../core/db-commands.ts');
        const snapshot = await takeSnapshot(await opening, env, {
          cwd: ctx.cwd,
          signal: ctx.signal,
          onProgress: ctx.progress,
          ...(options.name !== undefined ? { name: options.name } : {}),
        });
        ctx.result(snapshot, (s) => `snapshot ${s.name}: ${formatBytes(s.bytes)} of ${s.service} (PostgreSQL ${s.pg_version})\n`);
      }),
    );
  db.command('snapshots')
    .description("List this repository's database snapshots and the envs cloned from each.")
    .option('--json', 'print them as JSON')
    .action(
      define<[{ json?: boolean }]>(async (ctx) => {
        const opening = ctx.open({ pingEarly: true });
        const { listSnapshots } = await import('../../core/db-commands.ts');
        const list = await listSnapshots(await opening);
        ctx.result({ snapshots: list }, (v) => (v.snapshots.length === 0 ? 'no snapshots\n' : v.snapshots.map(snapshotLine).join('')));
      }),
    );
  db.command('reset')
    .description("Put an env's database back to the snapshot it was cloned from (or --from another); other envs are untouched.")
    .argument('<env>', ENV_ARG)
    .option('--from <snapshot>', 'the snapshot to reset to')
    .option('--json', 'print the result as JSON')
    .action(
      define<[string, { from?: string; json?: boolean }]>(async (ctx, env, options) => {
        const opening = ctx.open({ pingEarly: true });
        const { resetEnvDatabase } = await import('../../core/db-commands.ts');
        const result = await resetEnvDatabase(await opening, env, {
          cwd: ctx.cwd,
          signal: ctx.signal,
          onProgress: ctx.progress,
          ...(options.from !== undefined ? { from: options.from } : {}),
        });
        ctx.result(
          result,
          (r) =>
            `${r.branch}: database reset${r.snapshot ? ` to snapshot ${r.snapshot} (${r.method})` : ' (migrate and seed ran again)'}\n`,
        );
      }),
    );
  db.command('url')
    .description("Print an env's DATABASE_URL (password included: this is what tools read).")
    .argument('<env>', ENV_ARG)
    .option('--json', 'print {"url": …}')
    .action(
      define<[string, { json?: boolean }]>(async (ctx, env) => {
        const opening = ctx.open();
        const { databaseUrl } = await import('../../core/db-commands.ts');
        const url = await databaseUrl(await opening, env, ctx.cwd);
        ctx.result({ url }, (v) => `${v.url}\n`);
      }),
    );
  db.command('rm-snapshot')
    .description('Remove a snapshot; refused while an env cloned from it exists.')
    .argument('<name>', 'the snapshot (`envs db snapshots` lists them)')
    .option('--force', 'remove it even though envs were cloned from it: their databases break (named in the output)')
    .option('--json', 'print the result as JSON')
    .action(
      define<[string, { force?: boolean; json?: boolean }]>(async (ctx, name, options) => {
        const opening = ctx.open({ pingEarly: true });
        const { removeSnapshotByName } = await import('../../core/db-commands.ts');
        const result = await removeSnapshotByName(await opening, name, { force: Boolean(options.force) });
        ctx.result(result, (r) =>
          r.broken.length > 0
            ? `removed snapshot ${r.name}; the databases of ${r.broken.join(', ')} were cloned from it and are now broken (reset them with --from another snapshot)\n`
            : `removed snapshot ${r.name}\n`,
        );
      }),
    );
}
