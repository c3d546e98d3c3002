import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_FILES,
  deeperComposeFiles,
  defaultComposeFiles,
  OVERRIDE_FILES,
  projectName,
  type Reference,
  references,
  serviceNames,
} from '../compose/discover.ts';
import type { ComposeModel } from '../compose/model.ts';
import { CONFIG_FILES } from '../config/files.ts';
import { parseConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';
import { outsideRepo, type Tree, WithIgnoredFromMain } from './tree.ts';

export { commitTree, dirReader, dirTree, type FileReader, type Tree } from './tree.ts';

/** The embedded stack for a repository without a compose file: one Postgres. */
export const POSTGRES_TEMPLATE = fileURLToPath(new URL('../../compose-templates/postgres.yaml', import.meta.url));
const POSTGRES_TEMPLATE_DIR = fileURLToPath(new URL('../../compose-templates/', import.meta.url));
export const DEFAULT_POSTGRES_IMAGE = 'postgres:17-alpine';

/** How the compose files were chosen, for messages. */
export type ChosenBy = 'envs.yaml' | 'COMPOSE_FILE' | 'default' | 'embedded';

export interface Source {
  config: Config;
  /** Repository-relative compose files; empty when the embedded template is used. */
  sourceFiles: string[];
  template?: 'postgres';
  chosenBy: ChosenBy;
  /** Repository-relative directory Compose resolves paths against and reads `.env` from (`.` for the root). */
  projectSubdir: string;
  /** Every file Compose needs to render the model (compose files, includes, env files, the project's `.env`). */
  files: Map<string, Buffer>;
  /**
   * Files the render needs that git ignores: not in the branch, taken from the main checkout (a `.env`
   * made from `.env.example`). Repository-relative; create copies them into the worktree (0600).
   */
  copies: string[];
  /** Services in the order the compose files list them (Compose's own output is sorted by name). */
  serviceOrder: string[];
  /** The top-level `name:` the compose files give the project, as written. */
  originalName?: string;
  /** Notes for the user about how the source was chosen (the embedded Postgres is always announced). */
  notes: string[];
}

const MAX_DEPTH = 8;

/** envs.yaml (or envs.yml) among read files; none: the empty config. */
export async function configFrom(files: ReadonlyMap<string, Buffer>): Promise<Config> {
  const name = CONFIG_FILES.find((n) => files.has(n));
  return name ? parseConfig(String(files.get(name)), name) : {};
}

/** A compose file parsed just enough to follow its references; a syntax error is left for Compose to report. */
async function parseLoosely(text: string, path: string): Promise<unknown> {
  // A branch's compose file is untrusted input: Compose itself has no limits, and a file that expands
  // aliases exponentially ("billion laughs") makes `docker compose config` take every byte of memory.
  if (text.length > MAX_COMPOSE_BYTES) {
    throw new EnvsError(
      'COMPOSE_INVALID',
      `${printable(path)} is ${(text.length / 2 ** 20).toFixed(1)} MB; envs reads compose files up to ${MAX_COMPOSE_BYTES / 2 ** 20} MB.`,
      {
        hint: 'A compose file is a few kilobytes; check what this branch committed there.',
      },
    );
  }
  const { parse } = await import('../formats/yaml.ts');
  try {
    // Unknown tags (`!reset`, `!override`) only warn, and `silent` keeps that quiet.
    return parse(text, { logLevel: 'silent' });
  } catch (error) {
    if (error instanceof ReferenceError && /excessive alias count/i.test(error.message)) {
      throw new EnvsError(
        'COMPOSE_INVALID',
        `${printable(path)} expands YAML aliases far beyond what a compose file needs (a resource-exhaustion pattern); envs does not hand it to Compose.`,
        {
          hint: 'Use fewer nested aliases (anchors reused inside anchors), or write the values out.',
        },
      );
    }
    return undefined; // a syntax error is Compose's to report, in its words
  }
}

/** Compose files larger than this are refused before Compose reads them. */
const MAX_COMPOSE_BYTES = 8 * 2 ** 20;

export interface ReadSourceOptions {
  /** The environment Compose will interpolate from (the user's shell, plus envs's own variables). */
  env: Record<string, string | undefined>;
  /**
   * Absolute paths outside the repository that compose files may name (`policy.allowPaths` of the default
   * branch); a promise when the default branch's envs.yaml is still being read (awaited once the compose files
   * are read and their references are checked).
   */
  allowPaths?: readonly string[] | Promise<readonly string[]>;
}

/**
 * Finds what a tree asks Compose to run, exactly as Compose would: `envs.yaml`; the compose files
 * (envs.yaml's, else COMPOSE_FILE from the shell or the root `.env`, else Compose's defaults at the root);
 * the project directory's `.env`; and every file they pull in (include, extends, env_file). Files the
 * branch does not have but the main checkout ignores are taken from there (see `copies`). Paths that lead
 * outside the repository are refused before anything reads them. No compose file at the root: deeper ones
 * are named (never guessed); none at all: the embedded Postgres, announced.
 */
export async function readSource(deps: Deps, base: Tree, options: ReadSourceOptions): Promise<Source> {
  const tree = new WithIgnoredFromMain(deps, base);
  const first = await tree.read([...DEFAULT_FILES, ...OVERRIDE_FILES, ...CONFIG_FILES, '.env']);
  const config = await configFrom(first);
  const files = new Map([...first].filter(([path]) => !CONFIG_FILES.includes(path)));
  const notes: string[] = [];

  const chosen = await chooseComposeFiles(config, first, tree, options.env);
  if (chosen.files.length === 0) {
    const image = options.env.ENVS_POSTGRES_IMAGE || DEFAULT_POSTGRES_IMAGE;
    notes.push(
      config.compose?.embedded
        ? `Using envs's embedded Postgres (${image}), as envs.yaml says.`
        : `No compose file in this repository: each env gets envs's embedded Postgres (${image}).`,
    );
    return {
      config,
      sourceFiles: [],
      template: 'postgres',
      chosenBy: 'embedded',
      projectSubdir: '.',
      files: new Map(),
      copies: [],
      serviceOrder: ['db'],
      notes,
    };
  }
  const sourceFiles = chosen.files;
  const projectSubdir = posix.dirname(sourceFiles[0] ?? '.');
  const wanted = [...sourceFiles, ...(projectSubdir === '.' ? [] : [`${projectSubdir}/.env`])].filter((p) => !files.has(p));
  for (const [path, content] of await tree.read(wanted)) files.set(path, content);
  const missing = sourceFiles.filter((path) => !files.has(path));
  if (missing.length > 0) {
    throw new EnvsError(
      'COMPOSE_INVALID',
      `The compose file ${missing.map(printable).join(', ')} named by ${chosen.by} does not exist on this branch.`,
      {
        hint:
          chosen.by === 'envs.yaml'
            ? 'Fix compose.files in envs.yaml, or commit the file.'
            : `Fix COMPOSE_FILE (${chosen.by}), or commit the file.`,
      },
    );
  }

  // Follow include / extends / env_file references, level by level; refuse any that leads outside.
  const interpolate = interpolator(deps, tree, files, projectSubdir, options.env);
  const serviceOrder: string[] = [];
  let originalName: string | undefined;
  let frontier = sourceFiles;
  for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0; depth++) {
    const docs = await Promise.all(frontier.map((path) => parseLoosely(String(files.get(path) ?? ''), path)));
    for (const doc of docs) {
      for (const name of serviceNames(doc)) if (!serviceOrder.includes(name)) serviceOrder.push(name);
      originalName ??= projectName(doc);
    }
    const refs = frontier.flatMap((path, i) => references(path, docs[i]));
    const resolved = await resolveReferences(refs, interpolate, (await options.allowPaths) ?? []);
    const unread = [...new Set(resolved.filter((r) => r.ref.readByRender && r.path !== undefined).map((r) => r.path as string))].filter(
      (path) => !files.has(path),
    );
    if (unread.length === 0) break;
    const found = await tree.read(unread);
    for (const [path, content] of found) files.set(path, content);
    frontier = [...found.keys()].filter((path) => resolved.some((r) => r.path === path && !r.ref.where.endsWith('env_file')));
  }

  return {
    config,
    sourceFiles,
    chosenBy: chosen.by === 'envs.yaml' ? 'envs.yaml' : chosen.by === 'default' ? 'default' : 'COMPOSE_FILE',
    projectSubdir,
    files,
    copies: [...tree.copies].sort(),
    serviceOrder,
    ...(originalName ? { originalName } : {}),
    notes,
  };
}

interface Chosen {
  files: string[];
  by: string;
}

/** The compose files Compose would load, or none (embedded Postgres); deeper files are named, never guessed. */
async function chooseComposeFiles(config: Config, first: Map<string, Buffer>, tree: Tree, env: ReadSourceOptions['env']): Promise<Chosen> {
  if (config.compose?.embedded) return { files: [], by: 'envs.yaml' };
  if (config.compose?.files) return { files: config.compose.files, by: 'envs.yaml' };

  // Compose reads COMPOSE_FILE from the shell, else from the `.env` of the directory it runs in.
  const dotenv = first.has('.env') ? await parseDotenv(first.get('.env') as Buffer) : {};
  const fromShell = env.COMPOSE_FILE !== undefined && env.COMPOSE_FILE !== '';
  const list = fromShell ? env.COMPOSE_FILE : dotenv.COMPOSE_FILE;
  if (list) {
    const separator = (fromShell ? env.COMPOSE_PATH_SEPARATOR : dotenv.COMPOSE_PATH_SEPARATOR) || ':';
    const by = fromShell ? 'COMPOSE_FILE in your environment' : 'COMPOSE_FILE in .env';
    const files = list.split(separator).filter(Boolean);
    for (const file of files) {
      const normalised = posix.normalize(file);
      if (file.startsWith('/') || normalised.startsWith('../') || normalised === '..') throw outsideRepo(file, file, by);
    }
    return { files: files.map((f) => posix.normalize(f)), by };
  }

  const atRoot = defaultComposeFiles((path) => first.has(path));
  if (atRoot.length > 0) return { files: atRoot, by: 'default' };

  const deeper = deeperComposeFiles(await tree.tracked());
  if (deeper.length > 0) {
    const listed = deeper.map((group) => group.join(' + ')).join(', ');
    const example = deeper[0]?.map((f) => f).join(', ');
    throw new EnvsError('COMPOSE_NOT_CHOSEN', `No compose file at the repository root, but there are some deeper: ${listed}.`, {
      hint:
        `Say which one envs should run in envs.yaml at the repository root, e.g.\n  compose:\n    files: [${example}]\n` +
        "or `compose: { embedded: true }` for envs's own Postgres instead.",
      details: { candidates: deeper },
    });
  }
  return { files: [], by: 'default' };
}

async function parseDotenv(content: Buffer): Promise<Record<string, string>> {
  const { parseEnv } = await import('../bootstrap/dotenv-format.ts');
  return parseEnv(content.toString('utf8'));
}

interface ResolvedReference {
  ref: Reference;
  /** Repository-relative path, when it is inside the repository. */
  path?: string;
}

/**
 * Where each reference points: interpolated by Compose itself when it holds `${…}`, then taken from the
 * file's directory. A path outside the repository is refused unless `allowPaths` opens it.
 */
async function resolveReferences(refs: Reference[], interpolate: Interpolate, allowPaths: readonly string[]): Promise<ResolvedReference[]> {
  const dynamic = refs.filter((r) => r.raw.includes('$'));
  const values = dynamic.length > 0 ? await interpolate(dynamic.map((r) => r.raw)) : [];
  return refs.map((ref) => {
    const index = dynamic.indexOf(ref);
    const value = index === -1 ? ref.raw : (values[index] ?? ref.raw);
    if (value === '') return { ref };
    if (value.startsWith('/') || value.startsWith('~')) {
      if (allowPaths.some((allowed) => value === allowed || value.startsWith(`${allowed.replace(/\/$/, '')}/`))) return { ref };
      throw outsideRepo(value, value, `${ref.file}: ${ref.where}`);
    }
    const path = posix.normalize(posix.join(ref.base, value));
    if (path === '..' || path.startsWith('../')) throw outsideRepo(value, path, `${ref.file}: ${ref.where}`);
    return { ref, path };
  });
}

type Interpolate = (texts: string[]) => Promise<string[]>;

/** Compose's own interpolation of strings, with the project directory's `.env` and the given environment. */
function interpolator(
  deps: Deps,
  tree: Tree,
  files: Map<string, Buffer>,
  projectSubdir: string,
  env: ReadSourceOptions['env'],
): Interpolate {
  return (texts) => {
    const dotenvPath = projectSubdir === '.' ? '.env' : `${projectSubdir}/.env`;
    const layout = tree.dir
      ? { projectDir: join(tree.dir, ...projectSubdir.split('/')) }
      : { files: new Map(files.has(dotenvPath) ? [[dotenvPath, files.get(dotenvPath) as Buffer]] : []), projectSubdir };
    return deps.compose.interpolate({ ...layout, env: definedEnv(env), texts });
  };
}

function definedEnv(env: ReadSourceOptions['env']): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

export interface RenderedSource extends Source {
  model: ComposeModel;
  /** Absolute directory Compose resolves paths against, inside the worktree. */
  projectDir: string;
}

/**
 * The effective model of a source, as `docker compose config` renders it for `project` with the repository
 * at `worktree`. From a commit (`onDisk` false) the files are laid out in a scratch directory first.
 */
export async function renderSource(
  deps: Deps,
  source: Source,
  options: { project: string; worktree: string; onDisk: boolean; env: Record<string, string> },
): Promise<RenderedSource> {
  const projectDir = source.projectSubdir === '.' ? options.worktree : join(options.worktree, ...source.projectSubdir.split('/'));
  let model: ComposeModel;
  if (source.template) {
    model = await deps.compose.render({
      project: options.project,
      files: [POSTGRES_TEMPLATE],
      projectDir: POSTGRES_TEMPLATE_DIR,
      env: options.env,
    });
  } else if (options.onDisk) {
    model = await deps.compose.render({
      project: options.project,
      files: source.sourceFiles.map((file) => join(options.worktree, ...file.split('/'))),
      projectDir,
      env: options.env,
    });
  } else {
    model = await deps.compose.renderFiles({
      project: options.project,
      files: source.files,
      composeFiles: source.sourceFiles,
      mountAt: options.worktree,
      env: options.env,
    });
  }
  if (Object.keys(model.services ?? {}).length === 0) {
    throw new EnvsError(
      'COMPOSE_INVALID',
      `${source.sourceFiles.map(printable).join(' + ') || 'The compose model'} defines no services (with the active profiles).`,
      {
        hint: "Add a service, or activate its profile with COMPOSE_PROFILES (in your shell or the project directory's .env).",
      },
    );
  }
  return { ...source, model, projectDir };
}
