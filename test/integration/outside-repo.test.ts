import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/** A compose file is the branch's code: each of these tries to make `plan` read or hand out a host file. */
const HOSTILE: [string, string, RegExp][] = [
  ['env-file-absolute', 'services:\n  app:\n    image: IMG\n    env_file: /etc/shadow\n', /services\.app\.env_file: \/etc\/shadow/],
  ['env-file-proc', 'services:\n  app:\n    image: IMG\n    env_file: [/proc/self/environ]\n', /\/proc\/self\/environ/],
  [
    'env-file-long',
    'services:\n  app:\n    image: IMG\n    env_file:\n      - path: ../../../../etc/passwd\n        required: false\n',
    /services\.app\.env_file: \.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd/,
  ],
  ['env-file-home', 'services:\n  app:\n    image: IMG\n    env_file: ~/.git-credentials\n', /~\/\.git-credentials/],
  [
    'env-file-interpolated',
    'services:\n  app:\n    image: IMG\n    env_file: ${HOME}/.git-credentials\n',
    /services\.app\.env_file: \/.*\.git-credentials/,
  ],
  [
    'include-absolute',
    'include:\n  - /etc/envs-outside.yaml\nservices:\n  app:\n    image: IMG\n',
    /include\[0\]: \/etc\/envs-outside\.yaml/,
  ],
  ['include-parent', 'include:\n  - path: ../outside.yaml\nservices:\n  app:\n    image: IMG\n', /include\[0\]\.path: \.\.\/outside\.yaml/],
  [
    'extends-absolute',
    'services:\n  app:\n    extends:\n      file: /etc/envs-base.yaml\n      service: base\n',
    /services\.app\.extends\.file/,
  ],
  [
    'secret-file',
    'services:\n  app:\n    image: IMG\n    secrets: [key]\nsecrets:\n  key:\n    file: /root/.ssh/id_ed25519\n',
    /secrets\.key\.file: \/root\/\.ssh\/id_ed25519/,
  ],
  [
    'config-file',
    'services:\n  app:\n    image: IMG\n    configs: [c]\nconfigs:\n  c:\n    file: ../../../etc/hosts\n',
    /configs\.c\.file/,
  ],
  ['build-context', 'services:\n  app:\n    build: ../../..\n', /services\.app\.build\.context: \.\.\/\.\.\/\.\./],
];

describe('plan and create read nothing outside the repository', () => {
  const fx = useRepo({ 'compose.yaml': `services:\n  app:\n    image: ${images.busybox}\n` }, 'sealed', async (fx) => {
    for (const [branch, compose] of HOSTILE) {
      await fx.git('switch', '-q', '-c', branch, 'main');
      await fx.write({ 'compose.yaml': compose.replaceAll('IMG', images.busybox) });
      await fx.commit(branch);
    }
    await fx.git('switch', '-q', 'main');
  });

  it.each(HOSTILE)('%s is refused with its key named, in plan and create alike, and nothing changes', async (branch, _compose, where) => {
    const before = await snapshot(fx);
    for (const command of ['plan', 'create']) {
      const result = await envs(fx.repo, fx.home, [command, branch, '--json'], { SHELL_SECRET: 'do-not-print-me' });
      expect(result.exitCode, result.stdout).toBe(1);
      expect(result.json.error.code).toBe('OUTSIDE_REPO');
      expect(result.json.error.message).toMatch(where);
      expect(result.json.error.message).toMatch(/resolves outside the repository/);
      expect(result.stdout + result.stderr).not.toMatch(/root:|do-not-print-me/);
    }
    expect(await snapshot(fx)).toEqual(before);
  });

  it('paths inside the repository stay allowed, also through .. from a subdirectory', async () => {
    await fx.git('switch', '-q', '-c', 'inside', 'main');
    await fx.write({
      'deploy/compose.yaml': `services:\n  app:\n    image: ${images.busybox}\n    env_file: ../config/app.env\n`,
      'config/app.env': 'GREETING=inside\n',
      'envs.yaml': 'compose:\n  files: [deploy/compose.yaml]\n',
    });
    await fx.commit('inside');
    await fx.git('switch', '-q', 'main');
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'inside', '--json'])).json;
    expect(plan.compose.services.app.environment).toEqual({ GREETING: 'inside' });
  });

  it('an allow-list on the default branch opens a path; the same list only on the branch does not', async () => {
    const outside = join(fx.root, 'shared.env');
    await writeFile(outside, 'SHARED=from-outside\n');
    const compose = `services:\n  app:\n    image: ${images.busybox}\n    env_file: ${outside}\n`;

    await fx.git('switch', '-q', '-c', 'self-allowed', 'main');
    await fx.write({ 'compose.yaml': compose, 'envs.yaml': `policy:\n  allowPaths: [${outside}]\n` });
    await fx.commit('a branch that allows itself');
    await fx.git('switch', '-q', 'main');
    expect((await envs(fx.repo, fx.home, ['plan', 'self-allowed', '--json'])).json.error.code).toBe('OUTSIDE_REPO');

    await fx.write({ 'envs.yaml': `policy:\n  allowPaths: [${outside}]\n` });
    await fx.commit('the default branch allows it');
    await fx.git('switch', '-q', '-c', 'allowed', 'main');
    await fx.write({ 'compose.yaml': compose });
    await fx.commit('uses the allowed path');
    await fx.git('switch', '-q', 'main');
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'allowed', '--json'])).json;
    expect(plan.compose.services.app.environment).toEqual({ SHARED: 'from-outside' });
    await expectNothingLeft(fx.label);
  });
});
