import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative } from 'node:path';
import { EnvsError } from '../errors.ts';
import { type AddressChange, type AddressMap, rewriteVariables } from './addresses.ts';
import { parseEnv, splitManagedBlock, withManagedBlock } from './dotenv-format.ts';
import { ignoredAmong, listIgnoredMatching, listIncluded, matchingPatterns, trackedAmong, trackedAtCommit } from './git-files.ts';

/**
 * Env files: the gitignored files a fresh worktree lacks (`git worktree add` copies tracked files only),
 * copied from the main checkout, with values that point at the main checkout's ports rewritten to the
 * env's in a managed block.
 *
 * Which files: a default set (`.env`, `.env.*` except examples/samples/templates, `.dev.vars*`, in any
 * directory, so every workspace package and `supabase/`, `supabase/functions/` too), the repository's
 * `.worktreeinclude` (gitignore syntax, as Claude Code reads it: files that match it AND that git ignores)
 * and `copy:` in envs.yaml (the same rule). git does all the matching.
 *
 * Where rewritten values go: the file a framework reads with the highest priority.
 * - In a Next.js app, `.env.<mode>.local` for each mode whose files hold something to rewrite —
 *   development (what `next dev` runs), test (so `NODE_ENV=test` runs never reach the main checkout's
 *   database) and production (`next build` inlines NEXT_PUBLIC_* values). Each holds the rewritten values
 *   of that mode's effective variables, merged in Next's order; the copied files stay byte-identical to
 *   the main checkout's.
 * - Anywhere else, the copied file itself: no other reader has a priority scheme we can rely on (Compose
 *   env_file, the Supabase CLI, wrangler, python-dotenv read the file they read), and a block at the end
 *   of the file wins because every dotenv reader keeps the last of duplicate keys.
 * `envFiles.nextjs: in-place` treats Next.js apps like anything else.
 */

export const DEFAULT_PATTERNS = ['**/.env', '**/.env.*', '**/.dev.vars', '**/.dev.vars.*'] as const;
export const DEFAULT_EXCLUDES = ['**/*.example', '**/*.sample', '**/*.template', '**/node_modules/**'] as const;

/** Next.js reads these per mode, lowest priority first; the last is where envs writes (its top priority). */
export const NEXT_CHAINS = {
  development: ['.env', '.env.development', '.env.local', '.env.development.local'],
  test: ['.env', '.env.test', '.env.test.local'],
  production: ['.env', '.env.production', '.env.local', '.env.production.local'],
} as const;

export interface EnvFilesOptions {
  /** The environment git runs with (the library's, never process.env). */
  env: NodeJS.ProcessEnv;
  /** `copy:` in envs.yaml: gitignore-syntax patterns. */
  copy?: readonly string[];
  /** Copy the default set (default true). */
  defaults?: boolean;
  /** gitignore-syntax patterns never copied, whatever matched them. */
  exclude?: readonly string[];
  /** Where a Next.js app's rewritten values go (default `mode-local`). */
  nextjs?: 'mode-local' | 'in-place';
}

export interface SourceFile {
  /** Repository-relative (POSIX); the same path in the main checkout and the worktree. */
  path: string;
  from: 'default' | '.worktreeinclude' | 'copy';
  content: Buffer;
  /** A symlink in the main checkout: the repository-relative file it resolves to. */
  via?: string;
}

/** The main checkout's files to copy, as read once (plan), and those it passed over. */
export interface CollectedSources {
  sources: SourceFile[];
  skipped: SkippedFile[];
}

export interface SkippedFile {
  path: string;
  reason: string;
}

/** Whether a file is read as dotenv (and so gets rewritten); other included files are copied byte for byte. */
export function isDotenvName(path: string): boolean {
  const name = posix.basename(path);
  if (name === '.env' || name === '.dev.vars' || name.startsWith('.dev.vars.')) return true;
  return name.startsWith('.env.') && !/\.(example|sample|template)$/.test(name);
}

function insideDir(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The files to copy from the main checkout, read. A symlink is followed only to a file inside the
 * repository; one pointing outside is skipped (its content is the user's to share, not ours to spread).
 */
export async function collectSources(repo: string, options: EnvFilesOptions): Promise<CollectedSources> {
  const skipped: SkippedFile[] = [];
  const from = new Map<string, SourceFile['from']>();
  if (options.defaults !== false) {
    for (const path of await listIgnoredMatching(options.env, repo, DEFAULT_PATTERNS, DEFAULT_EXCLUDES)) from.set(path, 'default');
  }
  const includeFile = join(repo, '.worktreeinclude');
  const lists = [
    existsSync(includeFile)
      ? { tag: '.worktreeinclude' as const, found: await listIncluded(options.env, repo, { excludeFrom: includeFile }) }
      : undefined,
    options.copy?.length ? { tag: 'copy' as const, found: await listIncluded(options.env, repo, { patterns: options.copy }) } : undefined,
  ];
  for (const list of lists) {
    if (!list) continue;
    for (const path of list.found.ignored) if (!from.has(path)) from.set(path, list.tag);
    for (const path of list.found.notIgnored) {
      skipped.push({ path, reason: `matches ${list.tag} but git does not ignore it (it would show as an untracked file in the worktree)` });
    }
  }
  const excluded = await matchingPatterns(options.env, repo, [...from.keys()], options.exclude ?? []);
  const root = await realpath(repo);
  const sources: SourceFile[] = [];
  for (const [path, tag] of [...from].sort(([a], [b]) => a.localeCompare(b))) {
    if (excluded.has(path)) continue;
    const read = await readSource(root, path);
    if ('reason' in read) skipped.push({ path, reason: read.reason });
    else sources.push({ path, from: tag, content: read.content, ...(read.via ? { via: read.via } : {}) });
  }
  return { sources, skipped };
}

async function readSource(root: string, path: string): Promise<{ content: Buffer; via?: string } | { reason: string }> {
  const full = join(root, path);
  const info = await lstat(full).catch(() => undefined);
  if (!info) return { reason: 'it disappeared while envs was reading it' };
  let target = full;
  let via: string | undefined;
  if (info.isSymbolicLink()) {
    const resolved = await realpath(full).catch(() => undefined);
    if (!resolved) return { reason: 'it is a symlink to nothing' };
    if (!insideDir(root, resolved)) return { reason: 'it is a symlink to a file outside the repository' };
    target = resolved;
    via = relative(root, resolved).split('\\').join('/');
  }
  const targetInfo = await stat(target);
  if (!targetInfo.isFile()) return { reason: 'it is not a regular file' };
  return { content: await readFile(target), ...(via ? { via } : {}) };
}

/** What envs wrote: destroy compares the hash to tell "as envs wrote it" from "edited by the user". */
export interface WrittenFile {
  path: string;
  sha256: string;
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface PlannedFile {
  path: string;
  /** undefined: remove the file (it held only envs's block, which is now empty). */
  content?: Buffer;
  /** Copied from the main checkout (else: made or kept by envs in the worktree). */
  copiedFrom?: string;
  /** Variables in its managed block. */
  block: Record<string, string>;
  /** The worktree already holds exactly this content: nothing to write. */
  unchanged?: boolean;
  /** All of it is envs's making (no user edits in it): recorded, so destroy may remove it. */
  ours?: boolean;
}

export interface EnvFilesPlan {
  files: PlannedFile[];
  /** Every rewritten variable (raw values: show through redactChange). */
  changes: AddressChange[];
  skipped: SkippedFile[];
  warnings: string[];
}

export interface PlanInput {
  sources: readonly SourceFile[];
  /** Next.js app directories whose values go to `.env.<mode>.local` (see `modeLocalDirs`). */
  modeLocal: readonly string[];
  map: AddressMap;
  /** Names the env in the block's marker line, e.g. `env feat-login-3f9a2c`. */
  label: string;
  /** Current content of destination files in the worktree (a re-run); absent: the file does not exist. */
  existing?: ReadonlyMap<string, Buffer>;
  /** What envs wrote last time. */
  previous?: readonly WrittenFile[];
}

/** Paths a plan may write besides the sources: each Next.js app's `.env.<mode>.local`. */
export function modeTargets(nextApps: readonly string[]): string[] {
  return nextApps.flatMap((dir) => Object.values(NEXT_CHAINS).map((chain) => posix.join(dir, chain[chain.length - 1] as string)));
}

/**
 * The Next.js apps whose rewritten values can go to `.env.<mode>.local`: all of them, unless configured
 * `in-place`, except those where git (at `cwd`) would not ignore those files — writing them would dirty
 * the worktree, so those apps get blocks in their copied files instead.
 */
export async function modeLocalDirs(
  env: NodeJS.ProcessEnv,
  cwd: string,
  nextApps: readonly string[],
  nextjs: EnvFilesOptions['nextjs'],
): Promise<{ dirs: string[]; warnings: string[] }> {
  if (nextjs === 'in-place' || nextApps.length === 0) return { dirs: [], warnings: [] };
  const ignored = await ignoredAmong(env, cwd, modeTargets(nextApps));
  const dirs: string[] = [];
  const warnings: string[] = [];
  for (const dir of nextApps) {
    const open = modeTargets([dir]).filter((t) => !ignored.has(t));
    if (open.length === 0) dirs.push(dir);
    else
      warnings.push(
        `${open.join(', ')} not ignored by git; ${dir || 'the root app'}'s rewritten values go into its copied env files instead.`,
      );
  }
  return { dirs, warnings };
}

/**
 * Decides every file's content. Pure. A file is envs's (`ours`) when its content is exactly what envs makes
 * from scratch — so a re-run after a crash still claims what it wrote, and a file holding the user's edits
 * is never claimed (destroy must not take it for disposable).
 */
export function planEnvFiles(input: PlanInput): EnvFilesPlan {
  const plan = planContents(input);
  if (!input.existing?.size) {
    for (const file of plan.files) file.ours = true;
    return plan;
  }
  const fresh = new Map(planContents({ ...input, existing: new Map(), previous: [] }).files.map((f) => [f.path, f.content]));
  for (const file of plan.files) {
    const scratch = fresh.get(file.path);
    file.ours = file.content !== undefined && scratch?.equals(file.content) === true;
  }
  return plan;
}

function planContents(input: PlanInput): EnvFilesPlan {
  const warnings: string[] = [];
  const changes: AddressChange[] = [];
  const previous = new Map((input.previous ?? []).map((w) => [w.path, w.sha256]));
  const files = new Map<string, PlannedFile>();
  /** The user's part of each dotenv file as it will be in the worktree. */
  const userText = new Map<string, string>();
  const broken = new Set<string>();

  const baseOf = (path: string, fresh: Buffer | undefined): { content?: Buffer; copied: boolean } => {
    const current = input.existing?.get(path);
    if (current === undefined) return { ...(fresh ? { content: fresh } : {}), copied: fresh !== undefined };
    // Ours and unchanged since: refreshed from the main checkout. Otherwise the user's (or the branch's) file stays.
    if (fresh && previous.get(path) === sha256(current)) return { content: fresh, copied: true };
    if (fresh && previous.has(path)) warnings.push(`${path} was edited in the worktree; kept as it is (only envs's block is refreshed).`);
    return { content: current, copied: false };
  };

  for (const source of input.sources) {
    const base = baseOf(source.path, source.content);
    files.set(source.path, {
      path: source.path,
      content: base.content as Buffer,
      ...(base.copied ? { copiedFrom: source.via ?? source.path } : {}),
      block: {},
    });
    if (isDotenvName(source.path)) {
      const split = splitManagedBlock((base.content as Buffer).toString('utf8'));
      if (split.problem) {
        warnings.push(`${source.path}: ${split.problem}; left as it is, not rewritten.`);
        broken.add(source.path);
      } else userText.set(source.path, split.user);
    }
  }

  const inChain = new Set<string>();
  for (const dir of [...new Set(input.modeLocal)].sort()) {
    for (const chain of Object.values(NEXT_CHAINS)) {
      const paths = chain.map((name) => posix.join(dir, name));
      for (const p of paths) inChain.add(p);
      const target = paths[paths.length - 1] as string;
      if (!userText.has(target) && !broken.has(target)) {
        const existing = input.existing?.get(target);
        if (existing !== undefined) {
          const split = splitManagedBlock(existing.toString('utf8'));
          if (split.problem) {
            warnings.push(`${target}: ${split.problem}; left as it is, not rewritten.`);
            broken.add(target);
          } else userText.set(target, split.user);
        }
      }
      if (broken.has(target)) continue;
      const effective = Object.assign({}, ...paths.map((p) => (userText.has(p) ? parseEnv(userText.get(p) as string) : {})));
      const rewritten = rewriteVariables(input.map, target, effective, { side: 'host', barePorts: true });
      setBlock(target, rewritten.changes);
    }
  }
  for (const path of userText.keys()) {
    if (inChain.has(path)) continue;
    const rewritten = rewriteVariables(input.map, path, parseEnv(userText.get(path) as string), { side: 'host', barePorts: true });
    setBlock(path, rewritten.changes);
  }

  function setBlock(path: string, found: AddressChange[]): void {
    changes.push(...found);
    const block = Object.fromEntries(found.map((c) => [c.key, c.after]));
    const made = withManagedBlock(userText.get(path) ?? '', block, input.label);
    for (const key of made.unwritable) {
      warnings.push(`${path}: ${key} cannot be written so that both dotenv and Compose read it unchanged; set it with env: in envs.yaml.`);
    }
    const planned: PlannedFile = files.get(path) ?? { path, block: {} };
    planned.block = Object.fromEntries(Object.entries(block).filter(([key]) => !made.unwritable.includes(key)));
    const isSource = files.has(path);
    const exists = input.existing?.has(path) ?? false;
    if (isSource) planned.content = Buffer.from(made.text);
    else if (made.text !== '') planned.content = Buffer.from(made.text);
    else if (exists && previous.has(path))
      delete planned.content; // it held only our block: gone with it
    else return; // nothing to write, nothing to remove
    files.set(path, planned);
  }

  // A file already in the worktree exactly as planned needs no write, and is still envs's to record.
  for (const file of files.values()) {
    const current = input.existing?.get(file.path);
    if (current !== undefined && file.content !== undefined && current.equals(file.content)) file.unchanged = true;
  }
  return {
    files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)),
    changes,
    skipped: [],
    warnings: [...new Set(warnings)],
  };
}

/** Refuses, before anything is written, to put a file where the branch tracks one. */
function refuseTracked(tracked: readonly string[], where: string): void {
  if (tracked.length === 0) return;
  throw new EnvsError(
    'ENV_FILE_TRACKED',
    `envs would copy ${tracked.length === 1 ? 'a file' : 'files'} over ${where}: ${tracked.join(', ')}.`,
    {
      hint: 'An env file the branch tracks must not be overwritten. Stop tracking it on the branch (git rm --cached), or keep envs from copying it with envFiles.exclude in envs.yaml.',
      details: { files: [...tracked] },
    },
  );
}

export interface PreviewInput extends EnvFilesOptions {
  /** The main checkout. */
  repo: string;
  /** The commit the env's worktree will check out: a file tracked there is refused now, before anything exists. */
  commit?: string;
  nextApps: readonly string[];
  map: AddressMap;
  label: string;
  /** The sources read moments ago (create's plan reads them once, beside its other reads): not read again. */
  collected?: CollectedSources;
}

/** For `plan`: what `applyEnvFiles` would write into a fresh worktree. Reads only. */
export async function previewEnvFiles(input: PreviewInput): Promise<EnvFilesPlan> {
  const { sources, skipped } = input.collected ?? (await collectSources(input.repo, input));
  // Before the worktree exists, the main checkout's ignore rules stand in for the branch's.
  const local = await modeLocalDirs(input.env, input.repo, input.nextApps, input.nextjs);
  const plan = planEnvFiles({ ...input, sources, modeLocal: local.dirs });
  plan.warnings.unshift(...local.warnings);
  if (input.commit) {
    const tracked = await trackedAtCommit(
      input.env,
      input.repo,
      input.commit,
      plan.files.map((f) => f.path),
    );
    refuseTracked([...tracked].sort(), `files the branch tracks at ${input.commit.slice(0, 12)}`);
  }
  return { ...plan, skipped: [...skipped, ...plan.skipped] };
}

export interface ApplyInput extends PreviewInput {
  worktree: string;
  /** The env record's `WrittenFile`s from the last run (resume, `up`). */
  previous?: readonly WrittenFile[];
}

export interface ApplyResult {
  plan: EnvFilesPlan;
  /**
   * Every file in the worktree that is wholly envs's making, with the hash of its content: record it.
   * Files holding the user's lines (envs only refreshed its block there) are not listed.
   */
  written: WrittenFile[];
  skipped: SkippedFile[];
  warnings: string[];
}

/**
 * Copies and writes the env files into the worktree. Idempotent: a re-run refreshes files still as envs
 * wrote them, keeps the user's edits, and replaces only envs's block. Refuses (nothing written) when a
 * destination is tracked in the worktree; skips, with a reason, destinations the branch does not ignore
 * (they would make the worktree dirty) and destinations that are symlinks or lie outside the worktree.
 * Files are written 0600, new directories 0700.
 */
export async function applyEnvFiles(input: ApplyInput): Promise<ApplyResult> {
  const worktree = await realpath(input.worktree);
  const { sources, skipped } = input.collected
    ? { sources: input.collected.sources, skipped: [...input.collected.skipped] }
    : await collectSources(input.repo, input);
  const local = await modeLocalDirs(input.env, worktree, input.nextApps, input.nextjs);
  const candidates = [...new Set([...sources.map((s) => s.path), ...modeTargets(local.dirs)])];
  const existing = new Map<string, Buffer>();
  const unsafe = new Map<string, string>();
  for (const path of candidates) {
    const why = await unsafeDestination(worktree, path);
    if (why) unsafe.set(path, why);
    else {
      const content = await readFile(join(worktree, path)).catch(() => undefined);
      if (content !== undefined) existing.set(path, content);
    }
  }
  const plan = planEnvFiles({ ...input, sources: sources.filter((s) => !unsafe.has(s.path)), modeLocal: local.dirs, existing });
  plan.files = plan.files.filter((f) => !unsafe.has(f.path));
  plan.warnings.unshift(...local.warnings);
  for (const [path, reason] of unsafe) skipped.push({ path, reason });

  const paths = plan.files.map((f) => f.path);
  // Every path envs would copy to or write, checked before the first write.
  const tracked = await trackedAmong(input.env, worktree, [...new Set([...sources.map((s) => s.path), ...paths])]);
  refuseTracked([...tracked].sort(), 'files the worktree tracks');
  const ignored = await ignoredAmong(input.env, worktree, paths);
  const written: WrittenFile[] = [];
  for (const file of plan.files) {
    if (!ignored.has(file.path)) {
      skipped.push({ path: file.path, reason: 'the branch does not ignore it (it would show as an untracked file in the worktree)' });
      continue;
    }
    const full = join(worktree, file.path);
    if (file.content === undefined) {
      await rm(full, { force: true });
      continue;
    }
    if (!file.unchanged) await writePrivate(worktree, full, file.content);
    if (file.ours) written.push({ path: file.path, sha256: sha256(file.content) });
  }
  return { plan, written, skipped, warnings: plan.warnings };
}

/** Why a destination cannot be written safely, or undefined. */
async function unsafeDestination(worktree: string, path: string): Promise<string | undefined> {
  const full = join(worktree, path);
  if (!insideDir(worktree, full) || path.split('/').includes('..')) return 'its path leaves the worktree';
  const info = await lstat(full).catch(() => undefined);
  if (info?.isSymbolicLink()) return 'in the worktree it is a symlink; envs does not write through symlinks';
  if (info && !info.isFile()) return 'in the worktree it is not a regular file';
  // The nearest existing directory must resolve inside the worktree (a tracked symlinked directory must not lead out).
  let dir = dirname(full);
  while (!existsSync(dir)) dir = dirname(dir);
  if (!insideDir(worktree, await realpath(dir))) return 'its directory in the worktree resolves outside the worktree';
  return undefined;
}

/** Atomic write, mode 0600, missing directories 0700. */
async function writePrivate(worktree: string, full: string, content: Buffer): Promise<void> {
  await mkdir(dirname(full), { recursive: true, mode: 0o700 });
  if (!insideDir(worktree, await realpath(dirname(full)))) throw new Error(`refusing to write outside the worktree: ${full}`);
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.${randomBytes(4).toString('hex')}.envs-tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, full);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
