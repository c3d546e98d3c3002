import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

describe('destroy never loses work without --force', () => {
  const fx = useRepo(webFiles(), 'careful');

  it('refuses an env with an untracked file, names it, changes nothing; --force removes it', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/untracked', '--json'])).json;
    await writeFile(join(env.worktree, 'notes.md'), 'the agent wrote this');

    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/untracked']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/work that destroy would delete:\n\s+untracked\s+notes\.md/);
    expect(refused.stderr).toMatch(/--force/);
    // Nothing changed: the file, the worktree and the running container are all still there.
    expect(existsSync(join(env.worktree, 'notes.md'))).toBe(true);
    expect(await httpGet(env.ports[0].published)).not.toBe('');
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/untracked', '--json'])).json.status).toBe('running');

    const asJson = await envs(fx.repo, fx.home, ['destroy', 'feat/untracked', '--json']);
    expect(asJson.json.error).toMatchObject({ code: 'DIRTY_WORKTREE', details: { files: [{ path: 'notes.md', kind: 'untracked' }] } });

    const forced = await envsOk(fx.repo, fx.home, ['destroy', 'feat/untracked', '--force', '--json']);
    expect(forced.json.forced_files).toEqual([{ path: 'notes.md', kind: 'untracked' }]);
    expect(existsSync(env.worktree)).toBe(false);
    await expectNothingLeft(fx.label);
    expect(await fx.git('branch', '--list', 'feat/untracked')).toContain('feat/untracked');
  });

  it('refuses modified tracked files and precious ignored files, but not build output', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/ignored', '--json'])).json;
    await mkdir(join(env.worktree, 'node_modules', 'left-pad'), { recursive: true });
    await writeFile(join(env.worktree, 'node_modules', 'left-pad', 'index.js'), '');
    await writeFile(join(env.worktree, '.env.local'), 'API_KEY=mine');
    await writeFile(join(env.worktree, 'compose.yaml'), '# edited\n', { flag: 'a' });

    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/ignored', '--json']);
    expect(refused.json.error.code).toBe('DIRTY_WORKTREE');
    expect(refused.json.error.details.files).toEqual([
      { path: 'compose.yaml', kind: 'modified' },
      { path: '.env.local', kind: 'ignored' },
    ]);

    // Commit the edit and move the secret away: node_modules alone does not block.
    await fx.git('-C', env.worktree, 'commit', '-qam', 'edit');
    await rename(join(env.worktree, '.env.local'), join(fx.root, 'saved.env'));
    // Run from inside the worktree (by name): it goes, and the user is told their directory went with it.
    const inside = await envsOk(join(env.worktree, 'node_modules'), fx.home, ['destroy', 'feat/ignored']);
    expect(inside.stdout).toMatch(/note: your current directory was inside the removed worktree/);
    expect(existsSync(env.worktree)).toBe(false);
    // The commit made in the env survives on its branch.
    expect(await fx.git('log', '-1', '--format=%s', 'feat/ignored')).toBe('edit');
  });

  it('deletes the ignored names its worktree’s envs.yaml calls disposable, and only those', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/venv', '--json'])).json;
    await appendFile(join(env.worktree, '.gitignore'), '.venv/\nnotes/\n');
    // An envs.yaml that says nothing of disposable names: .venv is work like any ignored file.
    await writeFile(join(env.worktree, 'envs.yaml'), 'up:\n  waitTimeout: 120\n');
    await fx.git('-C', env.worktree, 'add', '.gitignore', 'envs.yaml');
    await fx.git('-C', env.worktree, 'commit', '-qm', 'ignore .venv and notes');
    for (const dir of ['.venv/lib', 'notes']) await mkdir(join(env.worktree, dir), { recursive: true });
    await writeFile(join(env.worktree, '.venv', 'lib', 'site.py'), '');
    await writeFile(join(env.worktree, 'notes', 'todo.md'), 'mine');

    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/venv', '--json']);
    expect(refused.json.error.details.files).toEqual([
      { path: '.venv/', kind: 'ignored' },
      { path: 'notes/', kind: 'ignored' },
    ]);

    await writeFile(join(env.worktree, 'envs.yaml'), 'up:\n  waitTimeout: 120\ndestroy:\n  disposable: [.venv]\n');
    await fx.git('-C', env.worktree, 'commit', '-qam', 'venv is disposable');
    const still = await envs(fx.repo, fx.home, ['destroy', 'feat/venv', '--json']);
    expect(still.json.error.details.files).toEqual([{ path: 'notes/', kind: 'ignored' }]);

    await rm(join(env.worktree, 'notes'), { recursive: true });
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/venv']);
    expect(existsSync(env.worktree)).toBe(false);
  });
});

describe('plan', () => {
  const fx = useRepo(webFiles(), 'planner');

  it('prints the generated compose file and changes nothing', async () => {
    const worktreesBefore = await fx.git('worktree', 'list', '--porcelain');
    const branchesBefore = await fx.git('branch', '--list');

    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/planned', '--json'])).json;
    expect(plan.branch).toBe('feat/planned');
    expect(plan.compose_yaml).toMatch(/^name: envs-planner-[0-9a-f]{4}-feat-planned-[0-9a-f]{6}$/m);
    expect(plan.compose_yaml).toMatch(/host_ip: 127\.0\.0\.1/);
    expect(plan.compose.services.web.ports).toEqual([
      expect.objectContaining({ target: 80, host_ip: '127.0.0.1', published: String(plan.ports[0].published) }),
    ]);
    expect(plan.steps[0]).toMatch(/^git worktree add --no-track -b feat\/planned /);

    expect(await fx.git('worktree', 'list', '--porcelain')).toBe(worktreesBefore);
    expect(await fx.git('branch', '--list')).toBe(branchesBefore);
    expect(existsSync(plan.worktree)).toBe(false);
    // No state, no lease, no record: at most the (empty) directory its scratch copy lived in.
    expect(await readdir(fx.home, { recursive: true }).catch(() => [])).toEqual(existsSync(fx.home) ? ['tmp'] : []);
    await expectNothingLeft(fx.label);

    const human = await envsOk(fx.repo, fx.home, ['plan', 'feat/planned']);
    expect(human.stdout).toMatch(/nothing has been changed/);
    expect(human.stdout).toMatch(/Generated compose file/);
  });
});

describe('an <env> that names two envs is refused', () => {
  const fx = useRepo(webFiles(), 'twins');

  it('env name vs branch vs path: refused with the candidates, nothing changed; name:, branch: and ./ pick one', async () => {
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    // A branch named like env a: the word is a's env name and b's branch.
    const b = (await envsOk(fx.repo, fx.home, ['create', a.name, '--json'])).json;
    const before = await snapshot(fx, [a.worktree, b.worktree]);
    for (const command of ['destroy', 'info', 'up', 'down']) {
      const refused = await envs(fx.repo, fx.home, [command, a.name, '--json']);
      expect(refused.exitCode, command).toBe(1);
      expect(refused.json.error).toMatchObject({
        code: 'AMBIGUOUS_ENV',
        details: {
          candidates: [
            { name: a.name, branch: 'feat/a', matched_by: 'env name', use: `name:${a.name}` },
            { name: b.name, branch: a.name, matched_by: 'branch', use: `name:${b.name}` },
          ],
        },
      });
    }
    const human = await envs(fx.repo, fx.home, ['destroy', a.name, '--force']);
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain(`error: "${a.name}" names 2 envs:`);
    expect(human.stderr).toContain(`say name:${a.name} or branch:feat/a`);
    expect(human.stderr).toContain(`say name:${b.name} or branch:${a.name}`);
    expect(await snapshot(fx, [a.worktree, b.worktree])).toEqual(before);

    // A branch that is also a directory inside another env's worktree.
    await mkdir(join(b.worktree, 'feat', 'a'), { recursive: true });
    const byPath = await envs(b.worktree, fx.home, ['destroy', 'feat/a', '--json']);
    expect(byPath.json.error).toMatchObject({
      code: 'AMBIGUOUS_ENV',
      details: {
        candidates: [
          { name: a.name, matched_by: 'branch' },
          { name: b.name, matched_by: 'worktree path' },
        ],
      },
    });
    expect((await envsOk(b.worktree, fx.home, ['info', './feat/a', '--json'])).json.name).toBe(b.name);
    expect((await envsOk(b.worktree, fx.home, ['info', 'branch:feat/a', '--json'])).json.name).toBe(a.name);
    await rm(join(b.worktree, 'feat'), { recursive: true });

    expect((await envsOk(fx.repo, fx.home, ['destroy', `branch:${a.name}`, '--json'])).json.name).toBe(b.name);
    expect((await envsOk(fx.repo, fx.home, ['destroy', `name:${a.name}`, '--json'])).json.name).toBe(a.name);
    await expectNothingLeft(fx.label);
  });
});

describe('edits git status does not show', () => {
  const fx = useRepo(webFiles(), 'hidden');

  it('skip-worktree and assume-unchanged edits count as modified: list says dirty, destroy refuses, --force names them', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/hidden', '--json'])).json;
    await fx.git('-C', env.worktree, 'update-index', '--skip-worktree', 'compose.yaml');
    await fx.git('-C', env.worktree, 'update-index', '--assume-unchanged', '.gitignore');
    await appendFile(join(env.worktree, 'compose.yaml'), '# my local tuning\n');
    await appendFile(join(env.worktree, '.gitignore'), 'scratch/\n');
    expect(await fx.git('-C', env.worktree, 'status', '--porcelain')).toBe(''); // git itself shows nothing

    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json[0].dirty).toBe(true);
    const before = await snapshot(fx, [env.worktree]);
    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/hidden']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/modified\s+compose\.yaml \(marked skip-worktree: git status does not show it\)/);
    const files = [
      { path: '.gitignore', kind: 'modified', flag: 'assume-unchanged' },
      { path: 'compose.yaml', kind: 'modified', flag: 'skip-worktree' },
    ];
    expect((await envs(fx.repo, fx.home, ['destroy', 'feat/hidden', '--json'])).json.error).toMatchObject({
      code: 'DIRTY_WORKTREE',
      details: { files, commits: [] },
    });
    expect(await snapshot(fx, [env.worktree])).toEqual(before);

    const forced = await envsOk(fx.repo, fx.home, ['destroy', 'feat/hidden', '--force', '--json']);
    expect(forced.json.forced_files).toEqual(files);
    expect(existsSync(env.worktree)).toBe(false);
    await expectNothingLeft(fx.label);
  });
});

describe('commits only the worktree has', () => {
  const fx = useRepo(webFiles(), 'detached');

  it('are named and refused; --force keeps them under refs/envs/<env>/ and prints the ref', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/detached', '--json'])).json;
    await fx.git('-C', env.worktree, 'checkout', '-q', '--detach');
    await fx.git('-C', env.worktree, 'commit', '-q', '--allow-empty', '-m', 'first detached');
    await fx.git('-C', env.worktree, 'commit', '-q', '--allow-empty', '-m', 'second detached');
    const head = await fx.git('-C', env.worktree, 'rev-parse', 'HEAD');
    const short = await fx.git('-C', env.worktree, 'rev-parse', '--short', 'HEAD');

    const before = await snapshot(fx, [env.worktree]);
    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/detached']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`commit    ${short} second detached (only this worktree has it)`);
    expect(refused.stderr).toMatch(/commit\s+[0-9a-f]{7,} first detached/);
    expect(refused.stderr).toMatch(/hint: .*--force.*kept under refs\/envs\//);
    const asJson = await envs(fx.repo, fx.home, ['destroy', 'feat/detached', '--json']);
    expect(asJson.json.error.details.commits).toEqual([
      { sha: head, short, subject: 'second detached' },
      { sha: expect.stringMatching(/^[0-9a-f]{40}$/), short: expect.any(String), subject: 'first detached' },
    ]);
    expect(await snapshot(fx, [env.worktree])).toEqual(before);

    const forced = await envsOk(fx.repo, fx.home, ['destroy', 'feat/detached', '--force']);
    const ref = (await fx.git('for-each-ref', '--format=%(refname)', `refs/envs/${env.name}/`)).trim();
    expect(ref).toMatch(new RegExp(`^refs/envs/${env.name}/\\d{8}T\\d{6}Z/HEAD$`));
    expect(forced.stdout).toContain(`${ref}  ${head.slice(0, 12)}  (was HEAD)`);
    expect(await fx.git('log', '--format=%s', ref)).toMatch(/^second detached\nfirst detached\n/);
    expect(existsSync(env.worktree)).toBe(false);
    await expectNothingLeft(fx.label);
  });
});

describe('submodules', () => {
  const fx = useRepo(webFiles(), 'modular', async (fx) => {
    const lib = join(fx.root, 'lib');
    await mkdir(lib);
    const git = (...args: string[]) => execa('git', args, { cwd: lib });
    await git('init', '-q', '-b', 'main');
    await writeFile(join(lib, 'lib.txt'), 'lib\n');
    await writeFile(join(lib, '.gitignore'), '.env.local\n');
    await git('add', '-A');
    await git('-c', 'user.email=t@envs.dev', '-c', 'user.name=t', 'commit', '-qm', 'lib');
    await git('clone', '-q', '--bare', lib, join(fx.root, 'lib.git'));
    await fx.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', join(fx.root, 'lib.git'), 'lib');
    await fx.commit('add lib');
  });
  const checkout = async (worktree: string) => {
    await fx.git('-C', worktree, '-c', 'protocol.file.allow=always', 'submodule', 'update', '--init', '-q');
    await fx.git('-C', join(worktree, 'lib'), 'config', 'user.email', 't@envs.dev');
    await fx.git('-C', join(worktree, 'lib'), 'config', 'user.name', 't');
  };

  it('a clean submodule whose commits are on its remote does not stop destroy (git needs --force: given after the checks)', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/clean-sub', '--json'])).json;
    await checkout(env.worktree);
    const destroyed = (await envsOk(fx.repo, fx.home, ['destroy', 'feat/clean-sub', '--json'])).json;
    expect(destroyed).toMatchObject({ worktree_removed: true, forced_files: [], kept_refs: [] });
    expect(existsSync(env.worktree)).toBe(false);
    expect(await fx.git('worktree', 'list', '--porcelain')).not.toContain(env.worktree);
    await expectNothingLeft(fx.label);
  });

  it('unpushed submodule commits and precious files stop destroy before it deletes anything; --force keeps the commits', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/busy-sub', '--json'])).json;
    await checkout(env.worktree);
    const lib = join(env.worktree, 'lib');
    await fx.git('-C', lib, 'switch', '-q', '-c', 'local');
    await fx.git('-C', lib, 'commit', '-q', '--allow-empty', '-m', 'lib work');
    await writeFile(join(lib, '.env.local'), 'TOKEN=mine');
    await fx.git('-C', env.worktree, 'commit', '-qam', 'bump lib'); // the env's own status is clean again
    expect(await fx.git('-C', env.worktree, 'status', '--porcelain')).toBe('');

    const before = await snapshot(fx, [env.worktree]);
    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/busy-sub', '--json']);
    expect(refused.json.error).toMatchObject({
      code: 'DIRTY_WORKTREE',
      details: {
        files: [{ path: 'lib/.env.local', kind: 'ignored' }],
        commits: [{ subject: 'lib work', submodule: 'lib' }],
      },
    });
    expect(await snapshot(fx, [env.worktree])).toEqual(before);

    const forced = (await envsOk(fx.repo, fx.home, ['destroy', 'feat/busy-sub', '--force', '--json'])).json;
    expect(forced.forced_files).toEqual([{ path: 'lib/.env.local', kind: 'ignored' }]);
    expect(forced.kept_refs).toEqual([
      {
        ref: expect.stringMatching(new RegExp(`^refs/envs/${env.name}/\\d{8}T\\d{6}Z/modules/lib/HEAD$`)),
        commit: expect.any(String),
        from: 'submodule lib: HEAD',
      },
      { ref: expect.stringMatching(/\/modules\/lib\/heads\/local$/), commit: expect.any(String), from: 'submodule lib: refs/heads/local' },
    ]);
    expect(await fx.git('log', '-1', '--format=%s', forced.kept_refs[0].ref)).toBe('lib work');
    expect(existsSync(env.worktree)).toBe(false);
    await expectNothingLeft(fx.label);
  });
});

describe('the worktree path', () => {
  const fx = useRepo(webFiles(), 'paths');

  it('create adds the worktree into an empty directory that is already there', async () => {
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/empty', '--json'])).json;
    await mkdir(plan.worktree, { recursive: true });
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/empty', '--json'])).json;
    expect(await fx.git('worktree', 'list', '--porcelain')).toContain(`worktree ${env.worktree}\nHEAD `);
    expect(await fx.git('-C', env.worktree, 'branch', '--show-current')).toBe('feat/empty');
    expect(existsSync(join(env.worktree, 'compose.yaml'))).toBe(true);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/empty']);
    await expectNothingLeft(fx.label);
  });

  it('destroy of an env whose worktree was replaced removes the rest and leaves that directory alone, saying so', async () => {
    const plain = (await envsOk(fx.repo, fx.home, ['create', 'feat/plain', '--json'])).json;
    const other = (await envsOk(fx.repo, fx.home, ['create', 'feat/other-repo', '--json'])).json;
    for (const env of [plain, other]) {
      await rm(env.worktree, { recursive: true, force: true });
      await mkdir(env.worktree);
      await writeFile(join(env.worktree, 'mine.txt'), 'not yours');
    }
    await execa('git', ['init', '-q'], { cwd: other.worktree }); // a repository of its own now

    const result = (await envsOk(fx.repo, fx.home, ['destroy', 'feat/plain', '--json'])).json;
    expect(result).toMatchObject({ worktree_removed: false, worktree_note: expect.stringMatching(/no longer a worktree .*left alone/) });
    const human = await envsOk(fx.repo, fx.home, ['destroy', 'feat/other-repo']);
    expect(human.stdout).toMatch(
      /ports removed; branch feat\/other-repo kept\.\n {2}.* is no longer a worktree of this repository; its contents were left alone/,
    );
    for (const env of [plain, other]) {
      expect(await readFile(join(env.worktree, 'mine.txt'), 'utf8')).toBe('not yours');
      expect(await fx.git('worktree', 'list', '--porcelain')).not.toContain(env.worktree);
    }
    expect(existsSync(join(other.worktree, '.git', 'HEAD'))).toBe(true);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
    await expectNothingLeft(fx.label);
  });

  it('create does not resume into a directory that replaced the worktree', async () => {
    const killed = await envs(fx.repo, fx.home, ['create', 'feat/resumed'], { ENVS_FAILPOINT: 'after-worktree' });
    expect(killed.exitCode).not.toBe(0);
    const [env] = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    await rm(env.worktree, { recursive: true, force: true });
    await mkdir(env.worktree);
    await writeFile(join(env.worktree, 'mine.txt'), 'not yours');

    const before = await snapshot(fx, [env.worktree]);
    const refused = await envs(fx.repo, fx.home, ['create', 'feat/resumed', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({
      code: 'WORKTREE_PATH_TAKEN',
      message: expect.stringMatching(/is not feat\/resumed's worktree/),
    });
    expect(await snapshot(fx, [env.worktree])).toEqual(before);

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/resumed']);
    expect(await readFile(join(env.worktree, 'mine.txt'), 'utf8')).toBe('not yours');
    await expectNothingLeft(fx.label);
  });
});

describe('another engine', () => {
  const fx = useRepo(webFiles(), 'engines');

  it('an unknown docker context stops every command before anything changes, naming the context', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/engine', '--json'])).json;
    const config = join(fx.root, 'docker-config');
    await mkdir(config);
    const bogus = { DOCKER_CONTEXT: 'bogus', DOCKER_CONFIG: config };
    const before = await snapshot(fx, [env.worktree]);
    for (const args of [
      ['destroy', 'feat/engine', '--force'],
      ['up', 'feat/engine'],
      ['down', 'feat/engine'],
      ['create', 'feat/new'],
    ]) {
      const refused = await envs(fx.repo, fx.home, [...args, '--json'], bogus);
      expect(refused.exitCode, args.join(' ')).toBe(1);
      expect(refused.json.error).toMatchObject({
        code: 'DOCKER_CONTEXT_UNKNOWN',
        message: 'The docker context "bogus" (from DOCKER_CONTEXT) does not exist.',
      });
    }
    const human = await envs(fx.repo, fx.home, ['destroy', 'feat/engine'], bogus);
    expect(human.stderr).toMatch(/^error: The docker context "bogus" \(from DOCKER_CONTEXT\) does not exist\.\nhint: .*docker context ls/);
    expect(await snapshot(fx, [env.worktree])).toEqual(before);

    // A context that exists (the same engine behind another socket path): Compose and envs follow it alike.
    const socket = join(fx.root, 'engine.sock');
    await symlink('/var/run/docker.sock', socket);
    await execa('docker', ['context', 'create', 'envs-same', '--docker', `host=unix://${socket}`], { env: { DOCKER_CONFIG: config } });
    const same = { DOCKER_CONTEXT: 'envs-same', DOCKER_CONFIG: config };
    expect((await envsOk(fx.repo, fx.home, ['down', 'feat/engine', '--json'], same)).json.status).toBe('stopped');
    expect((await envsOk(fx.repo, fx.home, ['up', 'feat/engine', '--json'], same)).json.status).toBe('running');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/engine'], same);
    await expectNothingLeft(fx.label);
  });
});
