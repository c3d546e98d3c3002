import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvsError } from '../errors.ts';

/** File-system errors that mean the state directory itself is unusable (not a bug in envs). */
const UNUSABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENOSPC', 'EDQUOT', 'ELOOP']);

/**
 * Turns an error of reading or writing state at `path` into STATE_UNUSABLE when the file system refused
 * (read-only, a file where a directory should be, no space); anything else is returned unchanged.
 */
export function stateError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (EnvsError.is(error) || !code || !UNUSABLE.has(code)) return error;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a file is in the way of a directory',
    EEXIST: 'a file is in the way of a directory',
    EISDIR: 'a directory is in the way of a file',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ELOOP: 'too many symbolic links',
  };
  return new EnvsError('STATE_UNUSABLE', `envs cannot use its state directory: ${path}: ${why[code] ?? code}.`, {
    hint: 'Make ENVS_HOME (default ~/.local/state/envs) a writable directory you own, or point ENVS_HOME at one. Nothing was changed.',
    cause: error,
  });
}

/**
 * Why a state file is not JSON, in one line and without quoting its content (JSON.parse's message shows
 * a piece of the text, which may be a secret).
 */
export function notJson(text: string, error: unknown): string {
  if (text.trim() === '') return 'it is empty';
  const message = error instanceof Error ? error.message : '';
  if (/end of JSON input|Unterminated/.test(message)) return 'it is not valid JSON (it ends early: truncated?)';
  const at = /position (\d+)/.exec(message)?.[1];
  return `it is not valid JSON${at ? ` (at character ${at})` : ''}`;
}

/**
 * `mkdir -p` with mode 0700 whose failures say why: Node's recursive mkdir reports ENOENT on a read-only
 * file system (Node 24), so the first missing directory is made alone to learn the real reason.
 */
export async function mkdirPrivate(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(error, path);
    let missing = path;
    while (
      dirname(missing) !== missing &&
      !(await stat(dirname(missing)).then(
        () => true,
        () => false,
      ))
    )
      missing = dirname(missing);
    const real = await mkdir(missing, { mode: 0o700 }).then(
      () => error,
      (again: unknown) => again,
    );
    throw stateError(real, path);
  }
}
