import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { useTempDir } from '../testing/temp-dir.ts';
import { CliGitClient, openRepo } from './client.ts';
import { runGit } from './run.ts';

const tempDir = useTempDir('git-client');
let repo: string;

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await runGit(args, { cwd, env: process.env })).stdout.trim();
}

async function init(dir: string, branch: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', branch);
  await git(dir, 'config', 'user.email', 'test@envs.dev');
  await git(dir, 'config', 'user.name', 'envs tests');
  await git(dir, 'config', 'commit.gpgsign', 'false');
}

const client = async (dir: string) => new CliGitClient(await openRepo(dir, process.env), process.env);

beforeEach(async () => {
  repo = join(await realpath(tempDir()), 'repo');
});

describe('defaultBase', () => {
  it('names main with its commit, from the one lookup', async () => {
    await init(repo, 'main');
    await git(repo, 'commit', '-q', '--allow-empty', '-m', 'one');
    const head = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'checkout', '-q', '-b', 'feature');
    expect(await (await client(repo)).defaultBase()).toEqual({ ref: 'main', commit: head });
  });

  it('falls back to master, then to the main checkout’s branch (commit left to resolve)', async () => {
    await init(repo, 'master');
    await git(repo, 'commit', '-q', '--allow-empty', '-m', 'one');
    expect((await (await client(repo)).defaultBase()).ref).toBe('master');
    await git(repo, 'branch', '-m', 'master', 'trunk');
    expect(await (await client(repo)).defaultBase()).toEqual({ ref: 'trunk' });
  });

  it('follows origin/HEAD to the local branch of that name, else to the remote one', async () => {
    const origin = join(repo, '..', 'origin');
    await init(origin, 'develop');
    await git(origin, 'commit', '-q', '--allow-empty', '-m', 'one');
    await git(join(repo, '..'), 'clone', '-q', origin, repo);
    const gitClient = await client(repo);
    expect(await gitClient.defaultBase()).toEqual({ ref: 'develop' });
    await git(repo, 'checkout', '-q', '--detach');
    await git(repo, 'branch', '-q', '-D', 'develop');
    expect(await gitClient.defaultBase()).toEqual({ ref: 'origin/develop' });
  });

  it('refuses a repository without commits', async () => {
    await init(repo, 'main');
    const error = await (await client(repo)).defaultBase().catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('EMPTY_REPO');
  });
});
