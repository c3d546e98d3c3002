import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet } from '../support/net.ts';
import { useRepo, webFiles } from '../support/repo.ts';

describe('where the branch of an env comes from', () => {
  let tagCommit: string;
  const fx = useRepo(webFiles(), 'origins', async (fx) => {
    await fx.git('tag', 'v1');
    tagCommit = await fx.git('rev-parse', 'v1');
    await fx.write({ 'CHANGELOG.md': 'later\n' });
    await fx.commit('after v1');
    // An existing local branch with a commit of its own.
    await fx.git('branch', 'feat/existing');
    await fx.git('switch', '-q', 'feat/existing');
    await fx.write({ 'existing.txt': 'mine\n' });
    await fx.commit('existing work');
    await fx.git('switch', '-q', 'main');
    // A branch that exists only on the remote.
    const remote = join(fx.root, 'remote.git');
    await execa('git', ['clone', '-q', '--bare', fx.repo, remote]);
    await execa('git', ['-C', remote, 'branch', 'feat/remote-only', 'main']);
    await fx.git('remote', 'add', 'origin', remote);
    await fx.git('fetch', '-q', 'origin');
  });

  it('starts a new branch from the default branch, or from --from', async () => {
    const fromDefault = (await envsOk(fx.repo, fx.home, ['plan', 'feat/new', '--json'])).json;
    expect(fromDefault.checkout).toMatchObject({ kind: 'new', ref: 'main', commit: await fx.git('rev-parse', 'main') });
    const fromTag = (await envsOk(fx.repo, fx.home, ['plan', 'feat/new', '--from', 'v1', '--json'])).json;
    expect(fromTag.checkout).toEqual({ kind: 'new', ref: 'v1', commit: tagCommit });

    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/new', '--from', 'v1', '--json'])).json;
    expect(await fx.git('rev-parse', 'feat/new')).toBe(tagCommit);
    expect(await fx.git('-C', env.worktree, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('feat/new');
    // No upstream: a later `git push` cannot go to the start point by accident.
    expect((await execa('git', ['-C', env.worktree, 'rev-parse', '--abbrev-ref', '@{upstream}'], { reject: false })).exitCode).not.toBe(0);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/new']);
  });

  it('checks out an existing branch as it is; --from with an existing branch is an error, not silently ignored', async () => {
    const refused = await envs(fx.repo, fx.home, ['create', 'feat/existing', '--from', 'v1', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({
      code: 'BRANCH_EXISTS',
      message: expect.stringMatching(/Branch feat\/existing already exists \(at [0-9a-f]{8}\): --from v1 would be ignored/),
    });
    expect(await fx.git('worktree', 'list')).not.toMatch(/existing/);
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/existing', '--json'])).json;
    expect(env.base).toEqual({ ref: 'feat/existing', commit: await fx.git('rev-parse', 'feat/existing') });
    expect((await stat(join(env.worktree, 'existing.txt'))).isFile()).toBe(true);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/existing']);
    expect(await fx.git('log', '-1', '--format=%s', 'feat/existing')).toBe('existing work');
  });

  it('tracks a branch that exists only on origin', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/remote-only', '--json'])).json;
    expect(env.base.ref).toBe('origin/feat/remote-only');
    expect(await fx.git('-C', env.worktree, 'rev-parse', '--abbrev-ref', '@{upstream}')).toBe('origin/feat/remote-only');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/remote-only']);
    await expectNothingLeft(fx.label);
  });
});

describe('up applies what the branch changed in its compose file', () => {
  const fx = useRepo(webFiles(), 'evolving');

  it('adds a service with its own port, keeping the ports it had', async () => {
    const created = (await envsOk(fx.repo, fx.home, ['create', 'feat/grow', '--json'])).json;
    await writeFile(
      join(created.worktree, 'compose.yaml'),
      `services:
  web:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "mkdir -p /srv && echo web > /srv/index.html && exec httpd -f -p 80 -h /srv"]
    ports: ["8080:80"]
  api:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "mkdir -p /srv && echo api > /srv/index.html && exec httpd -f -p 80 -h /srv"]
    ports: ["8080:80"]
`,
    );
    const grown = (await envsOk(fx.repo, fx.home, ['up', 'feat/grow', '--json'])).json;
    const port = (service: string) => grown.ports.find((p: any) => p.service === service).published;
    expect(port('web')).toBe(created.ports[0].published);
    expect(port('api')).not.toBe(port('web'));
    expect(await httpGet(port('api'))).toBe('api');
    expect(await httpGet(port('web'))).toBe('web');
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/grow', '--force']);
    await expectNothingLeft(fx.label);
  });
});
