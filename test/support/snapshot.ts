import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { labelled } from './docker.ts';
import type { Fixture } from './repo.ts';

/**
 * Everything a refused command must leave as it was: git's worktrees and branches, every file of our
 * state (locks aside, they come and go), and the engine's resources of the repository.
 */
export async function snapshot(fx: Fixture) {
  const files: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (!path.startsWith(join(fx.home, 'locks'))) files[relative(fx.home, path)] = await readFile(path, 'utf8').catch(() => '');
    }
  };
  await walk(fx.home);
  return {
    worktrees: await fx.git('worktree', 'list', '--porcelain'),
    branches: await fx.git('branch', '--list', '--format=%(refname) %(objectname)'),
    status: await fx.git('status', '--porcelain', '--ignored'),
    state: files,
    engine: await labelled(fx.label),
  };
}
