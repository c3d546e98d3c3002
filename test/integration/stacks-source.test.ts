import { lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { httpGet } from '../support/net.ts';
import { useRepo } from '../support/repo.ts';

/**
 * The Supabase self-hosted layout: the compose file and its `.env` live in `docker/`; the `.env` is
 * gitignored (each developer copies it from `.env.example`), and Compose interpolates secrets, ports and
 * COMPOSE_PROFILES from it.
 */
const supabaseLayout = {
  'docker/docker-compose.yml': `name: supabase
services:
  kong:
    image: ${images.busybox}
    container_name: supabase-kong
    init: true
    environment:
      JWT_SECRET: \${JWT_SECRET}
    command: ["sh", "-c", "mkdir -p /www && echo \\"jwt=$$JWT_SECRET\\" > /www/index.html && exec httpd -f -p 8000 -h /www"]
    ports:
      - "\${KONG_HTTP_PORT}:8000"
  analytics:
    image: ${images.busybox}
    container_name: supabase-analytics
    init: true
    profiles: [analytics]
    command: ["sleep", "3600"]
`,
  'docker/.env.example': 'JWT_SECRET=your-super-secret-jwt-token\nKONG_HTTP_PORT=8000\n',
  '.gitignore': 'docker/.env\n.env\n',
};

describe('a compose file in a subdirectory with its own gitignored .env', () => {
  const fx = useRepo(supabaseLayout, 'supa', async (fx) => {
    // The developer's own copy of .env.example, in the main checkout only.
    await writeFile(
      join(fx.repo, 'docker/.env'),
      'JWT_SECRET=super-secret-jwt-token-with-at-least-32-characters\nKONG_HTTP_PORT=8000\nCOMPOSE_PROFILES=analytics\n',
    );
  });

  it('is named, never guessed at, when envs.yaml does not choose it; and runs once chosen', async () => {
    const refused = await envs(fx.repo, fx.home, ['plan', 'feat/a', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error.code).toBe('COMPOSE_NOT_CHOSEN');
    expect(refused.json.error.message).toMatch(/docker\/docker-compose\.yml/);
    expect(refused.json.error.hint).toMatch(/files: \[docker\/docker-compose\.yml\]/);
    expect(refused.json.error.hint).toMatch(/compose: \{ embedded: true \}/);

    // The hint's other way out, written as it says: envs's own Postgres instead of the compose file.
    await fx.write({ 'envs.yaml': 'compose: { embedded: true }\n' });
    await fx.commit('use the embedded Postgres');
    const embedded = (await envsOk(fx.repo, fx.home, ['plan', 'feat/a', '--json'])).json;
    expect(embedded.warnings).toContainEqual(expect.stringMatching(/embedded Postgres .* as envs\.yaml says/));
    expect(embedded.source_files).toEqual([]);

    await fx.write({ 'envs.yaml': 'compose:\n  files: [docker/docker-compose.yml]\n' });
    await fx.commit('choose the compose file');
    const plan = (await envsOk(fx.repo, fx.home, ['plan', 'feat/a', '--json'])).json;
    expect(plan.copies).toEqual(['docker/.env']);
    expect(plan.compose_yaml).not.toMatch(/super-secret-jwt/);
  });

  it('runs two envs side by side with the .env Compose would read, its profiles, and never COMPOSE_PROJECT_NAME', async () => {
    const shell = { COMPOSE_PROJECT_NAME: 'hijacked' };
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'], shell)).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'], shell)).json;
    for (const env of [a, b]) {
      expect(env.project).toMatch(/^envs-supa-/);
      expect(env.services).toEqual(['analytics', 'kong']); // COMPOSE_PROFILES=analytics from docker/.env
      const kong = env.ports.find((p: any) => p.service === 'kong');
      expect(await httpGet(kong.published)).toBe('jwt=super-secret-jwt-token-with-at-least-32-characters');
      const copied = join(env.worktree, 'docker/.env');
      expect((await stat(copied)).mode & 0o777).toBe(0o600);
      expect(await readFile(copied, 'utf8')).toMatch(/^JWT_SECRET=super-secret/);
    }
    expect(a.ports[0].published).not.toBe(b.ports[0].published);

    // The copied .env is envs's own, unchanged: destroy needs no --force and removes everything.
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
    expect(await readFile(join(fx.repo, 'docker/.env'), 'utf8')).toMatch(/COMPOSE_PROFILES=analytics/);
  });

  it('keeps a copied .env the user edited: destroy refuses without --force', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/edited', '--json'])).json;
    await writeFile(join(env.worktree, 'docker/.env'), 'JWT_SECRET=my-own-edit\n');
    const refused = await envs(fx.repo, fx.home, ['destroy', 'feat/edited', '--json']);
    expect(refused.json.error.code).toBe('DIRTY_WORKTREE');
    expect(refused.json.error.message).toMatch(/docker\/\.env/);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/edited', '--force']);
    await expectNothingLeft(fx.label);
  });
});

describe('a repository without any compose file', () => {
  const fx = useRepo({ 'README.md': 'no compose here\n' }, 'bare-app');

  it('gets the embedded Postgres, and plan says so', async () => {
    const plan = await envsOk(fx.repo, fx.home, ['plan', 'feat/x']);
    expect(plan.stdout).toMatch(/No compose file in this repository: each env gets envs's embedded Postgres \(/);
    const json = (await envsOk(fx.repo, fx.home, ['plan', 'feat/x', '--json'])).json;
    expect(json.template).toBe('postgres');
    expect(json.warnings.join('\n')).toMatch(/embedded Postgres/);
  });
});

describe('committed symlinks', () => {
  const fx = useRepo(
    {
      'compose.yaml': `services:
  web:
    image: ${images.busybox}
    init: true
    env_file: apps/web/.env
    command: ["sh", "-c", "mkdir -p /www && echo \\"$$GREETING\\" > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["8080:80"]
`,
      '.gitignore': '/.env\n',
    },
    'linked',
    async (fx) => {
      // apps/web/.env is a committed link to the root .env, which each developer has and git ignores.
      await fx.write({ 'apps/web/README.md': 'web\n' });
      await symlink('../../.env', join(fx.repo, 'apps/web/.env'));
      await fx.commit('link the app env to the root one');
      await writeFile(join(fx.repo, '.env'), 'GREETING=hello-through-the-link\n');
      // A branch whose link leads out of the repository.
      await fx.git('switch', '-q', '-c', 'evil-link');
      await fx.git('rm', '-q', 'apps/web/.env');
      await symlink('/etc/hostname', join(fx.repo, 'apps/web/.env'));
      await fx.commit('link out of the repository');
      await fx.git('switch', '-q', 'main');
    },
  );

  it('reads what Compose reads, the link target (copied from the main checkout), in two envs', async () => {
    const a = (await envsOk(fx.repo, fx.home, ['create', 'feat/a', '--json'])).json;
    const b = (await envsOk(fx.repo, fx.home, ['create', 'feat/b', '--json'])).json;
    for (const env of [a, b]) {
      expect(await httpGet(env.ports[0].published)).toBe('hello-through-the-link');
      expect((await lstat(join(env.worktree, 'apps/web/.env'))).isSymbolicLink()).toBe(true);
      expect(await readFile(join(env.worktree, '.env'), 'utf8')).toBe('GREETING=hello-through-the-link\n');
    }
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/a']);
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/b']);
    await expectNothingLeft(fx.label);
  });

  it('refuses a link that resolves outside the repository, naming it, and changes nothing', async () => {
    for (const command of ['plan', 'create']) {
      const result = await envs(fx.repo, fx.home, [command, 'evil-link', '--json']);
      expect(result.exitCode).toBe(1);
      expect(result.json.error.code).toBe('OUTSIDE_REPO');
      expect(result.json.error.message).toMatch(/apps\/web\/\.env .*resolves outside the repository \(\/etc\/hostname\)/);
    }
    expect(await fx.git('worktree', 'list')).not.toMatch(/evil/);
    await expectNothingLeft(fx.label);
  });
});
