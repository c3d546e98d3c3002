import { copyFromMain } from './copies.ts';
import type { Deps } from './deps.ts';
import { allowedPaths } from './plan.ts';
import type { EnvRecord } from './record.ts';
import { pinnedRenderEnv } from './settings.ts';
import { dirTree, type RenderedSource, readSource, renderSource, type Source } from './source.ts';

/**
 * What an env's worktree asks Compose to run now (for `envs up`: edits on the branch apply), read the way
 * create read the commit: the same refusals, the same gitignored files from the main checkout (copied into
 * the worktree when missing there, recorded on `record`).
 */
export async function readWorktree(deps: Deps, record: EnvRecord): Promise<Source> {
  const renderEnv = pinnedRenderEnv(deps.env, record.renderEnv);
  const source = await readSource(deps, dirTree(deps, record.worktree), {
    env: { ...deps.env, ...renderEnv, ...record.secrets },
    allowPaths: await allowedPaths(deps),
  });
  if (source.copies.length > 0) {
    record.copiedFiles = await copyFromMain(deps.git.repo.root, record.worktree, source.copies, record.copiedFiles ?? []);
  }
  return source;
}

/** The model of a worktree's source, rendered with the embedded Postgres image the env was made with. */
export async function renderWorktree(deps: Deps, record: EnvRecord, source: Source): Promise<RenderedSource> {
  const renderEnv = pinnedRenderEnv(deps.env, record.renderEnv);
  record.renderEnv = renderEnv;
  return renderSource(deps, source, {
    project: record.project,
    worktree: record.worktree,
    onDisk: true,
    env: { ...renderEnv, ...record.secrets },
  });
}
