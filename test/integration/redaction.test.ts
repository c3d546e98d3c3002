import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CliResult, envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { useRepo, webFiles } from '../support/repo.ts';

/** Every secret the compose file below holds, each where the issue says secrets hide. */
const SECRETS = {
  envPassword: 'it-pg-password-1',
  urlPassword: 'it-url-password-2',
  redisUrlPassword: 'it-redis-password-3',
  stripe: 'sk_live_ITfake0123456789abcdefXYZ',
  githubUnderHarmlessKey: 'ghp_ITfake0123456789abcdefghijklmnopqrs',
  awsKeyId: 'AKIAITFAKE0123456789',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.SVRmYWtlLXNpZ25hdHVyZQ',
  pemBody: 'MIIEowIBAAKCAQEAitFAKEpemBODY0123456789',
  commandDsn: 'it-cmd-password-4',
  commandPgPassword: 'it-cmd-password-5',
  redisFlag: 'it-redis-flag-6',
  healthcheck: 'it-hc-password-7',
  label: 'it-label-secret-8',
  slackPath: 'ITfakeSLACKpath9',
  slackToken: 'xoxb-1234567890-ITfakeSLACKtoken',
  xField: 'it-xfield-secret-10',
  gitlab: 'glpat-ITfake0123456789abcdef',
  google: 'AIzaSyITfake0123456789abcdefghijklmnopq',
  buildArg: 'it-build-token-11',
  entrypoint: 'it-entry-password-12',
};

const composeWithSecrets = `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: ${SECRETS.envPassword}
      DATABASE_URL: postgres://app:${SECRETS.urlPassword}@db:5432/app
      REDIS_URL: redis://:${SECRETS.redisUrlPassword}@cache:6379/0
      STRIPE_SECRET_KEY: ${SECRETS.stripe}
      GREETING: "deploy with ${SECRETS.githubUnderHarmlessKey} please"
      AWS_ACCESS_KEY_ID: ${SECRETS.awsKeyId}
      SUPABASE_ANON_KEY: ${SECRETS.jwt}
      TLS_KEY_PEM: |
        -----BEGIN RSA PRIVATE KEY-----
        ${SECRETS.pemBody}
        -----END RSA PRIVATE KEY-----
      POSTGRES_DB: app
    healthcheck:
      test: ["CMD-SHELL", "PGPASSWORD=${SECRETS.healthcheck} pg_isready -U postgres -d app"]
      interval: 1s
    labels:
      com.example.webhook-secret: ${SECRETS.label}
      com.example.alerts: https://hooks.slack.com/services/T0/B0/${SECRETS.slackPath}
      com.example.note: "bot ${SECRETS.slackToken}"
  migrate:
    image: ${images.busybox}
    entrypoint: ["/bin/migrate", "--password=${SECRETS.entrypoint}"]
    command: ["sh", "-c", "migrate -database postgres://app:${SECRETS.commandDsn}@db/app up && PGPASSWORD=${SECRETS.commandPgPassword} psql -h db"]
  cache:
    image: ${images.busybox}
    command: ["redis-server", "--requirepass", "${SECRETS.redisFlag}"]
  web:
    build:
      context: ./web
      args:
        NPM_TOKEN: ${SECRETS.buildArg}
    image: secretapp-web:latest
    ports: ["8080:80"]
x-secrets:
  admin: ${SECRETS.xField}
x-integrations:
  gitlab: ${SECRETS.gitlab}
  maps: ${SECRETS.google}
`;

function expectNoSecret(result: CliResult): void {
  for (const [where, secret] of Object.entries(SECRETS)) {
    expect(result.stdout, `${where} leaked on stdout`).not.toContain(secret);
    expect(result.stderr, `${where} leaked on stderr`).not.toContain(secret);
  }
}

describe('plan prints no secret', () => {
  const fx = useRepo(
    {
      'compose.yaml': composeWithSecrets,
      'web/Dockerfile': `FROM ${images.busybox}\n`,
    },
    'secretapp',
    async (fx) => {
      // A compose file Compose rejects while quoting the secret back.
      await fx.git('switch', '-q', '-c', 'broken-secret');
      await fx.write({ 'compose.yaml': `services:\n  web:\n    image: ${images.busybox}\n    ports: ["${SECRETS.stripe}:80"]\n` });
      await fx.commit('broken');
      await fx.git('switch', '-q', 'main');
    },
  );

  it('in --json: the model, the generated YAML and everything else; both still parse, and agree', async () => {
    const result = await envsOk(fx.repo, fx.home, ['plan', 'feat/secret', '--json']);
    expectNoSecret(result);
    const plan = result.json;
    expect(parse(plan.compose_yaml)).toEqual(plan.compose);
    const { db, migrate, cache, web } = plan.compose.services;
    expect(db.environment).toMatchObject({
      POSTGRES_PASSWORD: '***',
      DATABASE_URL: 'postgres://app:***@db:5432/app',
      REDIS_URL: 'redis://:***@cache:6379/0',
      GREETING: 'deploy with *** please',
      POSTGRES_DB: 'app',
    });
    expect(db.environment.TLS_KEY_PEM).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\*\*\*-----END RSA PRIVATE KEY-----/);
    expect(db.healthcheck.test).toEqual(['CMD-SHELL', 'PGPASSWORD=*** pg_isready -U postgres -d app']);
    expect(migrate.command[2]).toBe('migrate -database postgres://app:***@db/app up && PGPASSWORD=*** psql -h db');
    expect(cache.command).toEqual(['redis-server', '--requirepass', '***']);
    expect(web.build.args).toEqual({ NPM_TOKEN: '***' });
    expect(plan.compose['x-secrets']).toEqual({ admin: '***' });
    expect(plan.compose.services.web.ports[0].host_ip).toBe('127.0.0.1'); // the rest of the plan is intact
    expect(await filesUnder(fx.home)).toEqual([]); // plan wrote nothing (its scratch directory is gone again)
  });

  it('in human output', async () => {
    const result = await envsOk(fx.repo, fx.home, ['plan', 'feat/secret']);
    expectNoSecret(result);
    expect(result.stdout).toMatch(/POSTGRES_PASSWORD: "\*\*\*"/);
  });

  it('with --show-secrets, shows them all', async () => {
    const asJson = await envsOk(fx.repo, fx.home, ['plan', 'feat/secret', '--json', '--show-secrets']);
    const human = await envsOk(fx.repo, fx.home, ['plan', 'feat/secret', '--show-secrets']);
    for (const secret of Object.values(SECRETS)) {
      expect(JSON.stringify(asJson.json.compose)).toContain(secret);
      expect(asJson.json.compose_yaml).toContain(secret);
      expect(human.stdout).toContain(secret);
    }
  });

  it('in errors that quote the compose file', async () => {
    const human = await envs(fx.repo, fx.home, ['plan', 'feat/other', '--from', 'broken-secret']);
    const asJson = await envs(fx.repo, fx.home, ['plan', 'feat/other', '--from', 'broken-secret', '--json']);
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toMatch(/^error: Compose rejected the compose file: Invalid hostPort: \*\*\*/);
    expect(asJson.json.error).toMatchObject({ code: 'COMPOSE_INVALID', message: expect.stringMatching(/Invalid hostPort: \*\*\*/) });
    expectNoSecret(human);
    expectNoSecret(asJson);
    await expectNothingLeft(fx.label);
  });
});

/** Each part tries to start a new line, colour what follows, or reorder it (U+202E). */
const FORGE = '\nerror: forged\r\x1b[31m\u202E';
/** What no human output may hold: a raw control or bidi character, or a line a name started. */
function expectNotForged(text: string): void {
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/);
  expect(text).not.toMatch(/^error: forged/m);
}

describe('names cannot forge human output', () => {
  const branch = 'feat/\u202Eevil'; // git allows any character but controls in a branch name
  const fx = useRepo(webFiles(), 'forgery', async (fx) => {
    await fx.git('switch', '-q', '-c', 'forged-compose');
    await fx.write({
      'compose.yaml': `services:\n  web:\n    image: ${images.busybox}\n    container_name: "web\\nerror: forged\\r\\e[31m\\u202E"\n    ports: ["8080:80"]\n`,
      'envs.yaml': 'worktrees:\n  dir: "../wt\\nerror: forged\\r\\e[31m\\u202E"\n',
    });
    await fx.commit('forged names');
    await fx.git('switch', '-q', 'main');
  });

  it('plan: container names and worktree paths from the branch; --json is one document with the names intact', async () => {
    const human = await envsOk(fx.repo, fx.home, ['plan', 'feat/forge', '--from', 'forged-compose']);
    expectNotForged(human.stdout);
    expectNotForged(human.stderr);
    expect(human.stdout).toContain('web\\x0aerror: forged\\x0d\\x1b[31m\\u202e');
    const asJson = await envsOk(fx.repo, fx.home, ['plan', 'feat/forge', '--from', 'forged-compose', '--json']);
    expect(asJson.json.worktree).toContain(`wt${FORGE}`);
    expect(asJson.stdout).not.toMatch(/\u202E/); // escaped in the JSON text, the same once parsed
  });

  it('list, info, a refused destroy and a forced one: branch names and file names', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', branch, '--json'])).json;
    expect(env.branch).toBe(branch);
    const file = `notes${FORGE}.md`;
    await writeFile(join(env.worktree, file), 'work');

    for (const args of [['list'], ['info', branch]]) {
      const result = await envsOk(fx.repo, fx.home, args);
      expectNotForged(result.stdout);
      expect(result.stdout).toContain('feat/\\u202eevil');
    }
    const listed = await envsOk(fx.repo, fx.home, ['list', '--json']);
    expect(listed.json[0].branch).toBe(branch);

    const refused = await envs(fx.repo, fx.home, ['destroy', branch]);
    expect(refused.exitCode).toBe(1);
    expectNotForged(refused.stderr);
    expect(refused.stderr).toContain('untracked notes\\x0aerror: forged\\x0d\\x1b[31m\\u202e.md');
    expect(refused.stderr.match(/^\S.*$/gm)).toEqual([expect.stringMatching(/^error: /), expect.stringMatching(/^hint: /)]);
    const refusedJson = await envs(fx.repo, fx.home, ['destroy', branch, '--json']);
    expect(refusedJson.json.error.details.files).toEqual([{ path: file, kind: 'untracked' }]);

    const forced = await envsOk(fx.repo, fx.home, ['destroy', branch, '--force']);
    expectNotForged(forced.stdout);
    expectNotForged(forced.stderr);
    expect(forced.stdout).toContain('--force deleted 1 untracked or ignored file(s): notes\\x0aerror');
    await expectNothingLeft(fx.label);
  });

  it('--json prints one document when create fails after its progress began', async () => {
    await fx.git('switch', '-q', '-c', 'fails-to-start');
    await fx.write({
      'compose.yaml': `services:\n  web:\n    image: ${images.busybox}\n    command: ["sh", "-c", "exit 3"]\n    ports: ["8080:80"]\n`,
    });
    await fx.commit('a service that exits');
    await fx.git('switch', '-q', 'main');
    const result = await envs(fx.repo, fx.home, ['create', 'feat/fails', '--from', 'fails-to-start', '--json']);
    expect(result.exitCode).toBe(1);
    expect(result.json?.error?.code).toBe('SERVICE_FAILED'); // stdout parsed as exactly one JSON document
    await expectNothingLeft(fx.label);
  });
});

/** Every file (not directory) under a directory, recursively; none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => e.name);
}
