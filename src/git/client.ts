import { statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type {
  AddWorktree,
  BranchMerge,
  GitClient,
  HiddenEdit,
  KeepTip,
  KeptRef,
  MergeQuery,
  RepoInfo,
  StatusEntry,
  TreeRead,
  WorktreeEntry,
  WorktreeInspection,
} from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { hiddenEdits, readIndex } from './hidden.ts';
import { forgetWorktree, inspectWorktree, keepCommits } from './inspect.ts';
import { mergeStatus } from './merged.ts';
import { parseCatFileBatch, parseStatus, parseWorktreeList } from './porcelain.ts';
import { runGit, runGitBuffer } from './run.ts';

/** Finds the repository that contains `cwd`: its main checkout and common git dir. git runs with `env`. */
export async function openRepo(cwd: string, env: NodeJS.ProcessEnv): Promise<RepoInfo> {
  // Synchronous on purpose: git is spawned within this call, so callers can load code while it runs.
  const found = statSync(cwd, { throwIfNoEntry: false });
  if (!found?.isDirectory()) {
    throw new EnvsError('NOT_A_GIT_REPO', `${cwd} ${found ? 'is not a directory' : 'does not exist'}.`, {
      hint: 'Run envs inside a git repository (or pass -C <dir> with a directory of one).',
    });
  }
  const result = await runGit(['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel'], {
    cwd,
    env,
    okCodes: [128],
  });
  if (result.exitCode !== 0) {
    const bare = await runGit(['rev-parse', '--is-bare-repository'], { cwd, env, okCodes: [128] });
    if (bare.stdout.trim() === 'true') {
      throw new EnvsError('NOT_A_GIT_REPO', `${cwd} is a bare repository: envs needs a checkout to make worktrees beside.`, {
        hint: 'Run envs in a clone with a working tree (`git clone <this> <dir>`), or in one of its worktrees (`git worktree list`).',
      });
    }
    throw new EnvsError('NOT_A_GIT_REPO', `${cwd} is not inside a git repository.`, {
      hint: "Run envs from your project's checkout (or pass -C <dir>); `git init` makes a new one.",
    });
  }
  const [commonDirRaw] = result.stdout.split('\n');
  if (!commonDirRaw) throw new Error(`unexpected rev-parse output: ${result.stdout}`);
  const commonDir = await realpath(commonDirRaw);
  // Non-bare: the main checkout holds `.git`. Bare: the repository directory itself stands for it.
  const root = basename(commonDir) === '.git' ? dirname(commonDir) : commonDir;
  return { root, commonDir };
}

export class CliGitClient implements GitClient {
  readonly repo: RepoInfo;
  private readonly env: NodeJS.ProcessEnv;

  /** `env`: the environment every git call runs with (the library's `env` option, never process.env). */
  constructor(repo: RepoInfo, env: NodeJS.ProcessEnv) {
    this.repo = repo;
    this.env = env;
  }

  private run(args: string[], okCodes?: number[]) {
    return runGit(args, { cwd: this.repo.root, env: this.env, ...(okCodes ? { okCodes } : {}) });
  }

  async checkBranchName(branch: string): Promise<string | undefined> {
    const result = await this.run(['check-ref-format', '--branch', branch], [1, 128]);
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async resolveCommit(ref: string): Promise<string | undefined> {
    if (ref.startsWith('-')) return undefined;
    const result = await this.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], [1, 128]);
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async branchState(branch: string): Promise<{ local?: string; remote?: string }> {
    const result = await this.run(['for-each-ref', '--format=%(refname)', `refs/heads/${branch}`, `refs/remotes/origin/${branch}`]);
    const refs = new Set(result.stdout.split('\n').filter(Boolean));
    return {
      ...(refs.has(`refs/heads/${branch}`) ? { local: branch } : {}),
      ...(refs.has(`refs/remotes/origin/${branch}`) ? { remote: `origin/${branch}` } : {}),
    };
  }

  async defaultBranch(): Promise<string> {
    return (await this.defaultBase()).ref;
  }

  async defaultBase(): Promise<{ ref: string; commit?: string }> {
    const result = await this.run([
      'for-each-ref',
      '--format=%(refname)%00%(symref)%00%(objecttype)%00%(objectname)',
      'refs/remotes/origin/HEAD',
      'refs/heads/main',
      'refs/heads/master',
    ]);
    const refs = new Map(
      result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [name = '', symref = '', type, oid] = line.split('\0');
          return [name, { symref, ...(type === 'commit' && oid ? { commit: oid } : {}) }] as const;
        }),
    );
    const originHead = refs.get('refs/remotes/origin/HEAD')?.symref;
    if (originHead) {
      const remoteBranch = originHead.replace(/^refs\/remotes\/origin\//, '');
      const local = await this.branchState(remoteBranch);
      return { ref: local.local ?? `origin/${remoteBranch}` };
    }
    for (const name of ['main', 'master']) {
      const found = refs.get(`refs/heads/${name}`);
      if (found) return { ref: name, ...(found.commit ? { commit: found.commit } : {}) };
    }
    const main = (await this.worktrees())[0];
    if (main?.branch && main.head && !/^0+$/.test(main.head)) return { ref: main.branch };
    if (main?.branch) {
      throw new EnvsError('EMPTY_REPO', `${this.repo.root} has no commits yet: envs makes each env's worktree from a commit.`, {
        hint: 'Make a first commit (`git commit --allow-empty -m init` will do), then run the command again.',
      });
    }
    throw new EnvsError('UNKNOWN_REF', "Could not tell this repository's default branch.", {
      hint: 'Pass --from <ref> to say which commit new branches start from.',
    });
  }

  async worktrees(): Promise<WorktreeEntry[]> {
    const result = await this.run(['worktree', 'list', '--porcelain', '-z']);
    return parseWorktreeList(result.stdout);
  }

  async addWorktree(options: AddWorktree): Promise<void> {
    const args = ['worktree', 'add', '--quiet'];
    if (options.newBranchFrom !== undefined) {
      args.push(options.track ? '--track' : '--no-track', '-b', options.branch, '--', options.path, options.newBranchFrom);
    } else {
      args.push('--', options.path, options.branch);
    }
    await this.run(args);
  }

  async removeWorktree(path: string, force: boolean): Promise<void> {
    await this.run(['worktree', 'remove', ...(force ? ['--force'] : []), '--', path]);
  }

  async pruneWorktrees(): Promise<void> {
    await this.run(['worktree', 'prune']);
  }

  async deleteBranchIfAt(branch: string, oid: string): Promise<boolean> {
    const result = await this.run(['update-ref', '-d', `refs/heads/${branch}`, oid], [1, 128]);
    return result.exitCode === 0;
  }

  async status(worktree: string): Promise<StatusEntry[]> {
    const result = await runGit(
      ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=matching', '--ignore-submodules=none'],
      { cwd: resolve(worktree), env: this.env },
    );
    return parseStatus(result.stdout);
  }

  async readTree(commit: string, paths: string[]): Promise<Map<string, TreeRead>> {
    if (paths.length === 0) return new Map();
    const input = paths.map((path) => `${commit}:${path}\n`).join('');
    const output = await runGitBuffer(['cat-file', '--batch', '--follow-symlinks'], { cwd: this.repo.root, env: this.env, input });
    return parseCatFileBatch(output, paths);
  }

  async listFiles(commit: string): Promise<string[]> {
    const result = await this.run(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit]);
    return result.stdout.split('\0').filter(Boolean);
  }

  async ignored(dir: string, paths: string[]): Promise<Set<string>> {
    if (paths.length === 0) return new Set();
    // Exit 1: none of them is ignored. `--no-index` is not given: a tracked file is never "ignored".
    const result = await runGit(['check-ignore', '-z', '--stdin'], {
      env: this.env,
      cwd: dir,
      input: paths.map((p) => `${p}\0`).join(''),
      okCodes: [1],
    });
    return new Set(result.stdout.split('\0').filter(Boolean));
  }

  async mergeStatus(base: string, queries: MergeQuery[]): Promise<Map<string, BranchMerge>> {
    // The default branch is never pruned for being "merged" into another base (main into develop).
    const defaultBranch = await this.defaultBranch().catch(() => undefined);
    return mergeStatus(this.repo.root, this.env, base, queries, defaultBranch ? [defaultBranch] : []);
  }

  async commitTimes(shas: string[]): Promise<Map<string, number>> {
    const wanted = shas.filter((sha) => /^[0-9a-f]{40,64}$/.test(sha));
    if (wanted.length === 0) return new Map();
    // --ignore-missing: a commit gone since it was read (gc, a re-clone) is skipped, not an error for all.
    const result = await this.run(['log', '--no-walk=unsorted', '--ignore-missing', '--format=%H %ct', ...wanted]);
    const times = new Map<string, number>();
    for (const line of result.stdout.split('\n')) {
      const [sha, seconds] = line.split(' ');
      if (sha && seconds) times.set(sha, Number(seconds) * 1000);
    }
    return times;
  }

  async hiddenEdits(worktree: string): Promise<HiddenEdit[]> {
    return hiddenEdits(resolve(worktree), await readIndex(resolve(worktree), this.env), this.env);
  }

  inspectWorktree(path: string): Promise<WorktreeInspection> {
    return inspectWorktree(this.repo, resolve(path), this.env);
  }

  keepCommits(prefix: string, tips: KeepTip[]): Promise<KeptRef[]> {
    return keepCommits(this.repo, prefix, tips, this.env);
  }

  forgetWorktree(path: string): Promise<void> {
    return forgetWorktree(this.repo, resolve(path), this.env);
  }
}
