import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ComposeModel } from '../compose/model.ts';
import { composeYaml } from '../compose/write.ts';
import { createRedactor, isSecretName, MASK, redactArgv, redactText } from './redact.ts';
import { NOT_SECRETS, SECRET_SHAPES } from './secret-shapes.ts';

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIn0.ZmFrZS1zaWduYXR1cmU';
const SERVICE_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2VydmljZS1zaWduYXR1cmU';

describe('secret names', () => {
  it.each([
    'POSTGRES_PASSWORD',
    'PGPASSWORD',
    'MYSQL_ROOT_PASSWORD',
    'MYSQL_PWD',
    'DB_PASS',
    'SMTP_PW',
    'JWT_SECRET',
    'clientSecret',
    'GITHUB_TOKEN',
    'NODE_AUTH_TOKEN',
    'API_KEY',
    'apiKey',
    'APIKEY',
    'X_API_KEY_ID',
    'STRIPE_KEY',
    'SUPABASE_SERVICE_KEY',
    'DB_ENC_KEY',
    'PRIVATE_KEY',
    'SSH_PRIVATE_KEY_PEM',
    'AWS_SECRET_ACCESS_KEY',
    'GOOGLE_APPLICATION_CREDENTIALS_JSON',
    'SECRET_KEY_BASE',
    'WORDPRESS_AUTH_SALT',
    'SENTRY_DSN',
    'AZURE_STORAGE_CONNECTION_STRING',
    'KEY',
    'requirepass',
    'spring.datasource.password',
    'com.example.db-password',
    'x-secrets',
    'db-password',
  ])('%s is secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each([
    'KEY_PREFIX',
    'CACHE_KEY_PREFIX',
    'PUBLIC_KEY',
    'STRIPE_PUBLISHABLE_KEY',
    'PRIMARY_KEY',
    'KEYBOARD',
    'PWD',
    'OLDPWD',
    'PASSPORT_STRATEGY',
    'BYPASS_CACHE',
    'COMPASS_URL',
    'POSTGRES_PASSWORD_FILE',
    'JWT_SECRET_PATH',
    'TOKEN_TTL',
    'GOTRUE_JWT_EXP',
    'PASSWORD_MIN_LENGTH',
    'REFRESH_TOKEN_ROTATION_ENABLED',
    'SHOW_SECRETS',
    'show-secrets',
    'password-stdin',
    'DATABASE_URL',
    'POSTGRES_USER',
    'AWS_REGION',
    'PORT',
    'environment',
  ])('%s is not secret', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe('secrets by shape', () => {
  const redactor = createRedactor();

  for (const shape of SECRET_SHAPES) {
    it(`masks a ${shape.name}, alone and inside a longer string`, () => {
      for (const [i, example] of shape.examples.entries()) {
        expect(
          shape.hints.some((hint) => example.includes(hint)),
          'a hint of the shape is in its example',
        ).toBe(true);
        for (const text of [example, `before ${example} after`, `"${example}"`]) {
          const out = redactor.text(text);
          expect(out).toContain(MASK);
          const keeps = shape.keeps?.[i];
          if (keeps) {
            for (const keep of keeps) expect(out).toContain(keep);
            // Every longer run of token characters not kept is gone (the key's body, the password).
            for (const run of example.match(/[A-Za-z0-9+/=_-]{8,}/g) ?? []) {
              if (!keeps.some((keep) => keep.includes(run))) expect(out).not.toContain(run);
            }
          } else {
            expect(out).toBe(text.replace(example, MASK));
          }
        }
      }
    });
  }

  it('leaves look-alikes alone', () => {
    for (const text of NOT_SECRETS) expect(redactor.text(text)).toBe(text);
  });

  it('masks URL passwords anywhere in a command line, keeping user, host and database', () => {
    expect(redactor.text('psql "postgres://app:hunter2@db:5432/app" -c "select 1" && redis-cli -u redis://:pw12@cache:6379')).toBe(
      'psql "postgres://app:***@db:5432/app" -c "select 1" && redis-cli -u redis://:***@cache:6379',
    );
  });

  it('is idempotent', () => {
    const once = redactor.text(`PGPASSWORD=pw psql postgres://u:pw@h/db ${JWT}`);
    expect(redactor.text(once)).toBe(once);
  });
});

describe('secret-named assignments inside strings', () => {
  const r = createRedactor();

  it.each([
    ['PGPASSWORD=hunter2 pg_isready -U postgres', 'PGPASSWORD=*** pg_isready -U postgres'],
    ["MYSQL_PWD='two words' mysql -uroot", "MYSQL_PWD='***' mysql -uroot"],
    ['export API_KEY="a b" && run', 'export API_KEY="***" && run'],
    ['mysqldump --password=hunter2 app', 'mysqldump --password=*** app'],
    ['redis-server --requirepass hunter2 --port 6379', 'redis-server --requirepass *** --port 6379'],
    ['host=db user=app password=hunter2 dbname=app', 'host=db user=app password=*** dbname=app'],
    ['https://api.example.com/v1?token=abc123&page=2', 'https://api.example.com/v1?token=***&page=2'],
    [
      'DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=c2VjcmV0;',
      'DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=***;',
    ],
    ['{"user":"app","password":"hunter2","port":5432}', '{"user":"app","password":"***","port":5432}'],
    ['db:\n  user: app\n  password: hunter2\n  host: db', 'db:\n  user: app\n  password: ***\n  host: db'],
  ])('%j', (input, expected) => {
    expect(r.text(input)).toBe(expected);
  });

  it.each([
    'mysql -uroot -phunter2', // -p<pw> is too ambiguous to guess
    'KEY_PREFIX=app: PORT=3000 node server.js',
    'envs info feat/x --show-secrets',
    'docker login --password-stdin user',
    'pg_isready -U postgres -d app',
    'POSTGRES_PASSWORD_FILE=/run/secrets/db_password',
  ])('leaves %j alone', (input) => {
    expect(r.text(input)).toBe(input);
  });

  it('masks the value after a secret-named flag in an argv array', () => {
    expect(redactArgv(['redis-server', '--requirepass', 'hunter2', '--port', '6379'])).toEqual([
      'redis-server',
      '--requirepass',
      MASK,
      '--port',
      '6379',
    ]);
    expect(redactArgv(['docker', 'run', '-e', 'POSTGRES_PASSWORD=hunter2', '--token', '--verbose'])).toEqual([
      'docker',
      'run',
      '-e',
      'POSTGRES_PASSWORD=***',
      '--token',
      '--verbose',
    ]);
  });
});

describe('registered secret values', () => {
  it('masks them wherever they appear, as given, URL-encoded and with Compose $$ escapes', () => {
    const r = createRedactor({ secretValues: ['p@ss/w$rd-123'] });
    expect(r.text('auth failed with p@ss/w$rd-123')).toBe('auth failed with ***');
    expect(r.text('postgres://app:p%40ss%2Fw%24rd-123@db/app')).toBe('postgres://app:***@db/app');
    expect(r.text('echo p@ss/w$$rd-123')).toBe('echo ***');
  });

  it('ignores short values so that true, 5432 or admin are never masked', () => {
    const r = createRedactor().addSecretValues(['true', '5432', 'admin', null, undefined, 'longenough']);
    expect(r.text('admin=true port=5432 x=longenough')).toBe('admin=true port=5432 x=***');
    expect(createRedactor({ minSecretLength: 4 }).addSecretValues(['5432']).text('port 5432')).toBe('port ***');
  });

  it('masks a value containing another one whole', () => {
    const r = createRedactor({ secretValues: ['abcdef', 'abcdefghij'] });
    expect(r.text('x abcdefghij y abcdef')).toBe('x *** y ***');
  });

  it('masks values added later, also in deep values', () => {
    const r = createRedactor();
    expect(r.text('from shell: s3cret-from-shell')).toBe('from shell: s3cret-from-shell');
    r.addSecretValues(['s3cret-from-shell']);
    expect(r.deep({ labels: { note: 'from shell: s3cret-from-shell' } })).toEqual({ labels: { note: 'from shell: ***' } });
  });
});

describe('variables', () => {
  it('masks secret-named values whole, other values by content; empty stays empty', () => {
    expect(
      createRedactor().env({
        POSTGRES_PASSWORD: 'hunter2',
        PGPASSWORD: '',
        DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:21437/app',
        STRIPE_KEY: 'sk',
        PORT: '3000',
        KEYBOARD: 'qwerty',
        NOTHING: null,
      }),
    ).toEqual({
      POSTGRES_PASSWORD: MASK,
      PGPASSWORD: '',
      DATABASE_URL: 'postgres://app:***@127.0.0.1:21437/app',
      STRIPE_KEY: MASK,
      PORT: '3000',
      KEYBOARD: 'qwerty',
      NOTHING: '',
    });
  });
});

/** A model shaped like Supabase's self-hosted compose file, plus the traps the issue names. */
function supabaseLike(): ComposeModel {
  return {
    name: 'supabase',
    services: {
      db: {
        image: 'supabase/postgres:15.1.1.78',
        environment: {
          POSTGRES_HOST: '/var/run/postgresql',
          PGPORT: '5432',
          POSTGRES_PASSWORD: 'your-super-secret-and-long-postgres-password',
          PGPASSWORD: 'your-super-secret-and-long-postgres-password',
          JWT_SECRET: 'your-super-secret-jwt-token-with-at-least-32-characters-long',
          JWT_EXP: '3600',
        },
        healthcheck: {
          test: ['CMD-SHELL', 'PGPASSWORD=hc-pass-9876 pg_isready -U postgres -h localhost'],
          interval: '5s',
        },
      },
      auth: {
        image: 'supabase/gotrue:v2.151.0',
        environment: {
          GOTRUE_DB_DATABASE_URL: 'postgres://supabase_auth_admin:auth-db-pass-1234@db:5432/postgres',
          GOTRUE_JWT_SECRET: 'your-super-secret-jwt-token-with-at-least-32-characters-long',
          GOTRUE_JWT_EXP: '3600',
          GOTRUE_SMTP_PASS: 'smtp-pass-5678',
          GOTRUE_SMTP_USER: 'fake_mail_user',
          GOTRUE_EXTERNAL_PHONE_ENABLED: 'true',
          API_EXTERNAL_URL: 'http://localhost:8000',
        },
      },
      rest: {
        image: 'postgrest/postgrest:v12.0.1',
        command: ['postgrest'],
        environment: { PGRST_DB_URI: 'postgres://authenticator:rest-db-pass-4321@db:5432/postgres', PGRST_DB_SCHEMAS: 'public' },
      },
      kong: {
        image: 'kong:2.8.1',
        environment: { SUPABASE_ANON_KEY: JWT, SUPABASE_SERVICE_KEY: SERVICE_JWT, DASHBOARD_USERNAME: 'supabase', KONG_DATABASE: 'off' },
        entrypoint: ['bash', '-c', `eval "echo \\"$$(cat ~/temp.yml)\\"" > ~/kong.yml && /docker-entrypoint.sh kong docker-start`],
      },
      worker: {
        image: 'app-worker',
        build: { context: '.', args: { NPM_TOKEN: 'npm_FAKEfake0123456789abcdefghijklmnopqr', NODE_VERSION: '22' } },
        command: ['sh', '-c', 'migrate -database "postgres://app:cmd-dsn-pass@db:5432/app?sslmode=disable" up && node worker.js'],
        labels: {
          'traefik.enable': 'true',
          'com.example.webhook-secret': 'whsec-label-1234',
          'com.example.notify': 'https://hooks.slack.com/services/T00000000/B00000000/FAKEfakeFAKEfakeFAKE',
        },
        secrets: [{ source: 'db_password', target: '/run/secrets/db_password' }],
      },
      cache: { image: 'redis:7', command: ['redis-server', '--requirepass', 'redis-pass-2468', '--save', '60', '1'] },
    },
    secrets: { db_password: { file: './secrets/db_password.txt', name: 'supabase_db_password' } },
    'x-secrets': { stripe: 'sk_live_FAKEfake0123456789abcdefXYZ', admin: 'plain-admin-pass', nested: { name: 'ci', value: 42 } },
    'x-notes': { aws: 'key AKIAIOSFODNN7EXAMPLE in use', gh: 'ghp_FAKEfake0123456789abcdefghijklmnopqr' },
  };
}

const PLANTED = [
  'your-super-secret-and-long-postgres-password',
  'your-super-secret-jwt-token-with-at-least-32-characters-long',
  'hc-pass-9876',
  'auth-db-pass-1234',
  'smtp-pass-5678',
  'rest-db-pass-4321',
  JWT,
  SERVICE_JWT,
  'npm_FAKEfake',
  'cmd-dsn-pass',
  'whsec-label-1234',
  'FAKEfakeFAKEfakeFAKE',
  'redis-pass-2468',
  'sk_live_FAKE',
  'plain-admin-pass',
  'AKIAIOSFODNN7EXAMPLE',
  'ghp_FAKE',
];

describe('deep: a whole Compose model', () => {
  it('masks every planted secret and keeps everything else, keys and shape included', async () => {
    const model = supabaseLike();
    const before = structuredClone(model);
    const out = createRedactor().deep(model);
    expect(model).toEqual(before); // the input is not touched

    const json = JSON.stringify(out);
    for (const secret of PLANTED) expect(json).not.toContain(secret);
    expect(Object.keys(out)).toEqual(Object.keys(model));
    expect(out.services.db?.environment).toEqual({
      POSTGRES_HOST: '/var/run/postgresql',
      PGPORT: '5432',
      POSTGRES_PASSWORD: MASK,
      PGPASSWORD: MASK,
      JWT_SECRET: MASK,
      JWT_EXP: '3600',
    });
    expect(out.services.db?.healthcheck).toEqual({
      test: ['CMD-SHELL', 'PGPASSWORD=*** pg_isready -U postgres -h localhost'],
      interval: '5s',
    });
    expect(out.services.auth?.environment?.GOTRUE_DB_DATABASE_URL).toBe('postgres://supabase_auth_admin:***@db:5432/postgres');
    expect(out.services.auth?.environment?.GOTRUE_EXTERNAL_PHONE_ENABLED).toBe('true');
    expect(out.services.kong?.environment?.DASHBOARD_USERNAME).toBe('supabase');
    expect(out.services.kong?.entrypoint).toEqual(model.services.kong?.entrypoint);
    expect(out.services.worker?.command).toEqual([
      'sh',
      '-c',
      'migrate -database "postgres://app:***@db:5432/app?sslmode=disable" up && node worker.js',
    ]);
    expect(out.services.worker?.build).toEqual({ context: '.', args: { NPM_TOKEN: MASK, NODE_VERSION: '22' } });
    expect(out.services.worker?.labels?.['traefik.enable']).toBe('true');
    expect(out.services.worker?.secrets).toEqual(model.services.worker?.secrets); // references, not values
    expect(out.services.cache?.command).toEqual(['redis-server', '--requirepass', MASK, '--save', '60', '1']);
    expect(out.secrets).toEqual(model.secrets);
    expect(out['x-secrets']).toEqual({ stripe: MASK, admin: MASK, nested: { name: 'ci', value: MASK } });
    expect(out['x-notes']).toEqual({ aws: 'key *** in use', gh: MASK });
  });

  it('still serialises to valid YAML and JSON of the same shape', async () => {
    const out = createRedactor().deep(supabaseLike());
    const yaml = await composeYaml(out);
    for (const secret of PLANTED) expect(yaml).not.toContain(secret);
    expect(parse(yaml)).toEqual(out); // `***` is quoted (a bare `*` would start a YAML alias)
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it("masks an inline Compose secret's content", () => {
    expect(createRedactor().deep({ secrets: { token: { content: 'inline-content-1' }, other: { environment: 'OTHER' } } })).toEqual({
      secrets: { token: { content: MASK }, other: { environment: 'OTHER' } },
    });
  });

  it('with show (--show-secrets) returns everything as it was', () => {
    const r = createRedactor({ show: true, secretValues: ['abcdefgh'] });
    const model = supabaseLike();
    expect(r.deep(model)).toEqual(model);
    expect(r.text('PGPASSWORD=abcdefgh')).toBe('PGPASSWORD=abcdefgh');
    expect(r.env({ PASSWORD: 'x' })).toEqual({ PASSWORD: 'x' });
    expect(r.argv(['--password', 'x'])).toEqual(['--password', 'x']);
  });

  it('is fast enough for a 20-service model', () => {
    const base = supabaseLike();
    const services: ComposeModel['services'] = {};
    for (let i = 0; i < 20; i++) {
      const [name, service] = Object.entries(base.services)[i % 6] ?? [];
      services[`${name}${i}`] = structuredClone(service ?? {});
    }
    const model = { ...base, services };
    const r = createRedactor({ secretValues: ['shell-value-1', 'shell-value-2', 'generated-db-password-xyz'] });
    r.deep(model); // warm up the regular expressions
    const started = performance.now();
    for (let i = 0; i < 10; i++) r.deep(model);
    const each = (performance.now() - started) / 10;
    expect(each).toBeLessThan(25); // measured ~1 ms on the 2-core CI machine
  });
});

describe('hostile input', () => {
  // Each of these took minutes before the patterns only started at word boundaries (quadratic scans).
  it.each([
    ['a long word', 'a'.repeat(100_000)],
    ['a long password-less URL', `x://host:${'p'.repeat(100_000)}`],
    ['a long snake_case run', `${'a_'.repeat(50_000)}:pw`],
    ['a long dotted run', `${'a.'.repeat(50_000)}:x@tcp(`],
    ['many colons', `${'a:'.repeat(50_000)}@tcp(`],
    ['many JSON members', '"a":'.repeat(25_000)],
    ['many secret lines', 'password: x\n'.repeat(10_000)],
  ])('takes linear time on %s', (_, text) => {
    const started = performance.now();
    createRedactor({ secretValues: ['some-secret-value'] }).text(text);
    expect(performance.now() - started).toBeLessThan(1000); // ~10-50 ms measured; quadratic was > 60 s
  });
});

describe('redactText', () => {
  it('works without a redactor at hand (debug traces)', () => {
    expect(redactText('+ docker run -e PGPASSWORD=hunter2 postgres://u:hunter2@h/db')).toBe(
      '+ docker run -e PGPASSWORD=*** postgres://u:***@h/db',
    );
  });
});
