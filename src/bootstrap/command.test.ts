import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../process/run.ts';
import { describeCommand, launcherArgv, launcherFromFile, runFileText, userArgv } from './command.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envs-command-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('user commands', () => {
  it('runs a string through sh -c and an array as is', () => {
    expect(userArgv('pnpm --filter web dev')).toEqual({ file: 'sh', args: ['-c', 'pnpm --filter web dev'] });
    expect(userArgv(['node', 'server.js', '$PORT'])).toEqual({ file: 'node', args: ['server.js', '$PORT'] });
  });

  it('shows an array command as a shell would need it typed', () => {
    expect(describeCommand(['node', '-e', "console.log('hi')"])).toBe(`node -e 'console.log('\\''hi'\\'')'`);
    expect(describeCommand('make dev')).toBe('make dev');
  });
});

describe('the launcher', () => {
  it('runs the command with its arguments untouched and records its exit code', async () => {
    const status = join(dir, 'a.status');
    const { file, args } = launcherArgv(['sh', '-c', 'printf "%s|" "$@"; exit 3', 'x', '$(id)', "it's", ';'], status);
    const result = await run(file, args);
    expect(result.stdout).toBe("$(id)|it's|;|");
    expect(result.exitCode).toBe(3);
    expect(await readFile(status, 'utf8')).toBe('3\n');
  });

  it('reads variables and the command from a run file, so neither shows in a command line', async () => {
    const runFile = join(dir, 'b.sh');
    const status = join(dir, 'b.status');
    const secret = "pa$$ w'rd\nline2";
    await writeFile(
      runFile,
      runFileText({ SECRET: secret, ENVS_BRANCH: 'feat/$(rm -rf ~)' }, ['sh', '-c', 'printf "%s|%s" "$SECRET" "$ENVS_BRANCH"']),
    );
    const { file, args } = launcherFromFile(runFile, status);
    expect(args.join(' ')).not.toContain('pa$$');
    const result = await run(file, args, { env: { PATH: process.env.PATH } });
    expect(result.stdout).toBe(`${secret}|feat/$(rm -rf ~)`);
    expect(await readFile(status, 'utf8')).toBe('0\n');
  });

  it('a run file made with `only` gives the command exactly its variables, not the ones it inherited (a tmux server keeps the environment of whoever started it)', async () => {
    const runFile = join(dir, 'd.sh');
    const status = join(dir, 'd.status');
    await writeFile(
      runFile,
      runFileText(
        { PATH: process.env.PATH ?? '', MINE: 'mine' },
        ['sh', '-c', 'printf "%s|%s|%s|%s" "${MINE-}" "${DATABASE_URL-unset}" "${TERM-}" "${TMUX_PANE-}"'],
        {
          only: true,
        },
      ),
    );
    const { file, args } = launcherFromFile(runFile, status);
    const inherited = { PATH: process.env.PATH, DATABASE_URL: 'postgres://another-env', TERM: 'tmux-256color', TMUX_PANE: '%3' };
    const result = await run(file, args, { env: inherited });
    expect(result.stdout).toBe('mine|unset|tmux-256color|%3');
    expect(await readFile(status, 'utf8')).toBe('0\n');
  });

  it('a string command is the user’s shell code', async () => {
    const status = join(dir, 'c.status');
    const { file, args } = launcherArgv('echo "$GREETING, $0"; false', status);
    const result = await run(file, args, { env: { PATH: process.env.PATH, GREETING: 'hello' } });
    expect(result.stdout).toBe('hello, sh\n');
    expect(await readFile(status, 'utf8')).toBe('1\n');
  });
});
