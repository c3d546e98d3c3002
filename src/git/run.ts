import { EnvsError } from '../errors.ts';
import { run } from '../process/run.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitRunOptions {
  cwd: string;
  /** The environment git runs with (the caller's, never process.env; see gitEnv). */
  env: NodeJS.ProcessEnv;
  input?: string;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
}

/** git in the given environment, in the C locale (stable messages), never prompting, without taking optional locks. */
function gitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };
}

const HALF_MADE_ENTRY = /failed to read .*worktrees\/[^/\s]+\/(commondir|gitdir)/;

/** Runs git with an argument array. A non-zero exit outside `okCodes` becomes GIT_FAILED in git's own words. */
export async function runGit(args: string[], options: GitRunOptions): Promise<GitResult> {
  const once = () =>
    run('git', args, {
      cwd: options.cwd,
      env: gitEnv(options.env),
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
  let result = await once();
  // `git worktree add` writes its entry's files one after another: a `worktree` command of another envs process
  // reading the entries at that moment fails on a file not there yet. The entry is whole a moment later.
  for (let attempt = 1; args[0] === 'worktree' && result.exitCode !== 0 && HALF_MADE_ENTRY.test(result.stderr) && attempt <= 6; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    result = await once();
  }
  if (result.exitCode === undefined) throw cannotRun(result.spawnError);
  if (result.exitCode !== 0 && !(options.okCodes ?? []).includes(result.exitCode)) throw gitFailure(args, result.stderr);
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
}

/** Runs git and returns raw stdout bytes (for `cat-file --batch`, whose sizes are in bytes). */
export async function runGitBuffer(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input: string }): Promise<Buffer> {
  const result = await run('git', args, { cwd: options.cwd, env: gitEnv(options.env), input: options.input, bytes: true });
  if (result.exitCode === undefined) throw cannotRun(result.spawnError);
  if (result.exitCode !== 0) throw gitFailure(args, result.stderr);
  return result.stdout;
}

export function gitFailure(args: string[], stderr: string): EnvsError {
  const said = stderr.trim().replace(/^(fatal|error): /gm, '') || 'no output';
  return new EnvsError('GIT_FAILED', `git ${args[0]} failed: ${said}`, {
    hint: "The message above is git's own; fix what it names and run the command again.",
  });
}

function cannotRun(error: NodeJS.ErrnoException | undefined): EnvsError {
  if (error?.code === 'ENOENT' && error.path === 'git') {
    return new EnvsError('GIT_FAILED', 'git is not installed (or not on PATH).', { hint: 'Install git 2.36 or later.', cause: error });
  }
  // spawn fails with ENOENT too when the working directory does not exist.
  return new EnvsError('NOT_A_GIT_REPO', `Could not run git here: ${error?.message ?? 'unknown error'}.`, {
    hint: 'Run envs inside a git repository that exists.',
    cause: error,
  });
}
