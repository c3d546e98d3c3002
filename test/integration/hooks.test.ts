import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft, labelled } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/** Runs `envs hook <event>` as Claude Code does: the payload on stdin, from a directory that is not the repository. */
async function hook(home: string, event: 'worktree-create' | 'worktree-remove', payload: unknown, args: string[] = []) {
  const input = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const result = await execa('node', [BIN, 'hook', event, ...args], {
    cwd: '/',
    input,
    reject: false,
    env: { ENVS_HOME: home, ENVS_POSTGRES_IMAGE: images.postgres, ENVS_PROXY: 'off' },
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('Claude Code worktree hooks', () => {
  const fx = useRepo(webFiles(), 'hooked');

  it.each([
    ['current', (repo: string, base: string) => ({ worktree_name: 'bold-otter-12', base_commit: base, cwd: repo })],
    ['older', (repo: string, base: string) => ({ name: 'bold-otter-12', base_ref: base, cwd: repo })],
  ])('worktree-create with the %s field names prints only the env worktree; remove tears it down', async (_spelling, shape) => {
    const base = await fx.git('rev-parse', 'HEAD');
    await fx.git('commit', '-q', '--allow-empty', '-m', 'after the base'); // main moves on: the branch must start at the base
    const payload = {
      session_id: 'abc',
      transcript_path: '/tmp/t.jsonl',
      hook_event_name: 'WorktreeCreate',
      ...shape(fx.repo, base),
      extra: 1,
    };

    const created = await hook(fx.home, 'worktree-create', payload);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).not.toMatch(/\n./); // one line, nothing else
    const path = created.stdout.trim();
    expect(isAbsolute(path)).toBe(true);
    expect((await stat(path)).isDirectory()).toBe(true);
    const info = (await envsOk(fx.repo, fx.home, ['info', 'worktree-bold-otter-12', '--json'])).json;
    expect(info).toMatchObject({ branch: 'worktree-bold-otter-12', worktree: path, status: 'running' });
    expect(info.adopted).toBeUndefined();
    expect(await fx.git('rev-parse', 'worktree-bold-otter-12')).toBe(base);
    expect(await httpGet(info.ports[0].published)).not.toBe('');
    expect(created.stderr).toMatch(/docker compose up/); // progress went to stderr

    // Claude Code may run the hook again for the same name: the same path, nothing new.
    const again = await hook(fx.home, 'worktree-create', payload);
    expect(again).toMatchObject({ exitCode: 0, stdout: path });
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toHaveLength(1);

    const removed = await hook(fx.home, 'worktree-remove', { hook_event_name: 'WorktreeRemove', worktree_path: path, cwd: fx.repo });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('');
    expect(existsSync(path)).toBe(false);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json).toEqual([]);
    await expectNothingLeft(fx.label);
    await fx.git('branch', '-D', 'worktree-bold-otter-12'); // envs keeps branches; the next spelling starts afresh
  });

  it('worktree-remove refuses a worktree holding work, on one stderr line, and the env stays as it was', async () => {
    const created = await hook(fx.home, 'worktree-create', { hook_event_name: 'WorktreeCreate', name: 'dirty-fox', cwd: fx.repo }, [
      '--branch-prefix',
      'agent/',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const path = created.stdout.trim();
    expect((await envsOk(fx.repo, fx.home, ['info', path, '--json'])).json.branch).toBe('agent/dirty-fox');
    await writeFile(join(path, 'notes.md'), 'the agent wrote this');
    const before = await snapshot(fx, [path]);

    const refused = await hook(fx.home, 'worktree-remove', { hook_event_name: 'WorktreeRemove', worktree_path: path });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/work that destroy would delete: untracked notes\.md/);
    expect(await snapshot(fx, [path])).toEqual(before);
    const info = (await envsOk(fx.repo, fx.home, ['info', 'agent/dirty-fox', '--json'])).json;
    expect(info.status).toBe('running');
    expect(await httpGet(info.ports[0].published)).not.toBe('');

    await envsOk(fx.repo, fx.home, ['destroy', 'agent/dirty-fox', '--force']);
    await expectNothingLeft(fx.label);
  });

  it('a bad payload is one line on stderr, a non-zero exit, and nothing changed', async () => {
    const before = await snapshot(fx);
    for (const bad of ['', '{"cwd": 1', JSON.stringify({ cwd: fx.repo }), JSON.stringify({ name: 'x y', cwd: fx.repo })]) {
      const result = await hook(fx.home, 'worktree-create', bad);
      expect(result.exitCode, bad).not.toBe(0);
      expect(result.stdout, bad).toBe('');
      expect(result.stderr.trim().split('\n'), bad).toHaveLength(1);
    }
    const wrongEvent = await hook(fx.home, 'worktree-remove', { hook_event_name: 'WorktreeCreate', worktree_path: fx.repo });
    expect(wrongEvent.stderr).toMatch(/WorktreeCreate event/);
    const outside = await hook(fx.home, 'worktree-create', { name: 'x', cwd: '/' });
    expect(outside).toMatchObject({ exitCode: 1, stdout: '' });
    expect(outside.stderr).toMatch(/not inside a git repository/);
    expect(await snapshot(fx)).toEqual(before);
  });

  it('worktree-remove of a worktree without env removes it the git way (which refuses local changes)', async () => {
    const path = join(fx.root, 'plain');
    await fx.git('worktree', 'add', '-q', '-b', 'plain', path);
    await writeFile(join(path, 'scratch.txt'), 'x');
    const refused = await hook(fx.home, 'worktree-remove', { worktree_path: path, cwd: fx.repo });
    expect(refused.exitCode).toBe(1);
    expect(existsSync(join(path, 'scratch.txt'))).toBe(true);

    await execa('rm', [join(path, 'scratch.txt')]);
    expect((await hook(fx.home, 'worktree-remove', { worktree_path: path, cwd: fx.repo })).exitCode).toBe(0);
    expect(existsSync(path)).toBe(false);
    const elsewhere = await hook(fx.home, 'worktree-remove', { worktree_path: join(fx.root, 'never-was'), cwd: fx.repo });
    expect(elsewhere.exitCode).toBe(0);
    expect(elsewhere.stderr).toMatch(/not a worktree of .*nothing was removed/);

    // A caller that never closes stdin: the hook answers once the JSON document is complete.
    const open = execa('node', [BIN, 'hook', 'worktree-remove'], {
      cwd: '/',
      reject: false,
      timeout: 20_000,
      env: { ENVS_HOME: fx.home, ENVS_PROXY: 'off' },
    });
    open.stdin?.write(JSON.stringify({ worktree_path: join(fx.root, 'never-was'), cwd: fx.repo }));
    const answered = await open;
    expect(answered.timedOut).toBe(false);
    expect(answered.exitCode).toBe(0);
  });
});

describe('envs init claude', () => {
  const fx = useRepo(webFiles(), 'claudeinit');

  it('adds both hooks to an existing settings file, keeping its other hooks and comments; a second run writes nothing', async () => {
    const settings = join(fx.repo, '.claude', 'settings.json');
    await mkdir(join(fx.repo, '.claude'), { recursive: true });
    const original = `{
  // ours
  "model": "opus",
  "hooks": {
    "PostToolUse": [{ "matcher": "Edit", "hooks": [{ "type": "command", "command": "npx prettier --write" }] }]
  }
}
`;
    await writeFile(settings, original);

    const dry = await envsOk(fx.repo, fx.home, ['init', 'claude', '--dry-run']);
    expect(dry.stdout).toMatch(/^\+\s+"WorktreeCreate"/m);
    expect(await readFile(settings, 'utf8')).toBe(original);

    const first = await envsOk(fx.repo, fx.home, ['init', 'claude', '--json']);
    expect(first.json).toMatchObject({ file: settings, changed: true, added: ['WorktreeCreate', 'WorktreeRemove'] });
    expect(first.json.diff).toMatch(/^--- a\/\.claude\/settings\.json\n\+\+\+ b\/\.claude\/settings\.json\n@@ /);
    const written = await readFile(settings, 'utf8');
    expect(written).toContain('// ours');
    const data = JSON.parse(written.replace('// ours\n', ''));
    expect(data.model).toBe('opus');
    expect(data.hooks.PostToolUse[0].hooks[0].command).toBe('npx prettier --write');
    // Not on PATH in tests: this CLI by absolute path, run by this Node.js.
    const command = `${process.execPath} ${await realpath(BIN)}`;
    expect(data.hooks.WorktreeCreate).toEqual([{ hooks: [{ type: 'command', command: `${command} hook worktree-create` }] }]);
    expect(data.hooks.WorktreeRemove).toEqual([{ hooks: [{ type: 'command', command: `${command} hook worktree-remove` }] }]);

    const mtime = (await stat(settings)).mtimeMs;
    const second = await envsOk(fx.repo, fx.home, ['init', 'claude']);
    expect(second.stdout).toMatch(/already: nothing to do/);
    expect(await readFile(settings, 'utf8')).toBe(written);
    expect((await stat(settings)).mtimeMs).toBe(mtime);

    // --local writes the machine's own file and leaves the shared one alone.
    await envsOk(fx.repo, fx.home, ['init', 'claude', '--local']);
    expect(JSON.parse(await readFile(join(fx.repo, '.claude', 'settings.local.json'), 'utf8')).hooks.WorktreeCreate).toHaveLength(1);
    expect(await readFile(settings, 'utf8')).toBe(written);
  });

  it('edits the file a symlinked settings.json points at; refuses a read-only one; keeps settings.local.json out of git status', async () => {
    const dir = join(fx.repo, '.claude');
    const settings = join(dir, 'settings.json');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    // A settings file shared from elsewhere (dotfiles): the link stays a link, its target gets the hooks.
    const shared = join(fx.root, 'shared-settings.json');
    await writeFile(shared, '{ "model": "opus" }\n');
    await symlink(shared, settings);
    await envsOk(fx.repo, fx.home, ['init', 'claude']);
    expect((await lstat(settings)).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(shared, 'utf8'))).toMatchObject({ model: 'opus', hooks: { WorktreeCreate: [expect.anything()] } });

    // Read-only: someone does not want it edited (the atomic rename would not care); one line, nothing written.
    await rm(settings);
    await writeFile(settings, '{}\n', { mode: 0o444 });
    const refused = await envs(fx.repo, fx.home, ['init', 'claude', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error.code).toBe('CLAUDE_SETTINGS_READONLY');
    expect(await readFile(settings, 'utf8')).toBe('{}\n');
    await rm(settings, { force: true });

    // --local is this machine's file, with an absolute path to this machine's envs: git must not offer to commit it.
    const exclude = join(fx.repo, '.git', 'info', 'exclude');
    await writeFile(exclude, '# own patterns\n*.swp'); // the first test's --local excluded it already; and no final newline
    const local = await envsOk(fx.repo, fx.home, ['init', 'claude', '--local']);
    expect(await fx.git('status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(local.stdout).toContain(`added to ${exclude}`);
    expect(await readFile(exclude, 'utf8')).toBe('# own patterns\n*.swp\n/.claude/settings.local.json\n');
  });

  it('refuses to add a second WorktreeCreate creator, changing nothing', async () => {
    const settings = join(fx.repo, '.claude', 'settings.local.json');
    const other = '{"hooks":{"WorktreeCreate":[{"hooks":[{"type":"command","command":"./make-worktree.sh"}]}]}}\n';
    await writeFile(settings, other);
    const refused = await envs(fx.repo, fx.home, ['init', 'claude', '--local', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error.code).toBe('CLAUDE_HOOK_CONFLICT');
    expect(await readFile(settings, 'utf8')).toBe(other);
    expect((await labelled(fx.label)).containers).toEqual([]);
  });
});
