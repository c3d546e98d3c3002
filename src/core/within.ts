import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Whether `path` is `dir` or below it (symlinks resolved where the paths exist). */
export async function isWithin(path: string, dir: string): Promise<boolean> {
  const real = (p: string) => realpath(p).catch(() => resolve(p));
  const rel = relative(await real(dir), await real(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
