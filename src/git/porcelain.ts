import type { StatusEntry, TreeRead, WorktreeEntry } from '../core/deps.ts';

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

/**
 * Parses `git cat-file --batch --follow-symlinks` output for the requested specs, in order. Blobs come
 * back with their content (symlinks inside the tree already followed by git); a symlink that leaves the
 * tree comes back as `outside` with the part of its target outside; missing, dangling, looping and
 * not-a-directory answers are left out (the caller may look elsewhere, e.g. the main checkout).
 */
export function parseCatFileBatch(output: Buffer, paths: string[]): Map<string, TreeRead> {
  const files = new Map<string, TreeRead>();
  let offset = 0;
  const line = (): string | undefined => {
    const newline = output.indexOf(0x0a, offset);
    if (newline === -1) return undefined;
    const text = output.subarray(offset, newline).toString('utf8');
    offset = newline + 1;
    return text;
  };
  for (const path of paths) {
    const header = line();
    if (header === undefined) break;
    const object = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (object) {
      const size = Number(object[2]);
      if (object[1] === 'blob') files.set(path, { kind: 'blob', content: output.subarray(offset, offset + size) });
      offset += size + 1;
      continue;
    }
    // "symlink <size>\n<target>\n", "dangling|loop|notdir <size>\n<spec>\n", or "<spec> missing".
    const other = /^(symlink|dangling|loop|notdir) (\d+)$/.exec(header);
    if (!other) continue;
    const size = Number(other[2]);
    const body = output.subarray(offset, offset + size).toString('utf8');
    offset += size + 1;
    if (other[1] === 'symlink') files.set(path, { kind: 'outside', target: body });
  }
  return files;
}

/** `git cat-file --batch` output as the blobs it holds (links leaving a tree and missing specs left out). */
export function parseBlobs(output: Buffer, specs: string[]): Map<string, Buffer> {
  const blobs = new Map<string, Buffer>();
  for (const [spec, entry] of parseCatFileBatch(output, specs)) if (entry.kind === 'blob') blobs.set(spec, entry.content);
  return blobs;
}
