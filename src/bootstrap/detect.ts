import { posix } from 'node:path';
import { detectNextApps, type NextApp } from './adapters/nextjs.ts';
import { parseSupabaseConfig, pickSupabaseConfig, type SupabaseProject } from './adapters/supabase.ts';
import { parseTurboConfig, type TurboConfig } from './adapters/turbo.ts';
import { filesNamedAtCommit, readAtCommit } from './git-files.ts';

/** What bootstrap knows about a repository's stack at one commit. */
export interface StackFacts {
  /** Next.js apps (any workspace package depending on `next`). */
  nextApps: NextApp[];
  /** The Supabase CLI project the env runs, when there is one and the adapter is on. */
  supabase?: SupabaseProject;
  /** turbo.json at the repository root. */
  turbo?: TurboConfig;
  warnings: string[];
}

/**
 * Detects the stack from the files of `commit` (so `plan` knows it before any worktree exists): one
 * `git ls-tree` and one `git cat-file --batch`. Malformed config.toml or turbo.json is the user's to fix
 * (CONFIG_INVALID); a malformed package.json is a warning.
 */
export async function detectStack(
  env: NodeJS.ProcessEnv,
  cwd: string,
  commit: string,
  config: { supabase?: { enabled?: boolean; dir?: string } } = {},
): Promise<StackFacts> {
  const paths = await filesNamedAtCommit(env, cwd, commit, ['package.json', 'turbo.json', 'turbo.jsonc', 'config.toml']);
  const packages = paths.filter((p) => posix.basename(p) === 'package.json');
  const supabasePath = pickSupabaseConfig(paths, config.supabase);
  const turboPath = ['turbo.json', 'turbo.jsonc'].find((p) => paths.includes(p));
  const files = await readAtCommit(env, cwd, commit, [
    ...packages,
    ...(supabasePath ? [supabasePath] : []),
    ...(turboPath ? [turboPath] : []),
  ]);
  const text = (path: string) => files.get(path)?.toString('utf8');
  const next = detectNextApps(packages.flatMap((path) => (files.has(path) ? [{ path, text: text(path) as string }] : [])));
  const facts: StackFacts = { nextApps: next.apps, warnings: [...next.warnings] };
  if (supabasePath && files.has(supabasePath)) {
    facts.supabase = parseSupabaseConfig(text(supabasePath) as string, supabasePath);
    facts.warnings.push(...facts.supabase.warnings);
  }
  if (turboPath && files.has(turboPath)) facts.turbo = parseTurboConfig(text(turboPath) as string, turboPath, text('package.json'));
  return facts;
}
