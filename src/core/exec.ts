import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { supabaseEnvFor } from '../bootstrap/adapters/supabase.ts';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';
import type { EnvRecord } from './record.ts';
import { resolveEnv } from './resolve.ts';

export interface ExecTarget {
  record: EnvRecord;
  /** Where the command runs: the caller's directory when it is inside the env's worktree, else the worktree. */
  cwd: string;
  /** The env's variables (secrets included: the command is the user's own). */
  env: Record<string, string>;
}

/**
 * What `envs exec` needs: the env, a directory in its worktree, its variables. Reads only. The env's
 * Supabase CLI variables go to local `supabase` commands (and to commands envs cannot tell), never to ones
 * aimed at a linked remote project; `supabase stop --all` (every env's stack) is refused.
 */
export async function execTarget(deps: Deps, arg: string, cwd = deps.cwd, argv: readonly string[] = []): Promise<ExecTarget> {
  const record = await resolveEnv(deps, arg, cwd);
  const worktree = await realpath(record.worktree).catch(() => undefined);
  if (!worktree || !(await stat(worktree)).isDirectory()) {
    throw new EnvsError('ENV_NOT_FOUND', `${record.branch}'s worktree ${record.worktree} is gone.`, {
      hint: `Remove the rest of the env with \`envs destroy ${record.branch}\`.`,
    });
  }
  const here = await realpath(resolve(cwd)).catch(() => resolve(cwd));
  const inside = here === worktree || here.startsWith(worktree + sep);
  const supabase = record.supabase ? supabaseEnvFor(argv, record.supabase.env) : { env: {} };
  if (supabase.refuse) {
    throw new EnvsError('EXEC_FAILED', `Refused: ${supabase.refuse}`, {
      hint: `Stop this env's stack with \`envs exec ${printable(record.branch)} -- supabase stop\`, or all envs with \`envs down\` for each.`,
    });
  }
  return { record, cwd: inside ? here : worktree, env: { ...record.env, ...supabase.env } };
}

/** The command of `envs exec` (or the MCP tool) could not be started: missing (127) or not runnable (126). */
export function execFailed(file: string, spawnError: { code?: string; message: string }): EnvsError {
  const missing = spawnError.code === 'ENOENT';
  return new EnvsError(
    'EXEC_FAILED',
    `${missing ? 'No such command' : 'Cannot run'}: ${file} (${spawnError.code ?? spawnError.message}).`,
    {
      hint: missing ? 'Is it installed, or on PATH inside the worktree? (node_modules/.bin is not on PATH: use `npx`, `pnpm exec`, …)' : '',
      exitCode: missing ? 127 : 126,
    },
  );
}
