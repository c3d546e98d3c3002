import { relative, sep } from 'node:path';
import type { ComposeModel } from '../compose/model.ts';

/** A bind mount whose source is inside the worktree: repository-relative source, and who mounts it. */
export interface WorktreeMount {
  path: string;
  service: string;
  target: string;
}

/** Bind mounts of the model whose source lies inside the worktree (the model is rendered for it). */
export function worktreeMounts(model: ComposeModel, worktree: string): WorktreeMount[] {
  const mounts: WorktreeMount[] = [];
  for (const [service, definition] of Object.entries(model.services)) {
    for (const volume of (definition.volumes as { type?: string; source?: string; target?: string }[] | undefined) ?? []) {
      if (volume?.type !== 'bind' || typeof volume.source !== 'string') continue;
      const rel = relative(worktree, volume.source);
      if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) continue;
      mounts.push({ path: rel.split(sep).join('/'), service, target: volume.target ?? '' });
    }
  }
  return mounts;
}

/**
 * The bind-mount sources in the worktree that will hold the env's own data: not tracked on the branch (nor
 * a directory holding tracked files), not a file envs copies in, and not under another such path. Docker
 * creates them when the containers start (as root); they are the env's, so dirty checks skip them and
 * destroy removes them. Which of them really did not exist before is decided at create time, on disk.
 */
export function dataPathCandidates(mounts: WorktreeMount[], tracked: readonly string[], copies: readonly string[]): string[] {
  const isTracked = (path: string) => tracked.some((t) => t === path || t.startsWith(`${path}/`));
  const isCopied = (path: string) => copies.some((c) => c === path || c.startsWith(`${path}/`));
  const paths = [...new Set(mounts.map((m) => m.path))].filter((p) => !isTracked(p) && !isCopied(p)).sort();
  return paths.filter((p) => !paths.some((other) => other !== p && p.startsWith(`${other}/`)));
}

/** Whether a repository-relative path is one of the env's data paths or inside one. */
export function inDataPath(path: string, dataPaths: readonly string[]): boolean {
  const clean = path.replace(/\/$/, '');
  return dataPaths.some((d) => clean === d || clean.startsWith(`${d}/`));
}
