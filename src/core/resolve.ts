import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { EnvsError } from '../errors.ts';
import { corruptRecordError, findCorrupt } from './corrupt.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';
import type { EnvRecord } from './record.ts';

type Matched = 'env name' | 'branch' | 'worktree path';

/**
 * Finds the env an argument names, refusing an argument that names more than one:
 * - `name:<env name>` and `branch:<branch>` name that kind only (git forbids `:` in branch names and env
 *   names are `[a-z0-9-]`, so neither prefix is ever part of a name);
 * - an argument starting with `/` or `.` is a path, in or below an env's worktree (no branch or env
 *   name starts with either);
 * - anything else may be an env name, a branch, or a path that exists.
 */
export async function resolveEnv(deps: Deps, arg: string, cwd = deps.cwd): Promise<EnvRecord> {
  const records = await deps.records.list();
  const matches = await candidates(records, arg, cwd);
  const distinct = [...new Map(matches.map((m) => [m.record.name, m])).values()];
  if (distinct.length === 1 && distinct[0]) return distinct[0].record;
  if (distinct.length > 1) {
    const lines = distinct.map(
      ({ record, by }) =>
        `  env ${record.name} (branch ${printable(record.branch)}), by its ${by}: say name:${record.name} or branch:${printable(record.branch)}`,
    );
    throw new EnvsError('AMBIGUOUS_ENV', `"${printable(arg)}" names ${distinct.length} envs:\n${lines.join('\n')}`, {
      hint: 'Name one of them as shown: name:<env name>, branch:<branch>, or a path starting with ./ or /. Nothing was changed.',
      details: {
        candidates: distinct.map(({ record, by }) => ({
          name: record.name,
          branch: record.branch,
          worktree: record.worktree,
          matched_by: by,
          use: `name:${record.name}`,
        })),
      },
    });
  }
  const corrupt = await findCorrupt(deps, arg, cwd);
  if (corrupt) throw corruptRecordError(deps, corrupt);
  throw new EnvsError('ENV_NOT_FOUND', `No env named "${printable(arg)}" in ${deps.git.repo.root}.`, {
    hint:
      records.length > 0
        ? `Name one by branch, env name or worktree path: ${records.map((r) => printable(r.branch)).join(', ')}.`
        : 'This repository has no envs yet; make one with `envs create <branch>`.',
  });
}

async function candidates(records: EnvRecord[], arg: string, cwd: string): Promise<{ record: EnvRecord; by: Matched }[]> {
  const tag = (by: Matched) => (record: EnvRecord) => ({ record, by });
  if (arg.startsWith('name:')) return records.filter((r) => r.name === arg.slice('name:'.length)).map(tag('env name'));
  if (arg.startsWith('branch:')) return records.filter((r) => r.branch === arg.slice('branch:'.length)).map(tag('branch'));
  const asPath = arg.startsWith('/') || arg.startsWith('.');
  const path = await realpath(resolve(cwd, arg)).catch(() => (asPath ? resolve(cwd, arg) : undefined));
  const byPath = path === undefined ? [] : (await holding(records, path)).map(tag('worktree path'));
  if (asPath) return byPath;
  return [
    ...records.filter((r) => r.name === arg).map(tag('env name')),
    ...records.filter((r) => r.branch === arg).map(tag('branch')),
    ...byPath,
  ];
}

/** The env whose worktree holds `path` (the innermost, should worktrees nest). */
async function holding(records: EnvRecord[], path: string): Promise<EnvRecord[]> {
  const roots = await Promise.all(
    records.map(async (r) => ({ record: r, roots: [r.worktree, await realpath(r.worktree).catch(() => r.worktree)] })),
  );
  const inside = roots
    .map(({ record, roots }) => ({ record, root: roots.find((root) => path === root || path.startsWith(root + sep)) }))
    .filter((m): m is { record: EnvRecord; root: string } => m.root !== undefined)
    .sort((a, b) => b.root.length - a.root.length);
  return inside.slice(0, 1).map((m) => m.record);
}
