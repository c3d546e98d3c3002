import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FILES, defaultComposeFiles, OVERRIDE_FILES, referencedFiles } from '../compose/discover.ts';
import type { ComposeModel } from '../compose/model.ts';
import { CONFIG_FILES } from '../config/files.ts';
import { parseConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';

/** The embedded stack for a repository without a compose file: one Postgres. */
export const POSTGRES_TEMPLATE = fileURLToPath(new URL('../../compose-templates/postgres.yaml', import.meta.url));
const POSTGRES_TEMPLATE_DIR = fileURLToPath(new URL('../../compose-templates/', import.meta.url));

/** Reads repository files (POSIX paths from the root); missing ones are absent from the result. */
export type FileReader = (paths: string[]) => Promise<Map<string, Buffer>>;

export interface Source {
  config: Config;
  /** Repository-relative compose files; empty when the embedded template is used. */
  sourceFiles: string[];
  template?: 'postgres';
  /** Repository-relative directory Compose resolves paths against (`.` for the root). */
  projectSubdir: string;
  /** Every file Compose needs to render the model (compose files, includes, env files, .env). */
  files: Map<string, Buffer>;
}

const MAX_DEPTH = 8;

/** A reader over a commit of the repository (nothing is checked out). */
export function commitReader(deps: Deps, commit: string): FileReader {
  return (paths) =>
    deps.git.readFiles(
      commit,
      paths.filter((p) => !p.includes('\n')),
    );
}

/** A reader over a directory on disk (a worktree). */
export function dirReader(dir: string): FileReader {
  return async (paths) => {
    const found = new Map<string, Buffer>();
    await Promise.all(
      paths.map(async (path) => {
        try {
          found.set(path, await readFile(join(dir, ...path.split('/'))));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') throw error;
        }
      }),
    );
    return found;
  };
}

/** envs.yaml (or envs.yml) among read files; none: the empty config. */
export async function configFrom(files: ReadonlyMap<string, Buffer>): Promise<Config> {
  const name = CONFIG_FILES.find((n) => files.has(n));
  return name ? parseConfig(String(files.get(name)), name) : {};
}

/** A compose file parsed just enough to follow its references; a syntax error is left for Compose to report. */
async function parseLoosely(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  try {
    // Unknown tags (`!reset`, `!override`) only warn, and `silent` keeps that quiet.
    return parse(text, { logLevel: 'silent' });
  } catch {
    return undefined;
  }
}

/**
 * Finds what a tree asks Compose to run: `envs.yaml`, the compose files (configured, or Compose's own
 * defaults), and everything they pull in. No compose file at all: the embedded Postgres template.
 */
export async function readSource(read: FileReader): Promise<Source> {
  const first = await read([...DEFAULT_FILES, ...OVERRIDE_FILES, ...CONFIG_FILES, '.env']);
  const config = await configFrom(first);

  const files = new Map([...first].filter(([path]) => !CONFIG_FILES.includes(path)));
  const sourceFiles = config.compose?.files ?? defaultComposeFiles((path) => first.has(path));
  if (sourceFiles.length === 0) {
    return { config, sourceFiles: [], template: 'postgres', projectSubdir: '.', files: new Map() };
  }

  const notYetRead = sourceFiles.filter((path) => !files.has(path));
  if (notYetRead.length > 0) for (const [path, content] of await read(notYetRead)) files.set(path, content);
  const missing = sourceFiles.filter((path) => !files.has(path));
  if (missing.length > 0) {
    throw new EnvsError('COMPOSE_INVALID', `The compose file ${missing.join(', ')} named in envs.yaml does not exist on this branch.`, {
      hint: 'Fix compose.files in envs.yaml, or commit the file.',
    });
  }
  // Follow include / extends / env_file references, level by level.
  let frontier = sourceFiles;
  for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0; depth++) {
    const docs = await Promise.all(frontier.map((path) => parseLoosely(String(files.get(path) ?? ''))));
    const references = frontier.flatMap((path, i) => referencedFiles(path, docs[i]));
    const unread = [...new Set(references)].filter((path) => !files.has(path));
    if (unread.length === 0) break;
    const found = await read(unread);
    for (const [path, content] of found) files.set(path, content);
    frontier = [...found.keys()];
  }

  const projectSubdir = sourceFiles[0]?.includes('/') ? sourceFiles[0].slice(0, sourceFiles[0].lastIndexOf('/')) : '.';
  return { config, sourceFiles, projectSubdir, files };
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
  return { ...source, model, projectDir };
}
