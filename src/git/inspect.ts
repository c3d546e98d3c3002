import { readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { CommitInfo, KeepTip, KeptRef, RepoInfo, StatusEntry, SubmoduleWork, WorktreeInspection } from '../core/deps.ts';
import { GITLINK, hiddenEdits, type IndexEntry, readIndex } from './hidden.ts';
import { parseStatus, parseWorktreeList } from './porcelain.ts';
import { runGit } from './run.ts';

/** Commits named at most; more are counted, not listed. */
const MAX_COMMITS = 1000;
/** Refs git keeps per worktree (they go with it). */
const PER_WORKTREE = ['refs/worktree/', 'refs/bisect/', 'refs/rewritten/'];

/**
 * What removing the worktree at `path` would lose, beyond what `git status` shows:
 * - files marked skip-worktree / assume-unchanged that differ from the index;
 * - commits that only the worktree's detached HEAD or its per-worktree refs reach;
 * - submodules (checked out, or git dirs kept in the worktree's `modules/`): their changes, and their
 *   commits that are on none of their remote-tracking branches.
 * It also says whether the directory is still that worktree. Reads only.
 */
export async function inspectWorktree(repo: RepoInfo, path: string, env: NodeJS.ProcessEnv): Promise<WorktreeInspection> {
  // One round of git processes: the index and status are read as if the path were the worktree, and
  // dropped (errors included) when it turns out not to be.
  const onDisk = isDir(path);
  const guess = <T>(read: () => Promise<T>) => onDisk.then((dir) => (dir ? settle(read()) : undefined));
  const [listed, admin, real, indexRead, statusRead] = await Promise.all([
    runGit(['worktree', 'list', '--porcelain', '-z'], { env, cwd: repo.root }),
    adminDirOf(repo, path),
    canonical(path),
    guess(() => readIndex(path, env)),
    guess(() => statusOf(path, env)),
  ]);
  const entries = parseWorktreeList(listed.stdout);
  const entry = entries.find((e) => e.path === path || e.path === real);
  const others = entries.filter((e) => e !== entry && e.head).map((e) => e.head as string);
  const ours = admin !== undefined && (await pointsAt(path, admin));
  const index = ours ? unsettle(indexRead) : [];
  const status = ours ? unsettle(statusRead) : [];
  const tops = admin ? await perWorktreeTips(admin) : [];

  const [lost, hidden, submodules] = await Promise.all([
    lostCommits(repo.root, tops, others, env),
    ours ? hiddenEdits(path, index, env) : Promise.resolve([]),
    admin ? scanSubmodules(ours ? path : undefined, admin, '', index, env) : Promise.resolve([]),
  ]);
  const modulesKept = admin ? await isDir(join(admin, 'modules')) : false;
  return {
    registered: entry !== undefined || admin !== undefined,
    ours,
    ...(entry?.locked !== undefined ? { locked: entry.locked } : {}),
    status,
    hidden,
    commits: lost.commits,
    tips: tops.filter((t) => lost.shas.has(t.sha)),
    submodules,
    needsForce: ours && (modulesKept || submodules.some((s) => s.checkedOut)),
  };
}

/** Removes git's entry (`$GIT_COMMON_DIR/worktrees/<id>`) for a path that is not that worktree any more. */
export async function forgetWorktree(repo: RepoInfo, path: string, _env: NodeJS.ProcessEnv): Promise<void> {
  const admin = await adminDirOf(repo, path);
  if (!admin) return;
  if (await pointsAt(path, admin)) throw new Error(`${path} is still a worktree of ${repo.root}: remove it, do not forget it`);
  await rm(admin, { recursive: true, force: true });
}

/**
 * Creates `<prefix>/<name>` for each tip, all or none: commits of this repository by `update-ref`, a
 * submodule's by fetching its ref into this repository. Never overwrites a ref. Returns what now exists.
 */
export async function keepCommits(repo: RepoInfo, prefix: string, tips: KeepTip[], env: NodeJS.ProcessEnv): Promise<KeptRef[]> {
  if (tips.length === 0) return [];
  const local = tips.filter((t) => !t.gitDir);
  if (local.length > 0) {
    const input = local.map((t) => `create ${prefix}/${t.name} ${t.sha}\n`).join('');
    await runGit(['update-ref', '--stdin'], { env, cwd: repo.root, input });
  }
  const bySource = new Map<string, KeepTip[]>();
  for (const tip of tips) if (tip.gitDir) bySource.set(tip.gitDir, [...(bySource.get(tip.gitDir) ?? []), tip]);
  for (const [gitDir, from] of bySource) {
    await runGit(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--no-recurse-submodules',
        '--no-auto-maintenance',
        gitDir,
        ...from.map((t) => `${t.source}:${prefix}/${t.name}`),
      ],
      { env, cwd: repo.root },
    );
  }
  const made = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', `${prefix}/`], { env, cwd: repo.root });
  const kept = new Map(
    made.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(line.indexOf(' ') + 1), line.slice(0, line.indexOf(' '))] as const),
  );
  return tips.flatMap((t) => {
    const ref = `${prefix}/${t.name}`;
    const commit = kept.get(ref);
    return commit ? [{ ref, commit, from: t.from }] : [];
  });
}

/** A path made safe as ref components (`check-ref-format` rules), readable. */
export function refSafe(path: string): string {
  const parts = path
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .map((p) =>
      p
        .replace(/[^A-Za-z0-9._+-]/g, '_')
        .replace(/\.\.+/g, '_')
        .replace(/^\./, '_')
        .replace(/\.lock$/, '_lock')
        .replace(/\.$/, '_'),
    );
  return parts.join('/') || '_';
}

// ---------------------------------------------------------------- the worktree's own commits

/** Detached HEAD and per-worktree refs, read from git's entry for the worktree (they go with it). */
async function perWorktreeTips(admin: string): Promise<KeepTip[]> {
  const tips: KeepTip[] = [];
  const head = (await readFile(join(admin, 'HEAD'), 'utf8').catch(() => '')).trim();
  if (isOid(head)) tips.push({ name: 'HEAD', source: 'HEAD', sha: head, from: 'HEAD' });
  for (const [ref, sha] of await looseRefs(join(admin, 'refs'), 'refs')) {
    if (PER_WORKTREE.some((p) => ref.startsWith(p))) tips.push({ name: ref.slice('refs/'.length), source: ref, sha, from: ref });
  }
  return tips;
}

/** Loose ref files under a directory (per-worktree refs are never packed). */
async function looseRefs(dir: string, prefix: string): Promise<[string, string][]> {
  const found: [string, string][] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await looseRefs(path, `${prefix}/${entry.name}`)));
    else {
      const value = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (isOid(value)) found.push([`${prefix}/${entry.name}`, value]);
    }
  }
  return found;
}

/** Commits reachable from the tips and from no ref of the repository nor any other worktree's HEAD. */
async function lostCommits(
  root: string,
  tips: KeepTip[],
  otherHeads: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ commits: CommitInfo[]; shas: Set<string> }> {
  if (tips.length === 0) return { commits: [], shas: new Set() };
  const result = await runGit(
    [
      'log',
      '--format=%H%x00%h%x00%s',
      `--max-count=${MAX_COMMITS}`,
      ...new Set(tips.map((t) => t.sha)),
      '--not',
      '--glob=refs/*',
      ...otherHeads,
      '--',
    ],
    { env, cwd: root },
  );
  const commits = parseCommits(result.stdout);
  return { commits, shas: new Set(commits.map((c) => c.sha)) };
}

function parseCommits(output: string): CommitInfo[] {
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha = '', short = '', subject = ''] = line.split('\0');
      return { sha, short, subject };
    });
}

// ---------------------------------------------------------------- submodules

/**
 * Submodule repositories under a checkout: checked-out gitlinks (their `.git` a file or a directory) and
 * module git dirs kept in `<gitDir>/modules` without a checkout (after `submodule deinit`), recursively.
 */
async function scanSubmodules(
  workdir: string | undefined,
  gitDir: string,
  prefix: string,
  index: IndexEntry[],
  env: NodeJS.ProcessEnv,
): Promise<SubmoduleWork[]> {
  const checkedOut = (
    await Promise.all(
      index
        .filter((e) => e.mode === GITLINK)
        .map(async (e) => {
          if (!workdir) return undefined;
          const dir = join(workdir, ...e.path.split('/'));
          const sub = await gitDirOf(dir);
          return sub ? { path: e.path, dir, gitDir: sub } : undefined;
        }),
    )
  ).filter((s) => s !== undefined);
  const known = new Set(checkedOut.map((s) => s.gitDir));
  const modulesDir = join(gitDir, 'modules');
  const parked = (await moduleGitDirs(modulesDir)).filter((dir) => !known.has(dir));

  const found = await Promise.all([
    ...checkedOut.map(async (s): Promise<SubmoduleWork[]> => {
      const path = prefix + s.path;
      const [status, index, history] = await Promise.all([statusOf(s.dir, env), readIndex(s.dir, env), unpushed(s.gitDir, path, env)]);
      const [hidden, nested] = await Promise.all([hiddenEdits(s.dir, index, env), scanSubmodules(s.dir, s.gitDir, `${path}/`, index, env)]);
      return [{ path, gitDir: s.gitDir, checkedOut: true, status, hidden, ...history }, ...nested];
    }),
    ...parked.map(async (dir): Promise<SubmoduleWork[]> => {
      const path = prefix + relative(modulesDir, dir).split(sep).join('/');
      const [history, nested] = await Promise.all([unpushed(dir, path, env), scanSubmodules(undefined, dir, `${path}/`, [], env)]);
      return [{ path, gitDir: dir, checkedOut: false, status: [], hidden: [], ...history }, ...nested];
    }),
  ]);
  return found.flat();
}

/** Commits of a submodule reachable from its HEAD or branches and from none of its remote-tracking refs. */
async function unpushed(gitDir: string, path: string, env: NodeJS.ProcessEnv): Promise<{ commits: CommitInfo[]; tips: KeepTip[] }> {
  const refs = await runGit(['--git-dir', gitDir, 'show-ref', '--head', '--heads'], { env, cwd: gitDir, okCodes: [1] });
  const heads = refs.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ sha: line.slice(0, line.indexOf(' ')), ref: line.slice(line.indexOf(' ') + 1) }));
  if (heads.length === 0) return { commits: [], tips: [] };
  const result = await runGit(
    [
      '--git-dir',
      gitDir,
      'log',
      '--format=%H%x00%h%x00%s',
      `--max-count=${MAX_COMMITS}`,
      ...new Set(heads.map((h) => h.sha)),
      '--not',
      '--remotes',
      '--',
    ],
    { env, cwd: gitDir },
  );
  const commits = parseCommits(result.stdout);
  const lost = new Set(commits.map((c) => c.sha));
  const base = `modules/${refSafe(path)}`;
  const tips = heads
    .filter((h) => lost.has(h.sha))
    .map((h) => ({
      name: h.ref === 'HEAD' ? `${base}/HEAD` : `${base}/heads/${h.ref.slice('refs/heads/'.length)}`,
      source: h.ref,
      sha: h.sha,
      gitDir,
      from: `submodule ${path}: ${h.ref}`,
    }));
  return { commits, tips };
}

/** Git dirs below a `modules` directory (a module's name may hold slashes); not descending into them. */
async function moduleGitDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (entries.some((e) => e.name === 'HEAD' && e.isFile()) && entries.some((e) => e.name === 'objects')) return [await canonical(dir)];
  const found = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => moduleGitDirs(join(dir, e.name))));
  return found.flat();
}

// ---------------------------------------------------------------- where things are

/** `git status` of a checkout: modified, untracked and ignored entries. */
async function statusOf(dir: string, env: NodeJS.ProcessEnv): Promise<StatusEntry[]> {
  const result = await runGit(
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=matching', '--ignore-submodules=none'],
    { env, cwd: dir },
  );
  return parseStatus(result.stdout);
}

/** git's entry for a worktree path: the `worktrees/<id>` directory whose `gitdir` file names `<path>/.git`. */
async function adminDirOf(repo: RepoInfo, path: string): Promise<string | undefined> {
  const root = join(repo.commonDir, 'worktrees');
  const wanted = new Set([join(path, '.git'), join(await canonical(path), '.git')]);
  for (const id of await readdir(root).catch(() => [] as string[])) {
    const named = (await readFile(join(root, id, 'gitdir'), 'utf8').catch(() => '')).trim();
    if (named && wanted.has(resolve(root, id, named))) return canonical(join(root, id));
  }
  return undefined;
}

/** True when `<path>/.git` is a file pointing at `admin`: the directory is still that worktree. */
async function pointsAt(path: string, admin: string): Promise<boolean> {
  const dir = await gitDirOf(path);
  return dir !== undefined && dir === admin;
}

/** The git dir of a checkout: `.git` itself when a directory, or where a `.git` file points. */
async function gitDirOf(dir: string): Promise<string | undefined> {
  const dotGit = join(dir, '.git');
  const info = await stat(dotGit).catch(() => undefined);
  if (!info) return undefined;
  if (info.isDirectory()) return canonical(dotGit);
  const text = await readFile(dotGit, 'utf8').catch(() => '');
  const match = /^gitdir: (.+)$/m.exec(text);
  return match?.[1] ? canonical(resolve(dir, match[1].trim())) : undefined;
}

/** A path with symlinks resolved as far as it exists. */
async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(await canonical(parent), basename(path));
  }
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unsettle<T>(settled: Settled<T> | undefined): T {
  if (!settled) throw new Error('the worktree vanished while it was inspected');
  if (!settled.ok) throw settled.error;
  return settled.value;
}

function isOid(text: string): boolean {
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text);
}
