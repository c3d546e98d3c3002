import type { StatusEntry, WorktreeEntry } from '../core/deps.ts';

/** Parses `git worktree list --porcelain -z`: records separated by an empty field. */
export function parseWorktreeList(output: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const field of output.split('\0')) {
    if (field === '') {
      if (current) entries.push(current);
      current = undefined;
      continue;
    }
    const space = field.indexOf(' ');
    const key = space === -1 ? field : field.slice(0, space);
    const value = space === -1 ? '' : field.slice(space + 1);
    if (key === 'worktree') {
      if (current) entries.push(current);
      current = { path: value, bare: false, prunable: false };
      continue;
    }
    if (!current) continue;
    if (key === 'HEAD') current.head = value;
    else if (key === 'branch') current.branch = value.replace(/^refs\/heads\//, '');
    else if (key === 'bare') current.bare = true;
    else if (key === 'locked') current.locked = value;
    else if (key === 'prunable') current.prunable = true;
  }
  if (current) entries.push(current);
  return entries;
}

/**
 * Parses `git status --porcelain=v1 -z`. Each entry is `XY path`; a rename or copy is followed by
 * its original path as a separate field, which we skip.
 */
export function parseStatus(output: string): StatusEntry[] {
  const fields = output.split('\0');
  const entries: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (!field || field.length < 4) continue;
    const xy = field.slice(0, 2);
    entries.push({ xy, path: field.slice(3) });
    if (xy[0] === 'R' || xy[0] === 'C') i++;
  }
  return entries;
}

/** Parses `git cat-file --batch` output for the requested specs, in order. */
export function parseCatFileBatch(output: Buffer, paths: string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  for (const path of paths) {
    const newline = output.indexOf(0x0a, offset);
    if (newline === -1) break;
    const header = output.subarray(offset, newline).toString('utf8');
    offset = newline + 1;
    const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!match) continue; // "<spec> missing" or "ambiguous"
    const size = Number(match[2]);
    if (match[1] === 'blob') files.set(path, output.subarray(offset, offset + size));
    offset += size + 1;
  }
  return files;
}
