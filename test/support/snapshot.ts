import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { labelled } from './docker.ts';
import type { Fixture } from './repo.ts';

/** Every file under a directory (path → content), skipping what `skip` names. */
async function files(root: string, skip: (path: string) => boolean = () => false): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (skip(path)) continue;
      if (entry.isDirectory()) await walk(path);
      else found[relative(root, path)] = await readFile(path, 'utf8').catch(() => '');
    }
  };
  await walk(root);
  return found;
}

/**
 * Everything a refused command must leave as it was: git's worktrees, branches and other refs, the main
 * checkout's status, envs' state files, the engine's resources of the repository (and whether its containers
 * run), and the files under `dirs` (e.g. an env's worktree).
 */
export async function snapshot(fx: Fixture, dirs: string[] = []) {
  // Independent reads, made at once: the corpus takes hundreds of these.
  const engine = labelled(fx.label);
  const [worktrees, branches, refs, status, state, resources, containers, contents] = await Promise.all([
    fx.git('worktree', 'list', '--porcelain'),
    fx.git('branch', '--list', '--format=%(refname) %(objectname)'),
    fx.git('for-each-ref', '--format=%(refname) %(objectname)'),
    fx.git('status', '--porcelain', '--ignored'),
    files(fx.home, (path) => path.startsWith(join(fx.home, 'locks'))),
    engine,
    engine.then(async ({ containers }) =>
      containers.length === 0 ? '' : (await execa('docker', ['inspect', '--format', '{{.Id}} {{.State.Status}}', ...containers])).stdout,
    ),
    Promise.all(dirs.map(async (dir) => [dir, await files(dir)] as const)),
  ]);
  return { worktrees, branches, refs, status, state, engine: resources, containers, files: Object.fromEntries(contents) };
}
