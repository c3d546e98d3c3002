import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { type CliResult, envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { holdPort, release } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

describe('bad input: a clear error, a non-zero exit, and nothing changed', () => {
  const fx = useRepo(webFiles(), 'strict', async (fx) => {
    // An env that exists, so "nothing changed" covers a populated state too.
    await envsOk(fx.repo, fx.home, ['create', 'feat/existing']);
    // Branches whose compose file or envs.yaml is broken.
    await fx.git('switch', '-q', '-c', 'broken-yaml');
    await fx.write({ 'compose.yaml': 'services: [\n' });
    await fx.commit('broken yaml');
    await fx.git('switch', '-q', '-c', 'broken-port', 'main');
    await fx.write({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: ["abc:80"]\n' });
    await fx.commit('broken port');
    await fx.git('switch', '-q', '-c', 'broken-config', 'main');
    await fx.write({ 'envs.yaml': 'ports:\n  range: lots\ncompose:\n  files: [../outside.yaml]\n' });
    await fx.commit('broken config');
    await fx.git('switch', '-q', 'main');
    await fx.git('worktree', 'add', '-q', '-b', 'held-elsewhere', join(fx.root, 'manual'));
  });

  async function expectRefused(
    args: string[],
    code: string,
    message: RegExp,
    options: { cwd?: string; env?: Record<string, string>; exit?: number } = {},
  ): Promise<CliResult> {
    const before = await snapshot(fx);
    const human = await envs(options.cwd ?? fx.repo, fx.home, args, options.env);
    const dashes = args.indexOf('--');
    const withJson = dashes === -1 ? [...args, '--json'] : [...args.slice(0, dashes), '--json', ...args.slice(dashes)];
    const json = await envs(options.cwd ?? fx.repo, fx.home, withJson, options.env);
    expect(human.exitCode, human.stderr).toBe(options.exit ?? 1);
    expect(human.stderr).toMatch(/^error: /);
    expect(human.stderr).toMatch(message);
    expect(human.stderr).toMatch(/\nhint: /);
    expect(human.stderr).not.toMatch(/ at .*\.js:\d+/); // a user error, not a stack
    expect(json.exitCode).toBe(options.exit ?? 1);
    expect(json.json.error).toMatchObject({ code, message: expect.stringMatching(message), hint: expect.any(String) });
    expect(await snapshot(fx)).toEqual(before);
    return human;
  }

  it('an invalid compose file (YAML syntax)', async () => {
    await expectRefused(['create', 'broken-yaml'], 'COMPOSE_INVALID', /Compose rejected the compose file: .*yaml/);
  });

  it('an invalid compose file (meaning), also through --from', async () => {
    await expectRefused(['create', 'feat/new', '--from', 'broken-port'], 'COMPOSE_INVALID', /Invalid hostPort: abc/);
  });

  it('an invalid envs.yaml, every problem at once', async () => {
    const result = await expectRefused(['create', 'broken-config'], 'CONFIG_INVALID', /envs\.yaml is not valid/);
    expect(result.stderr).toMatch(/ports\.range: must look like 20000-29999/);
    expect(result.stderr).toMatch(/compose\.files\.0: must be a path inside the repository/);
  });

  it('an unknown --from, and one that looks like an option', async () => {
    await expectRefused(
      ['create', 'feat/new', '--from', 'no-such-ref'],
      'UNKNOWN_REF',
      /--from no-such-ref: no such branch, tag or commit/,
    );
    await expectRefused(['create', 'feat/new', '--from=--output=/tmp/x'], 'UNKNOWN_REF', /--from --output=\/tmp\/x: no such/);
  });

  it('a branch already checked out in the main checkout (one another worktree holds is adopted: adopt.test.ts)', async () => {
    await expectRefused(['create', 'main'], 'BRANCH_CHECKED_OUT', new RegExp(`Branch main is already checked out at ${fx.repo}`));
    await expectRefused(['create', 'held-elsewhere', '--from', 'main'], 'BRANCH_EXISTS', /Branch held-elsewhere already exists/);
  });

  it('a second env for a branch that has one', async () => {
    await expectRefused(['create', 'feat/existing'], 'ENV_EXISTS', /feat\/existing already has an env/);
  });

  it('a Docker engine that is down, for create, destroy and up', async () => {
    const env = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    await expectRefused(
      ['create', 'feat/new'],
      'DOCKER_UNAVAILABLE',
      /Docker engine at unix:\/\/\/nonexistent\/docker\.sock does not answer/,
      { env },
    );
    await expectRefused(['destroy', 'feat/existing', '--force'], 'DOCKER_UNAVAILABLE', /does not answer/, { env });
    await expectRefused(['up', 'feat/existing'], 'DOCKER_UNAVAILABLE', /does not answer/, { env });
    // list still answers, from the records, and says the containers' state is unknown.
    const list = await envsOk(fx.repo, fx.home, ['list', '--json'], env);
    expect(list.json[0]).toMatchObject({ branch: 'feat/existing', status: 'unknown', problems: [expect.stringMatching(/did not answer/)] });
  });

  it('no git repository', async () => {
    await expectRefused(['create', 'feat/new'], 'NOT_A_GIT_REPO', /is not inside a git repository/, { cwd: fx.root });
    await expectRefused(['-C', join(fx.root, 'nope'), 'list'], 'NOT_A_GIT_REPO', /does not exist/);
  });

  it.each([
    ['..', /not a valid branch name/],
    ['feat/a..b', /not a valid branch name/],
    ['has space', /not a valid branch name/],
    ['feat/x.lock', /not a valid branch name/],
    ['HEAD', /names the current commit/],
    ['@{-1}', /not a valid branch name/],
    ['ends/', /not a valid branch name/],
  ])('an invalid branch name %j', async (branch, message) => {
    await expectRefused(['create', branch], 'INVALID_BRANCH', message);
  });

  it('a branch name starting with "-" is never taken for an option', async () => {
    await expectRefused(['create', '--', '-rf'], 'INVALID_BRANCH', /starts with "-"/);
  });

  it('an env that does not exist', async () => {
    await expectRefused(['destroy', 'feat/nope'], 'ENV_NOT_FOUND', /No env named "feat\/nope"/);
    await expectRefused(['info', 'feat/nope'], 'ENV_NOT_FOUND', /No env named/);
  });

  it('a worktree path that is taken', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/taken', '--json'])).json;
    await mkdir(plan.worktree, { recursive: true });
    await writeFile(join(plan.worktree, 'precious.txt'), 'mine');
    await expectRefused(['create', 'feat/taken'], 'WORKTREE_PATH_TAKEN', /already exists and is not empty/);
    expect(await readFile(join(plan.worktree, 'precious.txt'), 'utf8')).toBe('mine');
  });

  it('a usage error is an error too, as JSON with --json', async () => {
    const result = await envs(fx.repo, fx.home, ['create', '--json']);
    expect(result.exitCode).toBe(2);
    expect(result.json.error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/missing required argument 'branch'/) });
  });
});

describe('odd but valid branch names are data, never code', () => {
  const fx = useRepo(webFiles(), 'odd');

  it.each([
    ['feat/$(touch${IFS}pwned)'],
    ['fix/`touch${IFS}pwned2`;echo|cat&'],
    ['fix/ünïcødé-ブランチ'],
    [`feat/${'long-'.repeat(40)}end`],
  ])('%j gets a safe env', async (branch) => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', branch, '--json'])).json;
    expect(plan.branch).toBe(branch);
    expect(plan.name).toMatch(/^[a-z0-9][a-z0-9-]{0,38}$/);
    expect(plan.project).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    expect(plan.worktree.startsWith(join(fx.home, 'worktrees'))).toBe(true);
  });

  it('creates and destroys an env for a branch full of shell syntax, running none of it', async () => {
    const branch = 'feat/$(touch${IFS}pwned)`touch${IFS}pwned2`;x';
    const env = (await envsOk(fx.repo, fx.home, ['create', branch, '--json'])).json;
    expect(env.status).toBe('running');
    expect(env.branch).toBe(branch);
    const label = await execa('docker', [
      'ps',
      '--filter',
      `label=dev.envs.project=${env.project}`,
      '--format',
      '{{.Label "dev.envs.branch"}}',
    ]);
    expect(label.stdout).toBe(branch);
    await envsOk(fx.repo, fx.home, ['destroy', branch]);
    for (const dir of [fx.repo, fx.root, process.cwd()]) {
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      expect(existsSync(join(dir, 'pwned2'))).toBe(false);
    }
    await expectNothingLeft(fx.label);
  });
});

describe('ports someone else holds', () => {
  const fx = useRepo(webFiles(), 'crowded');

  it('are skipped when allocating', async () => {
    const holders = await Promise.all([24100, 24101, 24102].map(holdPort));
    try {
      const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/crowded', '--json'], { ENVS_PORT_RANGE: '24100-24103' })).json;
      expect(env.ports[0].published).toBe(24103);
    } finally {
      await Promise.all(holders.map(release));
    }
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/crowded']);
  });

  it('exhaust the range with a clear error and nothing changed', async () => {
    const holders = await Promise.all([24200, 24201].map(holdPort));
    try {
      const before = await snapshot(fx);
      const result = await envs(fx.repo, fx.home, ['create', 'feat/full', '--json'], { ENVS_PORT_RANGE: '24200-24201' });
      expect(result.exitCode).toBe(1);
      expect(result.json.error).toMatchObject({
        code: 'PORTS_EXHAUSTED',
        message: expect.stringMatching(/No free port left in 24200-24201/),
      });
      // Refused while planning, before the first side effect: not even a record or a lease.
      expect(await snapshot(fx)).toEqual(before);
    } finally {
      await Promise.all(holders.map(release));
    }
  });
});
