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
 * The compose files Compose itself would load from a directory: the first default file and the
 * first override file beside it. `exists` answers for repository-relative POSIX paths.
 */
export function defaultComposeFiles(exists: (path: string) => boolean): string[] {
  const main = DEFAULT_FILES.find(exists);
  if (!main) return [];
  const override = OVERRIDE_FILES.find(exists);
  return override ? [main, override] : [main];
}

/**
 * The files a compose file (`path`, parsed as `doc`) pulls in that `docker compose config` must be able
 * to read: `include`, `extends.file` and `env_file`, resolved against the file's directory. Paths with
 * interpolation (`${…}`) or leaving the repository are skipped: Compose reports them if they matter.
 */
export function referencedFiles(path: string, doc: unknown): string[] {
  if (!isRecord(doc)) return [];
  const found: string[] = [];
  const add = (value: unknown) => {
    if (typeof value !== 'string' || value.includes('${') || value.includes('\n') || posix.isAbsolute(value)) return;
    const resolved = posix.normalize(posix.join(posix.dirname(path), value));
    if (!resolved.startsWith('../') && resolved !== '..') found.push(resolved);
  };
  for (const item of asArray(doc.include)) {
    if (typeof item === 'string') add(item);
    else if (isRecord(item)) {
      asArray(item.path).forEach(add);
      asArray(item.env_file).forEach(add);
    }
  }
  if (isRecord(doc.services)) {
    for (const service of Object.values(doc.services)) {
      if (!isRecord(service)) continue;
      if (isRecord(service.extends)) add(service.extends.file);
      for (const envFile of asArray(service.env_file)) add(isRecord(envFile) ? envFile.path : envFile);
    }
  }
  return [...new Set(found)];
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
