/**
 * The bad-input corpus (issue 7): one table of refused inputs — compose files, paths leaving the repository,
 * envs.yaml, branch and env names, state files, engine faults and the environment — each run through the
 * built CLI twice (human and --json) against one shared repository that holds two running envs, asserting:
 * the exit code; `error: ` + a `hint: ` line and nothing else on stderr (no stack trace); exactly one
 * `{"error": {code, message, hint}}` document with --json; no canary secret (shell environment, compose
 * files, a host file outside the repository, a state file) in any output; and nothing changed — git's
 * worktrees, branches, refs and status, the state files, the engine's resources and container states.
 *
 * A case with `bug` is a misbehaviour of today's envs: it runs as `it.fails` (it must still fail), so fixing
 * the bug turns it red until the marker goes. ENVS_CORPUS_BUGS=show runs them as ordinary tests, to see how they fail.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, type ExpectStatic, expect, it } from 'vitest';
import { type CliResult, envs, envsOk } from '../support/cli.ts';
import { images } from '../support/images.ts';
import { type Fixture, useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

type Family = 'compose' | 'paths' | 'config' | 'names' | 'state' | 'engine';
type Files = Record<string, string | Buffer | { link: string }>;

interface Case {
  family: Family;
  /** Unique; also the branch `files` are committed on. */
  id: string;
  what: string;
  /** Committed on a branch named `id`, made from main (placeholders filled). */
  files?: Files;
  /** The command; placeholders filled (@BRANCH@ = id). `--json` is added for the second run. */
  args: string[];
  code: string;
  message: RegExp;
  exit?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Changes the world before the run and returns how to undo it; makes the case run alone. */
  setup?: () => Promise<() => Promise<void>>;
  /** A known misbehaviour of envs (see the file's comment). */
  bug?: string;
}

// ------------------------------------------------------------------------------------------- canaries
// Every secret shares TOKEN: no output may contain it.
const TOKEN = `k${randomBytes(6).toString('hex')}`;
const CANARY = {
  shell: `canary-shell-${TOKEN}`,
  compose: `canary-compose-${TOKEN}`,
  outside: `canary-outside-${TOKEN}`,
  state: `canary-state-${TOKEN}`,
};

// ------------------------------------------------------------------------------------------- the world
const fx = useRepo(
  {
    'compose.yaml': service().replaceAll('@IMG@', images.busybox),
    '.gitignore': 'node_modules/\n',
  },
  'corpus',
  async (fx) => {
    const out = join(fx.root, 'outside');
    await mkdir(join(out, 'ctx'), { recursive: true });
    await mkdir(join(fx.root, 'fakehome'), { recursive: true });
    const secretEnv = `OUTSIDE_SECRET=${CANARY.outside}\nPOSTGRES_PASSWORD=${CANARY.outside}\n`;
    await writeFile(join(out, 'secret.env'), secretEnv);
    await writeFile(
      join(out, 'base.yaml'),
      `services:\n  base:\n    image: ${images.busybox}\n    environment:\n      S: ${CANARY.outside}\n`,
    );
    await writeFile(join(out, 'ctx', 'Dockerfile'), `FROM ${images.busybox}\nRUN echo ${CANARY.outside}\n`);
    await writeFile(join(fx.root, 'fakehome', 'secret.env'), secretEnv);
    await writeFile(join(fx.root, 'fakehome', '.git-credentials'), `https://user:${CANARY.outside}@example.com\n`);
    await writeFile(join(fx.root, 'home-file'), `not a directory ${CANARY.state}\n`);

    for (const c of CASES) if (c.files) await commitBranch(fx, c.id, c.files);

    // Two running envs: "nothing changed" covers a populated state, and the second one's branch is the first's
    // env name, so that word is ambiguous.
    existing = (await envsOk(fx.repo, fx.home, ['create', 'feat/existing', '--json'], { SHELL_SECRET: CANARY.shell })).json;
    await envsOk(fx.repo, fx.home, ['create', existing.name], { SHELL_SECRET: CANARY.shell });
    repoId = fx.label.split('=')[1] ?? '';

    // Places that are not a usable repository.
    await mkdir(join(fx.root, 'plain'));
    await execa('git', ['clone', '-q', '--bare', fx.repo, join(fx.root, 'bare.git')]);
    await mkdir(join(fx.root, 'empty'));
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: join(fx.root, 'empty') });
  },
);

let existing: { name: string; project: string; worktree: string };
let repoId = '';

/** An engine that accepts connections and never answers; another that answers as a different engine. */
let hung: Server;
let other: ReturnType<typeof createHttpServer>;
const held: Socket[] = [];
beforeAll(async () => {
  hung = createServer((socket) => held.push(socket));
  other = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('/info')) res.end(JSON.stringify({ ID: 'ANOTHER:ENGINE', ServerVersion: '26.1.0' }));
    else res.end(req.url?.includes('/volumes') ? '{"Volumes":[]}' : '[]');
  });
  await new Promise<void>((resolve) => hung.listen(join(fx.root, 'hung.sock'), resolve));
  await new Promise<void>((resolve) => other.listen(join(fx.root, 'other.sock'), resolve));
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  if (hung) await new Promise<void>((resolve) => hung.close(() => resolve()));
  if (other) {
    other.closeAllConnections();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  }
});

/** A compose file with one quick service and secrets in it: a password, and one from the shell. */
function service(extra = ''): string {
  return `services:
  web:
    image: @IMG@
    init: true
    command: ["sh", "-c", "mkdir -p /srv && echo ok > /srv/index.html && exec httpd -f -p 80 -h /srv"]
    environment:
      POSTGRES_PASSWORD: ${CANARY.compose}
      API_KEY: \${SHELL_SECRET:-unset}
    ports:
      - "8080:80"
${extra}`;
}

function fill(text: string, branch = ''): string {
  return text
    .replaceAll('@IMG@', images.busybox)
    .replaceAll('@ROOT@', fx.root)
    .replaceAll('@OUT@', join(fx.root, 'outside'))
    .replaceAll('@NAME@', existing?.name ?? '')
    .replaceAll('@BRANCH@', branch);
}

async function commitBranch(fx: Fixture, branch: string, files: Files): Promise<void> {
  await fx.git('switch', '-q', '-c', branch, 'main');
  for (const [path, content] of Object.entries(files)) {
    const target = join(fx.repo, path);
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { force: true });
    if (typeof content === 'object' && 'link' in content) await symlink(fill(content.link), target);
    else await writeFile(target, typeof content === 'string' ? fill(content) : content);
  }
  await fx.commit(branch);
  await fx.git('switch', '-q', 'main');
}

// ------------------------------------------------------------------------------------------- setups
const recordFile = () => join(fx.home, 'repos', repoId, 'envs', `${existing.name}.json`);

/**
 * Damages the state for one case; the undo puts every state file back as it was and starts the env again
 * if a misbehaving command stopped it.
 */
function damage(change: () => Promise<void>): () => Promise<() => Promise<void>> {
  return async () => {
    const files = [recordFile(), join(fx.home, 'ports.json'), join(fx.home, 'subnets.json')];
    const saved = await Promise.all(files.map((f) => readFile(f)));
    await change();
    return async () => {
      for (const f of files) await rm(f, { recursive: true, force: true });
      await Promise.all(files.map((f, i) => writeFile(f, saved[i] as Buffer)));
      const info = await envs(fx.repo, fx.home, ['info', 'feat/existing', '--json']);
      if (info.json?.status !== 'running') await envsOk(fx.repo, fx.home, ['up', 'feat/existing']);
    };
  };
}

/** The existing env's record, changed by `edit`. */
const record = (edit: (r: any) => unknown) =>
  damage(async () => {
    const r = JSON.parse(await readFile(recordFile(), 'utf8'));
    const out = edit(r);
    await writeFile(recordFile(), typeof out === 'string' ? out : JSON.stringify(r, null, 2));
  });

const stateFile = (name: string, text: string | null) =>
  damage(async () => {
    const file = join(fx.home, name);
    await rm(file, { force: true });
    if (text === null) await mkdir(file);
    else await writeFile(file, text);
  });

/** The existing env's lock, held by a live process (this one) as another envs command would. */
function lockHeld(): () => Promise<() => Promise<void>> {
  return async () => {
    const dir = join(fx.home, 'locks', `env-${repoId}-${existing.name}.lock.d`);
    await mkdir(dir, { recursive: true });
    const owner = { pid: process.pid, host: hostname(), what: 'envs up feat/existing', since: new Date().toISOString(), token: 'corpus' };
    await writeFile(join(dir, 'owner.json'), JSON.stringify(owner));
    return () => rm(dir, { recursive: true, force: true });
  };
}

/**
 * ENVS_HOME read-only, with the envs in it: the fixture's state bind-mounted read-only (root writes through
 * permissions, so a read-only mount is the only read-only directory it has).
 */
const READ_ONLY_HOME = '@ROOT@/home-ro';
function readOnlyHome(): () => Promise<() => Promise<void>> {
  return async () => {
    const at = fill(READ_ONLY_HOME);
    await mkdir(at, { recursive: true });
    const bind = await execa('mount', ['--bind', fx.home, at], { reject: false });
    if (bind.exitCode !== 0) throw new SkipCase(`cannot bind-mount (${bind.stderr.trim()}): needs root`);
    const ro = await execa('mount', ['-o', 'remount,ro,bind', at], { reject: false });
    if (ro.exitCode !== 0) {
      await execa('umount', [at], { reject: false });
      throw new SkipCase(`cannot remount read-only (${ro.stderr.trim()})`);
    }
    return async () => {
      await execa('umount', [at]);
    };
  };
}

class SkipCase extends Error {}

/** The existing env's worktree with `compose.yaml` replaced (an edit an agent made), put back afterwards. */
function worktreeCompose(content: string | null): () => Promise<() => Promise<void>> {
  return async () => {
    const file = join(existing.worktree, 'compose.yaml');
    const saved = await readFile(file);
    if (content === null) await rm(file);
    else await writeFile(file, fill(content));
    return () => writeFile(file, saved);
  };
}

// ------------------------------------------------------------------------------------------- the table
const COMPOSE_REJECTED = /Compose rejected the compose file/;
const INVALID_CONFIG = /envs\.yaml is not valid/;
const NOT_A_BRANCH = /is not a valid branch name/;
const hostile = (where: RegExp) => new RegExp(`${where.source}.*resolves outside the repository`);

const JUNK = Buffer.from(
  randomBytes(3_800_000)
    .toString('base64')
    .replace(/(.{100})/g, '$1\n'),
); // ~5 MB of base64 lines
const BINARY = randomBytes(64 * 1024);

const CASES: Case[] = [
  // ---------------------------------------------------------------- 1. compose files
  {
    family: 'compose',
    id: 'c-yaml-bomb',
    what: 'nested YAML aliases that expand to 9^9 values ("billion laughs")',
    files: {
      'compose.yaml': `x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${Array.from(
        { length: 8 },
        (_, i) => `x-a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(',')}]\n`,
      ).join('')}${service()}    x-bomb: *a8\n`,
    },
    args: ['plan', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /expands YAML aliases far beyond what a compose file needs/,
  },
  {
    family: 'compose',
    id: 'c-yaml-syntax',
    what: 'a YAML syntax error',
    files: { 'compose.yaml': `${service()}  broken: [\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /yaml: line \d+: did not find expected node content/,
  },
  {
    family: 'compose',
    id: 'c-unknown-top-key',
    what: 'a top-level key Compose rejects',
    files: { 'compose.yaml': `${service()}servicez:\n  a: 1\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /Additional property servicez is not allowed/,
  },
  {
    family: 'compose',
    id: 'c-port-range',
    what: 'a host port above 65535',
    files: { 'compose.yaml': service().replace('"8080:80"', '"99999:80"') },
    args: ['plan', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /Invalid hostPort: 99999/,
  },
  {
    family: 'compose',
    id: 'c-port-word',
    what: 'a port that is a word, through --from',
    files: { 'compose.yaml': service().replace('"8080:80"', '"http:80"') },
    args: ['create', 'feat/from-broken', '--from', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /Invalid hostPort: http/,
  },
  {
    family: 'compose',
    id: 'c-depends-on',
    what: 'depends_on a service that does not exist',
    files: { 'compose.yaml': `${service()}    depends_on: [ghost]\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /depends on undefined service "?ghost/,
  },
  {
    family: 'compose',
    id: 'c-no-image',
    what: 'a service with neither image nor build',
    files: { 'compose.yaml': `services:\n  web:\n    environment:\n      POSTGRES_PASSWORD: ${CANARY.compose}\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /neither an image nor a build context/,
  },
  {
    family: 'compose',
    id: 'c-zero-services',
    what: 'no services at all',
    files: { 'compose.yaml': 'services: {}\n' },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /defines no services/,
  },
  {
    family: 'compose',
    id: 'c-missing-include',
    what: 'an include of a file that is not there',
    files: { 'compose.yaml': `include:\n  - missing.yaml\n${service()}` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /missing\.yaml: no such file or directory/,
  },
  {
    family: 'compose',
    id: 'c-extends-missing',
    what: 'extends of a service that does not exist',
    files: { 'compose.yaml': `${service()}  other:\n    extends:\n      service: ghost\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /service "ghost" not found/,
  },
  {
    family: 'compose',
    id: 'c-required-var',
    what: '${VAR:?} with the variable unset',
    files: { 'compose.yaml': `${service()}    labels:\n      needs: "\${CORPUS_REQUIRED:?set CORPUS_REQUIRED first}"\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /required variable CORPUS_REQUIRED is missing a value/,
  },
  {
    family: 'compose',
    id: 'c-volume-spec',
    what: 'an invalid volume spec',
    files: { 'compose.yaml': `${service()}    volumes: ["::/a:b:c:d"]\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /invalid spec: ::\/a:b:c:d/,
  },
  {
    family: 'compose',
    id: 'c-env-file-missing',
    what: 'a required env_file that is not there',
    files: { 'compose.yaml': `${service()}    env_file: missing.env\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /env file .*missing\.env not found/,
  },
  {
    family: 'compose',
    id: 'c-profiles',
    what: 'profiles leaving no service',
    files: { 'compose.yaml': `${service()}    profiles: [never]\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /defines no services \(with the active profiles\)/,
  },
  {
    family: 'compose',
    id: 'c-duplicate-key',
    what: 'a duplicated key',
    files: { 'compose.yaml': `${service()}  web:\n    image: @IMG@\n` },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /mapping key "web" already defined/,
  },
  {
    family: 'compose',
    id: 'c-tabs',
    what: 'a tab-indented file',
    files: { 'compose.yaml': service().replaceAll('  ', '\t') },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /found character that cannot start any token/,
  },
  {
    family: 'compose',
    id: 'c-junk-5mb',
    what: 'a 5 MB file of junk',
    files: { 'compose.yaml': JUNK },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /Top-level object must be a mapping/,
  },
  {
    family: 'compose',
    id: 'c-binary',
    what: 'binary garbage',
    files: { 'compose.yaml': BINARY },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: COMPOSE_REJECTED,
  },
  {
    family: 'compose',
    id: 'c-empty',
    what: 'an empty file',
    files: { 'compose.yaml': '' },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /empty compose file/,
  },
  {
    family: 'compose',
    id: 'c-top-level-list',
    what: 'a list where the file should be a mapping',
    files: { 'compose.yaml': `- ${CANARY.compose}\n- web\n` },
    args: ['plan', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /Top-level object must be a mapping/,
  },
  {
    family: 'compose',
    id: 'c-up-broken-worktree',
    what: '`up` after the worktree’s compose file became invalid',
    setup: worktreeCompose(`${service()}  broken: [\n`),
    args: ['up', 'feat/existing'],
    code: 'COMPOSE_INVALID',
    message: COMPOSE_REJECTED,
  },
  {
    family: 'compose',
    id: 'c-up-compose-gone',
    what: '`up` after the worktree’s compose file was deleted',
    setup: worktreeCompose(null),
    args: ['up', 'feat/existing'],
    code: 'COMPOSITION_CHANGED',
    message: /was made from compose\.yaml, but its worktree has no compose file now/,
  },

  // ---------------------------------------------------------------- 2. paths leaving the repository
  {
    family: 'paths',
    id: 'p-env-file-absolute',
    what: 'env_file: an absolute path outside',
    files: { 'compose.yaml': `${service()}    env_file: @OUT@/secret.env\n` },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.env_file: \/.*outside\/secret\.env/),
  },
  {
    family: 'paths',
    id: 'p-env-file-parent',
    what: 'env_file: ../',
    files: { 'compose.yaml': `${service()}    env_file: ../outside/secret.env\n` },
    args: ['plan', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.env_file: \.\.\/outside\/secret\.env/),
  },
  {
    family: 'paths',
    id: 'p-env-file-tilde',
    what: 'env_file: ~/',
    files: { 'compose.yaml': `${service()}    env_file: ~/.git-credentials\n` },
    args: ['create', '@BRANCH@'],
    env: { HOME: '@ROOT@/fakehome' },
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.env_file: ~\/\.git-credentials/),
  },
  {
    family: 'paths',
    id: 'p-env-file-home-var',
    what: 'env_file: ${HOME}/…',
    files: { 'compose.yaml': `${service()}    env_file: \${HOME}/secret.env\n` },
    args: ['create', '@BRANCH@'],
    env: { HOME: '@ROOT@/fakehome' },
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.env_file: \/.*fakehome\/secret\.env/),
  },
  {
    family: 'paths',
    id: 'p-env-file-symlink',
    what: 'env_file: a committed symlink to an absolute path outside',
    files: { 'compose.yaml': `${service()}    env_file: app.env\n`, 'app.env': { link: '@OUT@/secret.env' } },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/app\.env/),
  },
  {
    family: 'paths',
    id: 'p-env-file-relative-symlink',
    what: 'env_file: a committed relative symlink leading out',
    files: { 'compose.yaml': `${service()}    env_file: config/app.env\n`, 'config/app.env': { link: '../../outside/secret.env' } },
    args: ['plan', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/config\/app\.env/),
  },
  {
    family: 'paths',
    id: 'p-compose-symlink',
    what: 'compose.yaml itself a symlink to a file outside',
    files: { 'compose.yaml': { link: '@OUT@/base.yaml' } },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/compose\.yaml/),
  },
  {
    family: 'paths',
    id: 'p-dotenv-symlink',
    what: 'the project .env a symlink to a file outside',
    files: { '.env': { link: '@OUT@/secret.env' } },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/\.env/),
  },
  {
    family: 'paths',
    id: 'p-dotenv-compose-file',
    what: 'COMPOSE_FILE in .env naming a file outside',
    files: { '.env': 'COMPOSE_FILE=@OUT@/base.yaml\n' },
    args: ['plan', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/COMPOSE_FILE in \.env/),
  },
  {
    family: 'paths',
    id: 'p-include-absolute',
    what: 'include: an absolute path',
    files: { 'compose.yaml': `include:\n  - @OUT@/base.yaml\n${service()}` },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/include\[0\]/),
  },
  {
    family: 'paths',
    id: 'p-include-parent',
    what: 'include: ../',
    files: { 'compose.yaml': `include:\n  - path: ../outside/base.yaml\n${service()}` },
    args: ['plan', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/include\[0\]\.path: \.\.\/outside\/base\.yaml/),
  },
  {
    family: 'paths',
    id: 'p-include-nested',
    what: 'an included file inside the repository whose env_file leads out',
    files: {
      'compose.yaml': `include:\n  - sub/more.yaml\n${service()}`,
      'sub/more.yaml': 'services:\n  side:\n    image: @IMG@\n    env_file: ../../outside/secret.env\n',
    },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/sub\/more\.yaml: services\.side\.env_file/),
  },
  {
    family: 'paths',
    id: 'p-extends-absolute',
    what: 'extends.file: an absolute path',
    files: { 'compose.yaml': `${service()}  other:\n    extends:\n      file: @OUT@/base.yaml\n      service: base\n` },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.other\.extends\.file/),
  },
  {
    family: 'paths',
    id: 'p-extends-parent',
    what: 'extends.file: ../',
    files: { 'compose.yaml': `${service()}  other:\n    extends:\n      file: ../outside/base.yaml\n      service: base\n` },
    args: ['plan', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.other\.extends\.file: \.\.\/outside\/base\.yaml/),
  },
  {
    family: 'paths',
    id: 'p-secret-file',
    what: 'a secrets: file outside',
    files: { 'compose.yaml': `${service()}    secrets: [key]\nsecrets:\n  key:\n    file: @OUT@/secret.env\n` },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/secrets\.key\.file/),
  },
  {
    family: 'paths',
    id: 'p-config-file',
    what: 'a configs: file under ~/',
    files: { 'compose.yaml': `${service()}    configs: [c]\nconfigs:\n  c:\n    file: ~/secret.env\n` },
    args: ['create', '@BRANCH@'],
    env: { HOME: '@ROOT@/fakehome' },
    code: 'OUTSIDE_REPO',
    message: hostile(/configs\.c\.file: ~\/secret\.env/),
  },
  {
    family: 'paths',
    id: 'p-build-absolute',
    what: 'a build context outside (absolute)',
    files: { 'compose.yaml': 'services:\n  web:\n    build: @OUT@/ctx\n' },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.build\.context/),
  },
  {
    family: 'paths',
    id: 'p-build-parent',
    what: 'a build context outside (../)',
    files: { 'compose.yaml': 'services:\n  web:\n    build:\n      context: ../outside/ctx\n' },
    args: ['plan', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.build\.context: \.\.\/outside\/ctx/),
  },
  {
    family: 'paths',
    id: 'p-dockerfile-absolute',
    what: 'a Dockerfile outside the repository',
    files: { 'compose.yaml': 'services:\n  web:\n    build:\n      context: .\n      dockerfile: @OUT@/ctx/Dockerfile\n' },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.build\.dockerfile/),
  },
  {
    family: 'paths',
    id: 'p-config-compose-symlink',
    what: 'envs.yaml compose.files naming a symlink that leads out',
    files: { 'envs.yaml': 'compose:\n  files: [deploy/stack.yaml]\n', 'deploy/stack.yaml': { link: '@OUT@/base.yaml' } },
    args: ['create', '@BRANCH@'],
    code: 'OUTSIDE_REPO',
    message: hostile(/deploy\/stack\.yaml/),
  },
  {
    family: 'paths',
    id: 'p-up-worktree-env-file',
    what: '`up` after the worktree’s compose file was edited to read a host file',
    setup: worktreeCompose(`${service()}    env_file: /proc/self/environ\n`),
    args: ['up', 'feat/existing'],
    code: 'OUTSIDE_REPO',
    message: hostile(/services\.web\.env_file: \/proc\/self\/environ/),
  },

  // ---------------------------------------------------------------- 3. envs.yaml
  {
    family: 'config',
    id: 'y-syntax',
    what: 'a YAML syntax error',
    files: { 'envs.yaml': `env:\n  API_TOKEN: ${CANARY.compose}\n  X: [\n` },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /envs\.yaml is not valid:.*\n.*Flow sequence .* at line 4/,
  },
  {
    family: 'config',
    id: 'y-unknown-key',
    what: 'an unknown key',
    files: { 'envs.yaml': 'frobnicate: true\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /Unrecognized key: "frobnicate"/,
  },
  {
    family: 'config',
    id: 'y-range-number',
    what: 'ports.range: 5',
    files: { 'envs.yaml': 'ports:\n  range: 5\n' },
    args: ['plan', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /ports\.range: .*expected string/,
  },
  {
    family: 'config',
    id: 'y-range-words',
    what: 'ports.range: lots',
    files: { 'envs.yaml': 'ports:\n  range: lots\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /ports\.range: must look like 20000-29999/,
  },
  {
    family: 'config',
    id: 'y-wait-negative',
    what: 'up.waitTimeout: -1',
    files: { 'envs.yaml': 'up:\n  waitTimeout: -1\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /up\.waitTimeout: Too small/,
  },
  {
    family: 'config',
    id: 'y-network-size',
    what: 'networks.size: 40',
    files: { 'envs.yaml': 'networks:\n  size: 40\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /networks\.size: Too big/,
  },
  {
    family: 'config',
    id: 'y-network-range',
    what: 'networks.range not a block',
    files: { 'envs.yaml': 'networks:\n  range: everywhere\n' },
    args: ['plan', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /networks\.range: must be an IPv4 block/,
  },
  {
    family: 'config',
    id: 'y-files-absolute',
    what: 'compose.files outside the repository (absolute)',
    files: { 'envs.yaml': 'compose:\n  files: [@OUT@/base.yaml]\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /compose\.files\.0: must be a path inside the repository/,
  },
  {
    family: 'config',
    id: 'y-files-parent',
    what: 'compose.files outside the repository (../)',
    files: { 'envs.yaml': 'compose:\n  files: [../outside/base.yaml]\n' },
    args: ['plan', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /compose\.files\.0: must be a path inside the repository/,
  },
  {
    family: 'config',
    id: 'y-files-missing',
    what: 'compose.files naming a file the branch does not have',
    files: { 'envs.yaml': 'compose:\n  files: [nope.yaml]\n' },
    args: ['create', '@BRANCH@'],
    code: 'COMPOSE_INVALID',
    message: /The compose file nope\.yaml named by envs\.yaml does not exist on this branch/,
  },
  {
    family: 'config',
    id: 'y-process-name',
    what: 'a process with a bad name',
    files: { 'envs.yaml': 'processes:\n  "9 lives; rm -rf /":\n    command: "true"\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /processes\.9 lives; rm -rf \/: Invalid key/,
  },
  {
    family: 'config',
    id: 'y-process-port',
    what: 'a process port above 65535',
    files: { 'envs.yaml': 'processes:\n  web:\n    command: "true"\n    port: 70000\n' },
    args: ['plan', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /processes\.web\.port: Too big/,
  },
  {
    family: 'config',
    id: 'y-template-unknown',
    what: 'an env template with an unknown reference',
    files: { 'envs.yaml': 'env:\n  API_URL: "http://127.0.0.1:{{ ports.nope.1 }}"\n' },
    args: ['plan', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /env\.API_URL: \{\{ ports\.nope\.1 \}\}: no service or process "nope"/,
  },
  {
    family: 'config',
    id: 'y-template-syntax',
    what: 'an env template that never closes',
    files: { 'envs.yaml': 'env:\n  X: "{{ ports.web"\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /env\.X: "\{\{" at position 1 is never closed/,
  },
  {
    family: 'config',
    id: 'y-database-service',
    what: 'database.service naming an unknown service',
    files: { 'envs.yaml': 'database:\n  service: ghost\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /database\.service "ghost" in envs\.yaml is not a service of the compose model/,
  },
  {
    family: 'config',
    id: 'y-allow-relative',
    what: 'policy.allowPaths relative',
    files: { 'envs.yaml': 'policy:\n  allowPaths: [relative/path]\n' },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /policy\.allowPaths\.0: must be an absolute path/,
  },
  {
    family: 'config',
    id: 'y-top-level-list',
    what: 'a list instead of a mapping',
    files: { 'envs.yaml': '- compose\n- ports\n' },
    args: ['plan', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: /\(top level\): .*expected object, received array/,
  },
  {
    family: 'config',
    id: 'y-binary',
    what: 'binary garbage',
    files: { 'envs.yaml': BINARY },
    args: ['create', '@BRANCH@'],
    code: 'CONFIG_INVALID',
    message: INVALID_CONFIG,
  },

  // ---------------------------------------------------------------- 4. branch and env names
  ...(
    [
      ['a..b', NOT_A_BRANCH],
      ['feat/x.lock', NOT_A_BRANCH],
      ['ends/', NOT_A_BRANCH],
      ['at@{brace', NOT_A_BRANCH],
      ['has space', NOT_A_BRANCH],
      ['ctl\x01char', /it contains control characters/],
      ['line\nbreak', /it contains control characters/],
      [`feat/${'x'.repeat(300)}`, /it is longer than 240 bytes/],
      ['-rf', /it starts with "-"/],
      ['HEAD', /"HEAD" names the current commit/],
      ['', /it is empty/],
    ] as const
  ).map(
    ([branch, message], i): Case => ({
      family: 'names',
      id: `n-branch-${i}`,
      what: `the branch name ${JSON.stringify(branch.length > 40 ? `${branch.slice(0, 12)}…(${branch.length})` : branch)}`,
      args: i % 2 === 0 ? ['create', '--', branch] : ['plan', '--', branch],
      code: 'INVALID_BRANCH',
      message,
    }),
  ),
  {
    family: 'names',
    id: 'n-unknown-ref',
    what: 'create --from a ref that does not exist',
    args: ['create', 'feat/new', '--from', 'no-such-ref'],
    code: 'UNKNOWN_REF',
    message: /--from no-such-ref: no such branch, tag or commit/,
  },
  {
    family: 'names',
    id: 'n-checked-out',
    what: 'create of the branch the main checkout is on',
    args: ['create', 'main'],
    code: 'BRANCH_CHECKED_OUT',
    message: /Branch main is already checked out at/,
  },
  {
    family: 'names',
    id: 'n-env-exists',
    what: 'create of a branch that has an env',
    args: ['create', 'feat/existing'],
    code: 'ENV_EXISTS',
    message: /feat\/existing already has an env/,
  },
  {
    family: 'names',
    id: 'n-no-env-destroy',
    what: 'destroy of an env that matches nothing',
    args: ['destroy', 'feat/nope', '--force'],
    code: 'ENV_NOT_FOUND',
    message: /No env named "feat\/nope"/,
  },
  {
    family: 'names',
    id: 'n-no-env-name-prefix',
    what: 'name: an env name that matches nothing',
    args: ['up', 'name:nope'],
    code: 'ENV_NOT_FOUND',
    message: /No env named "name:nope"/,
  },
  {
    family: 'names',
    id: 'n-no-env-path',
    what: 'a path that is in no env’s worktree',
    args: ['down', '@ROOT@/outside'],
    code: 'ENV_NOT_FOUND',
    message: /No env named ".*outside"/,
  },
  {
    family: 'names',
    id: 'n-no-env-exec',
    what: 'exec in an env that matches nothing',
    args: ['exec', 'feat/nope', '--', 'sh', '-c', 'echo $SHELL_SECRET'],
    code: 'ENV_NOT_FOUND',
    message: /No env named "feat\/nope"/,
  },
  {
    family: 'names',
    id: 'n-ambiguous-destroy',
    what: 'destroy of a word that is one env’s name and another’s branch',
    args: ['destroy', '@NAME@', '--force'],
    code: 'AMBIGUOUS_ENV',
    message: /names 2 envs/,
  },
  {
    family: 'names',
    id: 'n-ambiguous-env',
    what: 'env (the variables, secrets in clear) of an ambiguous word',
    args: ['env', '@NAME@'],
    code: 'AMBIGUOUS_ENV',
    message: /names 2 envs/,
  },

  // ---------------------------------------------------------------- 5. state files
  {
    family: 'state',
    id: 's-record-not-json',
    what: 'destroy of an env whose record is not JSON (a secret beside the damage)',
    setup: record((r) => JSON.stringify(r).replace('"secrets":{', `"secrets":{"LEAK":"${CANARY.state}" oops,`)),
    args: ['destroy', 'feat/existing', '--force'],
    code: 'STATE_CORRUPT',
    message: /The record of env .* is damaged: it is not valid JSON/,
  },
  {
    family: 'state',
    id: 's-record-truncated',
    what: 'up of an env whose record was cut off',
    setup: record((r) => JSON.stringify(r).slice(0, 300)),
    args: ['up', 'feat/existing'],
    code: 'STATE_CORRUPT',
    message: /is damaged: it is not valid JSON/,
  },
  {
    family: 'state',
    id: 's-record-newer',
    what: 'down of an env whose record has a newer schemaVersion',
    setup: record((r) => {
      r.schemaVersion = 99;
    }),
    args: ['down', 'feat/existing'],
    code: 'STATE_CORRUPT',
    message: /schemaVersion 99, written by a newer version of envs/,
  },
  {
    family: 'state',
    id: 's-record-missing-field',
    what: 'exec in an env whose record lacks its worktree',
    setup: record((r) => {
      delete r.worktree;
    }),
    args: ['exec', 'feat/existing', '--', 'true'],
    code: 'STATE_CORRUPT',
    message: /worktree is missing/,
  },
  {
    family: 'state',
    id: 's-record-empty',
    what: 'env of an env whose record is empty',
    setup: record(() => ''),
    args: ['env', 'feat/existing'],
    code: 'STATE_CORRUPT',
    message: /is damaged: it is empty/,
  },
  {
    family: 'state',
    id: 's-record-wrong-types',
    what: 'down of an env whose record has a number where a variable’s value should be',
    setup: record((r) => {
      r.env.ENVS_WEB_PORT = 8080;
    }),
    args: ['down', 'feat/existing'],
    code: 'STATE_CORRUPT',
    message: /is damaged/,
  },
  {
    family: 'state',
    id: 's-ports-truncated',
    what: 'create while ports.json is cut off',
    setup: stateFile('ports.json', `{"version": 1, "leases": [{"port": 2, "env": "${CANARY.state}`),
    args: ['create', 'feat/new'],
    code: 'STATE_CORRUPT',
    message: /The port registry .*ports\.json is damaged: it is not valid JSON/,
  },
  {
    family: 'state',
    id: 's-ports-newer',
    what: 'destroy while ports.json is from a newer envs',
    setup: stateFile('ports.json', '{"version": 2, "leases": []}'),
    args: ['destroy', 'feat/existing', '--force'],
    code: 'STATE_CORRUPT',
    message: /ports\.json is damaged: version 2/,
  },
  {
    family: 'state',
    id: 's-ports-bad-lease',
    what: 'up while ports.json holds something that is not a lease',
    setup: stateFile('ports.json', '{"version": 1, "leases": [null]}'),
    args: ['up', 'feat/existing'],
    code: 'STATE_CORRUPT',
    message: /ports\.json is damaged: lease 0 is not a lease/,
  },
  {
    family: 'state',
    id: 's-ports-directory',
    what: 'plan while ports.json is a directory',
    setup: stateFile('ports.json', null),
    args: ['plan', 'feat/new'],
    code: 'STATE_CORRUPT',
    message: /ports\.json is damaged: it is a directory/,
  },
  {
    family: 'state',
    id: 's-subnets-not-json',
    what: 'create while subnets.json is not JSON',
    setup: stateFile('subnets.json', `{"version":1,"leases":[{"cidr":"${CANARY.state}`),
    args: ['create', 'feat/new'],
    code: 'STATE_CORRUPT',
    message: /subnets\.json is not a subnet registry this version of envs can read/,
  },
  {
    family: 'state',
    id: 's-subnets-directory',
    what: 'destroy while subnets.json is a directory',
    setup: stateFile('subnets.json', null),
    args: ['destroy', 'feat/existing', '--force'],
    code: 'STATE_UNUSABLE',
    message: /subnets\.json: a directory is in the way of a file/,
  },
  {
    family: 'state',
    id: 's-subnets-full',
    what: 'create while one lease holds the whole subnet range',
    setup: stateFile('subnets.json', '{"version":1,"leases":[{"cidr":"10.213.0.0/16","project":"someone","key":"default"}]}'),
    args: ['create', 'feat/new'],
    code: 'SUBNETS_EXHAUSTED',
    message: /No free \/24 subnet left in 10\.213\.0\.0\/16/,
  },
  {
    family: 'state',
    id: 's-home-file-list',
    what: 'list with ENVS_HOME a file',
    env: { ENVS_HOME: '@ROOT@/home-file' },
    args: ['list'],
    code: 'STATE_UNUSABLE',
    message: /envs cannot use its state directory: .*home-file: a file is in the way of a directory/,
  },
  {
    family: 'state',
    id: 's-home-file-create',
    what: 'create with ENVS_HOME a file',
    env: { ENVS_HOME: '@ROOT@/home-file' },
    args: ['create', 'feat/new'],
    code: 'STATE_UNUSABLE',
    message: /home-file: a file is in the way of a directory/,
  },
  {
    family: 'state',
    id: 's-home-ro-create',
    what: 'create with ENVS_HOME read-only',
    setup: readOnlyHome(),
    env: { ENVS_HOME: READ_ONLY_HOME },
    args: ['create', 'feat/new'],
    code: 'STATE_UNUSABLE',
    message: /home-ro.*: the file system is read-only/,
  },
  {
    family: 'state',
    id: 's-home-ro-destroy',
    what: 'destroy with ENVS_HOME read-only',
    setup: readOnlyHome(),
    env: { ENVS_HOME: READ_ONLY_HOME },
    args: ['destroy', 'feat/existing', '--force'],
    code: 'STATE_UNUSABLE',
    message: /home-ro.*: the file system is read-only/,
  },
  {
    family: 'state',
    id: 's-home-ro-up',
    what: 'up with ENVS_HOME read-only',
    setup: readOnlyHome(),
    env: { ENVS_HOME: READ_ONLY_HOME },
    args: ['up', 'feat/existing'],
    code: 'STATE_UNUSABLE',
    message: /home-ro.*: the file system is read-only/,
  },
  ...(['destroy', 'up', 'down'] as const).map(
    (command): Case => ({
      family: 'state',
      id: `s-busy-${command}`,
      what: `${command} while another envs process holds the env's lock`,
      setup: lockHeld(),
      args: command === 'destroy' ? [command, 'feat/existing', '--force'] : [command, 'feat/existing'],
      code: 'ENV_BUSY',
      message: new RegExp(`This env is being changed by process ${process.pid} \\(envs up feat/existing`),
    }),
  ),

  // ---------------------------------------------------------------- 6. engine faults and the environment
  {
    family: 'engine',
    id: 'e-no-socket-create',
    what: 'create with DOCKER_HOST at a missing socket',
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    args: ['create', 'feat/new'],
    code: 'DOCKER_UNAVAILABLE',
    message: /Docker engine at unix:\/\/\/nonexistent\/docker\.sock does not answer/,
  },
  {
    family: 'engine',
    id: 'e-no-socket-down',
    what: 'down with DOCKER_HOST at a missing socket',
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    args: ['down', 'feat/existing'],
    code: 'DOCKER_UNAVAILABLE',
    message: /does not answer/,
  },
  {
    family: 'engine',
    id: 'e-no-socket-logs',
    what: 'logs with DOCKER_HOST at a missing socket',
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    args: ['logs', 'feat/existing'],
    code: 'DOCKER_UNAVAILABLE',
    message: /does not answer/,
  },
  {
    family: 'engine',
    id: 'e-refused-tcp',
    what: 'destroy with DOCKER_HOST at a closed TCP port',
    env: { DOCKER_HOST: 'tcp://127.0.0.1:1' },
    args: ['destroy', 'feat/existing', '--force'],
    code: 'DOCKER_UNAVAILABLE',
    message: /tcp:\/\/127\.0\.0\.1:1 does not answer \(connect ECONNREFUSED/,
  },
  {
    family: 'engine',
    id: 'e-hung-destroy',
    what: 'destroy with an engine that never answers',
    env: { DOCKER_HOST: 'unix://@ROOT@/hung.sock' },
    args: ['destroy', 'feat/existing', '--force'],
    code: 'DOCKER_UNAVAILABLE',
    message: /does not answer \(no answer within 5 s\)/,
  },
  {
    family: 'engine',
    id: 'e-hung-create',
    what: 'create with an engine that never answers',
    env: { DOCKER_HOST: 'unix://@ROOT@/hung.sock' },
    args: ['create', 'feat/new'],
    code: 'DOCKER_UNAVAILABLE',
    message: /does not answer \(no answer within 5 s\)/,
  },
  {
    family: 'engine',
    id: 'e-other-engine',
    what: 'destroy on another engine than the env’s',
    env: { DOCKER_HOST: 'unix://@ROOT@/other.sock' },
    args: ['destroy', 'feat/existing', '--force'],
    code: 'ENGINE_MISMATCH',
    message: /containers live on another Docker engine/,
  },
  {
    family: 'engine',
    id: 'e-context-up',
    what: 'up with DOCKER_CONTEXT=bogus',
    env: { DOCKER_CONTEXT: 'bogus' },
    args: ['up', 'feat/existing'],
    code: 'DOCKER_CONTEXT_UNKNOWN',
    message: /The docker context "bogus" \(from DOCKER_CONTEXT\) does not exist/,
  },
  {
    family: 'engine',
    id: 'e-context-destroy',
    what: 'destroy with DOCKER_CONTEXT=bogus',
    env: { DOCKER_CONTEXT: 'bogus' },
    args: ['destroy', 'feat/existing', '--force'],
    code: 'DOCKER_CONTEXT_UNKNOWN',
    message: /"bogus"/,
  },
  ...(['abc', '30000-20000', '80-90', ''] as const).map(
    (range, i): Case => ({
      family: 'engine',
      id: `e-port-range-${i}`,
      what: `ENVS_PORT_RANGE=${JSON.stringify(range)}`,
      env: { ENVS_PORT_RANGE: range },
      args: ['create', 'feat/new'],
      code: 'CONFIG_INVALID',
      message: new RegExp(`Port range "${range}" is not valid \\(ENVS_PORT_RANGE\\)`),
    }),
  ),
  {
    family: 'engine',
    id: 'e-subnet-range',
    what: 'ENVS_SUBNET_RANGE not a block',
    env: { ENVS_SUBNET_RANGE: '10.213.0.0/40' },
    args: ['create', 'feat/new'],
    code: 'CONFIG_INVALID',
    message: /Subnet range "10\.213\.0\.0\/40" \(ENVS_SUBNET_RANGE\) is not a usable IPv4 block/,
  },
  {
    family: 'engine',
    id: 'e-subnet-size',
    what: 'ENVS_SUBNET_SIZE not a prefix length',
    env: { ENVS_SUBNET_SIZE: 'huge' },
    args: ['plan', 'feat/new'],
    code: 'CONFIG_INVALID',
    message: /\(ENVS_SUBNET_SIZE\) does not fit/,
  },
  {
    family: 'engine',
    id: 'e-compose-missing-plan',
    what: 'plan with ENVS_COMPOSE naming a missing program',
    env: { ENVS_COMPOSE: '/nonexistent/docker-compose' },
    args: ['plan', 'feat/new'],
    code: 'COMPOSE_MISSING',
    message: /not found|not installed/,
  },
  {
    family: 'engine',
    id: 'e-compose-missing-down',
    what: 'down with ENVS_COMPOSE naming a missing program',
    env: { ENVS_COMPOSE: '/nonexistent/docker-compose' },
    args: ['down', 'feat/existing'],
    code: 'COMPOSE_MISSING',
    message: /not found|not installed/,
  },
  {
    family: 'engine',
    id: 'e-compose-missing-destroy',
    what: 'destroy with ENVS_COMPOSE naming a missing program',
    setup: damage(async () => {}),
    env: { ENVS_COMPOSE: '/nonexistent/docker-compose' },
    args: ['destroy', 'feat/existing', '--force'],
    code: 'COMPOSE_MISSING',
    message: /not found|not installed/,
  },
  {
    family: 'engine',
    id: 'e-not-git',
    what: 'a directory that is not a git repository',
    cwd: '@ROOT@/plain',
    args: ['create', 'feat/new'],
    code: 'NOT_A_GIT_REPO',
    message: /plain is not inside a git repository/,
  },
  {
    family: 'engine',
    id: 'e-bare',
    what: 'a bare repository',
    cwd: '@ROOT@/bare.git',
    args: ['create', 'feat/new'],
    code: 'NOT_A_GIT_REPO',
    message: /bare\.git is a bare repository/,
  },
  {
    family: 'engine',
    id: 'e-no-commits',
    what: 'a repository without commits',
    cwd: '@ROOT@/empty',
    args: ['plan', 'feat/new'],
    code: 'EMPTY_REPO',
    message: /empty has no commits yet/,
  },
  {
    family: 'engine',
    id: 'e-cwd-missing',
    what: '-C to a directory that does not exist',
    args: ['-C', '@ROOT@/nope', 'list'],
    code: 'NOT_A_GIT_REPO',
    message: /nope does not exist/,
  },
  {
    family: 'engine',
    id: 'e-usage-command',
    what: 'an unknown command',
    args: ['frobnicate'],
    exit: 2,
    code: 'USAGE',
    message: /unknown command 'frobnicate'/,
  },
  {
    family: 'engine',
    id: 'e-usage-option',
    what: 'an unknown option',
    args: ['destroy', 'feat/existing', '--yes-really'],
    exit: 2,
    code: 'USAGE',
    message: /unknown option '--yes-really'/,
  },
  {
    family: 'engine',
    id: 'e-usage-missing-arg',
    what: 'a missing argument',
    args: ['destroy'],
    exit: 2,
    code: 'USAGE',
    message: /missing required argument 'env'/,
  },
  {
    family: 'engine',
    id: 'e-usage-extra-arg',
    what: 'an argument too many',
    args: ['info', 'feat/existing', 'feat/other'],
    exit: 2,
    code: 'USAGE',
    message: /too many arguments/,
  },
  {
    family: 'engine',
    id: 'e-usage-choice',
    what: 'an option value outside its choices',
    args: ['env', 'feat/existing', '--format', 'yaml'],
    exit: 2,
    code: 'USAGE',
    message: /argument 'yaml' is invalid/,
  },
  {
    family: 'engine',
    id: 'e-usage-logs-service',
    what: 'logs of a service the env does not have',
    args: ['logs', 'feat/existing', 'ghost'],
    exit: 2,
    code: 'USAGE',
    message: /has no service or process named "ghost"/,
  },
];

// ------------------------------------------------------------------------------------------- the checks
/** Everything that must not change; render scratch of commands running beside this one excluded. */
async function world() {
  const shot = await snapshot(fx);
  shot.state = Object.fromEntries(Object.entries(shot.state).filter(([path]) => !path.startsWith('tmp/')));
  const homeFile = await readFile(join(fx.root, 'home-file'), 'utf8');
  return { ...shot, homeFile };
}

/** The args with --json, before a `--` that ends envs's own options. */
function withJson(args: string[]): string[] {
  const dashes = args.indexOf('--');
  return dashes === -1 ? [...args, '--json'] : [...args.slice(0, dashes), '--json', ...args.slice(dashes)];
}

function shown(run: CliResult): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

async function check(c: Case, expect: ExpectStatic): Promise<void> {
  const args = c.args.map((a) => fill(a, c.id));
  const env = { SHELL_SECRET: CANARY.shell, ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)])) };
  const cwd = c.cwd ? fill(c.cwd) : fx.repo;
  const exit = c.exit ?? 1;

  const before = await world();
  const human = await envs(cwd, fx.home, args, env);
  const json = await envs(cwd, fx.home, withJson(args), env);
  const after = await world();

  // Soft: a failing case reports every way it fails (exit code, shape, secret, changes) at once.
  const soft = expect.soft;

  // The person: one `error: ` line (continuation lines indented), a hint, nothing else; never a stack.
  soft(human.exitCode, shown(human)).toBe(exit);
  soft(human.stdout, shown(human)).toBe('');
  soft(human.stderr, shown(human)).toMatch(/^error: \S[^\n]*(?:\n {2}[^\n]*)*\nhint: \S[^\n]*(?:\n {2}[^\n]*)*\n?$/);
  soft(human.stderr).toMatch(c.message);
  for (const run of [human, json]) soft(run.stderr, shown(run)).not.toMatch(/^\s+at |envs hit a bug/m);

  // The machine: exactly one document, the error and nothing else.
  soft(json.exitCode, shown(json)).toBe(exit);
  soft(json.stderr, shown(json)).toBe('');
  soft(Object.keys(json.json ?? {}), shown(json)).toEqual(['error']);
  const error = json.json?.error ?? {};
  soft(Object.keys(error).filter((k) => k !== 'details')).toEqual(['code', 'message', 'hint']);
  soft(error.code, error.message).toBe(c.code);
  soft(error.message).toMatch(c.message);
  soft(error.hint).toMatch(/\S/);

  // No secret printed, nothing read from outside the repository.
  for (const run of [human, json]) soft(run.stdout + run.stderr).not.toContain(TOKEN);

  // Nothing changed.
  soft(after).toEqual(before);
}

/** At most `n` cases at once (2 cores; each case runs git, Compose and the docker CLI). */
function limit(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const title = (c: Case) => `${c.family} · ${c.id}: ${c.what}${c.bug ? ' [known bug]' : ''}`;
// Cases that change the world, and known bugs (they may change it), run alone; the rest four at a time.
const alone = (c: Case) => Boolean(c.setup || c.bug);

describe('the bad-input corpus: refused with one clear line and a hint, nothing printed that is secret, nothing changed', () => {
  it('holds at least 60 cases from every family, each named once', () => {
    expect([...new Set(CASES.map((c) => c.family))].sort()).toEqual(['compose', 'config', 'engine', 'names', 'paths', 'state']);
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
  });

  describe.concurrent('side by side', () => {
    const slot = limit(4);
    for (const c of CASES.filter((c) => !alone(c))) {
      it(title(c), ({ expect }) => slot(() => check(c, expect)));
    }
  });

  describe('one at a time', () => {
    for (const c of CASES.filter(alone)) {
      (c.bug && process.env.ENVS_CORPUS_BUGS !== 'show' ? it.fails : it)(title(c), async ({ expect, skip }) => {
        let undo: (() => Promise<void>) | undefined;
        try {
          undo = await c.setup?.();
        } catch (error) {
          if (error instanceof SkipCase) return skip(error.message);
          throw error;
        }
        try {
          await check(c, expect);
        } finally {
          await undo?.();
        }
      });
    }
  });

  it('leaves both envs running', async () => {
    const list = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json;
    expect(list.map((e: any) => e.status)).toEqual(['running', 'running']);
    expect(existsSync(existing.worktree)).toBe(true);
  });
});
