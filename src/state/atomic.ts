import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ensureTempDir, tempName } from './temp.ts';
import { mkdirPrivate, stateError } from './unusable.ts';

/** A directory for private state: created with mode 0700 when missing. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdirPrivate(path);
}

export interface AtomicWriteOptions {
  /** Mode of the file (default 0600). */
  mode?: number;
  /**
   * Where the temporary file is made (`$ENVS_HOME/tmp`, where the next run clears what a killed run left);
   * default: beside the target. It must be on the target's file system; if not, the write falls back to
   * beside the target.
   */
  tmpDir?: string;
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * write a temporary file (mode 0600 by default), fsync, rename over the target.
 * Cross-process read-modify-write still needs a lock around it.
 */
export async function writeFileAtomic(path: string, data: string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  await Promise.all([ensurePrivateDir(dirname(path)), options.tmpDir ? ensureTempDir(options.tmpDir) : undefined]);
  const beside = () => join(dirname(path), `.${basename(path)}.${tempName('write')}.tmp`);
  const tmp = options.tmpDir ? join(options.tmpDir, tempName('write')) : beside();
  try {
    await writeAndRename(tmp, path, data, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw stateError(error, path);
    await writeAndRename(beside(), path, data, mode).catch((again: unknown) => {
      throw stateError(again, path);
    });
  }
}

async function writeAndRename(tmp: string, path: string, data: string, mode: number): Promise<void> {
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
