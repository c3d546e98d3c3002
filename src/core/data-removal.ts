import { lstat, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ComposeModel } from '../compose/model.ts';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';
import type { EnvRecord } from './record.ts';

/**
 * Removes the env's data paths (bind-mount sources its containers created in the worktree), after its
 * containers are gone. Files a container wrote as root cannot be removed by a user: those go through a
 * short-lived container of the image that wrote them, running as root. A path that became a symlink is
 * left alone (it is not what the env made).
 */
export async function removeDataPaths(deps: Deps, record: EnvRecord): Promise<void> {
  for (const path of record.dataPaths ?? []) {
    const absolute = join(record.worktree, ...path.split('/'));
    const info = await lstat(absolute).catch(() => undefined);
    if (!info || info.isSymbolicLink()) continue;
    try {
      await rm(absolute, { recursive: true, force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw error;
      const image = await imageMounting(record, absolute);
      if (!image) throw cannotRemove(absolute, error);
      await deps.engine
        .removeAsRoot({ parent: dirname(absolute), name: basename(absolute), image, project: record.project })
        .catch((cause: unknown) => {
          throw cannotRemove(absolute, cause);
        });
    }
  }
}

/** The image of a service of the env's generated compose file that bind-mounts `path` (it wrote the files). */
async function imageMounting(record: EnvRecord, path: string): Promise<string | undefined> {
  const { parse } = await import('../formats/yaml.ts');
  const model = parse(await readFile(record.composeFile, 'utf8').catch(() => 'services: {}')) as ComposeModel;
  const services = Object.values(model?.services ?? {});
  const mounting = services.find((s) =>
    ((s.volumes as { type?: string; source?: string }[] | undefined) ?? []).some((v) => v?.type === 'bind' && v.source === path),
  );
  return (mounting ?? services.find((s) => s.image))?.image;
}

function cannotRemove(path: string, cause: unknown): EnvsError {
  return new EnvsError(
    'DESTROY_INCOMPLETE',
    `Could not remove the env's data at ${printable(path)} (its containers wrote it as another user).`,
    {
      hint: `Remove it yourself (\`sudo rm -rf ${path}\`), then run destroy again.`,
      cause,
    },
  );
}
