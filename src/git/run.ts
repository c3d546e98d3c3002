import { execa } from 'execa';
import { EnvsError } from '../errors.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitRunOptions {
  cwd: string;
  input?: string;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
  encoding?: 'utf8' | 'buffer';
}

/**
 * Runs git with an argument array (never a shell), in the C locale so its messages are stable,
 * without prompts. A non-zero exit outside `okCodes` becomes GIT_FAILED carrying git's own words.
 */
export async function runGit(args: string[], options: GitRunOptions): Promise<GitResult> {
  const result = await execa('git', args, {
    cwd: options.cwd,
    input: options.input,
    reject: false,
    stripFinalNewline: false,
    env: { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
  });
  if (result.failed && result.exitCode === undefined) {
    throw new EnvsError('GIT_FAILED', `Could not run git: ${result.shortMessage}`, {
      hint: 'Install git (2.36 or later) and make sure it is on PATH.',
      cause: result,
    });
  }
  const exitCode = result.exitCode ?? 1;
  if (exitCode !== 0 && !(options.okCodes ?? []).includes(exitCode)) {
    throw gitFailure(args, result.stderr);
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
}

export function gitFailure(args: string[], stderr: string): EnvsError {
  const said = stderr.trim().replace(/^(fatal|error): /gm, '') || 'no output';
  return new EnvsError('GIT_FAILED', `git ${args[0]} failed: ${said}`, {
    hint: 'The message above is git\'s own; fix what it names and run the command again.',
  });
}

/** Runs git and returns raw stdout bytes (for `cat-file --batch`). */
export async function runGitBuffer(args: string[], options: { cwd: string; input: string }): Promise<Buffer> {
  const result = await execa('git', args, {
    cwd: options.cwd,
    input: options.input,
    reject: false,
    encoding: 'buffer',
    env: { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' },
  });
  if (result.exitCode !== 0) throw gitFailure(args, Buffer.from(result.stderr).toString());
  return Buffer.from(result.stdout);
}
