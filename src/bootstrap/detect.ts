import { posix } from 'node:path';
import type { GitClient } from '../core/deps.ts';
import { detectNextApps, type NextApp } from './adapters/nextjs.ts';
import { parseSupabaseConfig, pickSupabaseConfig, type SupabaseProject } from './adapters/supabase.ts';
import { parseTurboConfig, type TurboConfig } from './adapters/turbo.ts';

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
  git: Pick<GitClient, 'listFiles' | 'readTree'>,
  commit: string,
  config: { supabase?: { enabled?: boolean; dir?: string } } = {},
): Promise<StackFacts> {
  const names = new Set(['package.json', 'turbo.json', 'turbo.jsonc', 'config.toml']);
  const paths = (await git.listFiles(commit)).filter((p) => names.has(posix.basename(p)) && !p.split('/').includes('node_modules'));
  const packages = paths.filter((p) => posix.basename(p) === 'package.json');
  const supabasePath = pickSupabaseConfig(paths, config.supabase);
  const turboPath = ['turbo.json', 'turbo.jsonc'].find((p) => paths.includes(p));
  const read = await git.readTree(commit, [...packages, ...(supabasePath ? [supabasePath] : []), ...(turboPath ? [turboPath] : [])]);
  // A link leaving the repository is no file of it: left out.
  const files = new Map([...read].flatMap(([path, entry]) => (entry.kind === 'blob' ? [[path, entry.content] as const] : [])));
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
