import { posix } from 'node:path';

/** Compose's own default file names, in its order of preference (compose-go `DefaultFileNames`). */
export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILES = [
  'compose.override.yml',
  'compose.override.yaml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

/**
 * The compose files Compose itself would load from a directory (`dir`, repository-relative, `.` for the
 * root): the first default file and the first override file beside it. `exists` answers for
 * repository-relative POSIX paths.
 */
export function defaultComposeFiles(exists: (path: string) => boolean, dir = '.'): string[] {
  const at = (name: string) => (dir === '.' ? name : `${dir}/${name}`);
  const main = DEFAULT_FILES.map(at).find(exists);
  if (!main) return [];
  const override = OVERRIDE_FILES.map(at).find(exists);
  return override ? [main, override] : [main];
}

/** Directories never searched for compose files: vendored or generated trees. */
const SKIPPED_DIRS = new Set(['node_modules', 'vendor', '.git', 'dist', 'build', 'target', '.venv']);
const DISCOVERY_DEPTH = 3;

/**
 * Compose files deeper in the tree (`docker/docker-compose.yml`, `deploy/compose.yaml`, …) among a commit's
 * tracked files: what a repository without a root compose file may mean. Grouped by directory, each
 * group in Compose's own order (a default file, then its override).
 */
export function deeperComposeFiles(tracked: readonly string[]): string[][] {
  const names = new Set([...DEFAULT_FILES, ...OVERRIDE_FILES]);
  const dirs = new Set<string>();
  for (const path of tracked) {
    const segments = path.split('/');
    if (segments.length < 2 || segments.length > DISCOVERY_DEPTH + 1) continue;
    if (!names.has(segments[segments.length - 1] ?? '')) continue;
    if (segments.some((s) => SKIPPED_DIRS.has(s))) continue;
    dirs.add(segments.slice(0, -1).join('/'));
  }
  const set = new Set(tracked);
  return [...dirs]
    .sort()
    .map((dir) => defaultComposeFiles((p) => set.has(p), dir))
    .filter((group) => group.length > 0);
}

/** A path a compose file names, which Compose reads (include, extends, env_file) or hands to the engine. */
export interface Reference {
  /** The compose file (repository-relative) that names it. */
  file: string;
  /** Where in that file, for messages: `services.web.env_file`, `include[0]`, `secrets.jwt.file`. */
  where: string;
  /** The path as written (may hold `${…}` interpolation). */
  raw: string;
  /** The directory (repository-relative) a relative path is taken from. */
  base: string;
  /** Compose reads the file while rendering the model (include, extends, env_file). */
  readByRender: boolean;
  /** A missing file is fine (`env_file: {path, required: false}`). */
  optional?: boolean;
}

/**
 * Every path a compose file (`path`, parsed as `doc`) names: `include` (and its `env_file`), `extends.file`,
 * `env_file`, top-level `secrets`/`configs` `file:` sources, and local `build` contexts and Dockerfiles.
 * Remote build contexts (git/https URLs) are not paths.
 */
export function references(path: string, doc: unknown): Reference[] {
  if (!isRecord(doc)) return [];
  const dir = posix.dirname(path);
  const found: Reference[] = [];
  const add = (where: string, raw: unknown, readByRender: boolean, base = dir, optional = false) => {
    if (typeof raw !== 'string' || raw === '') return;
    found.push({ file: path, where, raw, base, readByRender, ...(optional ? { optional: true } : {}) });
  };

  asArray(doc.include).forEach((item, i) => {
    if (typeof item === 'string') add(`include[${i}]`, item, true);
    if (!isRecord(item)) return;
    for (const path of asArray(item.path)) add(`include[${i}].path`, path, true);
    for (const path of asArray(item.env_file)) add(`include[${i}].env_file`, path, true);
    add(`include[${i}].project_directory`, item.project_directory, false);
  });

  if (isRecord(doc.services)) {
    for (const [name, service] of Object.entries(doc.services)) {
      if (!isRecord(service)) continue;
      if (isRecord(service.extends)) add(`services.${name}.extends.file`, service.extends.file, true);
      for (const entry of asArray(service.env_file)) {
        if (isRecord(entry)) add(`services.${name}.env_file`, entry.path, true, dir, entry.required === false);
        else add(`services.${name}.env_file`, entry, true);
      }
      const build = service.build;
      const context = typeof build === 'string' ? build : isRecord(build) ? (build.context ?? '.') : undefined;
      if (typeof context === 'string' && !isRemoteContext(context)) {
        add(`services.${name}.build.context`, context, false);
        if (isRecord(build) && typeof build.dockerfile === 'string' && !context.includes('$')) {
          add(`services.${name}.build.dockerfile`, build.dockerfile, false, posix.normalize(posix.join(dir, context)));
        }
      }
    }
  }
  for (const kind of ['secrets', 'configs'] as const) {
    const entries = doc[kind];
    if (!isRecord(entries)) continue;
    for (const [name, entry] of Object.entries(entries)) {
      if (isRecord(entry)) add(`${kind}.${name}.file`, entry.file, false);
    }
  }
  return found;
}

/** A build context Compose fetches instead of reading from disk. */
export function isRemoteContext(context: string): boolean {
  return /^(https?|git|ssh):\/\//.test(context) || /^git@/.test(context) || /^github\.com\//.test(context);
}

/** Service names in the order a compose file lists them. */
export function serviceNames(doc: unknown): string[] {
  return isRecord(doc) && isRecord(doc.services) ? Object.keys(doc.services) : [];
}

/** The top-level `name:` as written, when it is a plain string. */
export function projectName(doc: unknown): string | undefined {
  return isRecord(doc) && typeof doc.name === 'string' && !doc.name.includes('$') ? doc.name : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
