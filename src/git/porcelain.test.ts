import { describe, expect, it } from 'vitest';
import { parseCatFileBatch, parseStatus, parseWorktreeList } from './porcelain.ts';

describe('parseWorktreeList', () => {
  it('reads main, linked, locked and detached worktrees', () => {
    const out =
      'worktree /r\0HEAD aaa\0branch refs/heads/main\0\0' +
      'worktree /w/x y\0HEAD bbb\0branch refs/heads/feat/x\0locked hello world\0\0' +
      'worktree /w/d\0HEAD ccc\0detached\0prunable gitdir file points to non-existent location\0\0';
    expect(parseWorktreeList(out)).toEqual([
      { path: '/r', head: 'aaa', branch: 'main', bare: false, prunable: false },
      { path: '/w/x y', head: 'bbb', branch: 'feat/x', bare: false, prunable: false, locked: 'hello world' },
      { path: '/w/d', head: 'ccc', bare: false, prunable: true },
    ]);
  });
});

describe('parseStatus', () => {
  it('reads codes and paths, skipping the original path of renames', () => {
    const out = ' M a.ts\0?? new file.txt\0R  to.ts\0from.ts\0!! node_modules/\0';
    expect(parseStatus(out)).toEqual([
      { xy: ' M', path: 'a.ts' },
      { xy: '??', path: 'new file.txt' },
      { xy: 'R ', path: 'to.ts' },
      { xy: '!!', path: 'node_modules/' },
    ]);
  });
});

describe('parseCatFileBatch', () => {
  it('returns blobs, links that leave the tree, and skips missing or dangling specs', () => {
    const out = Buffer.concat([
      Buffer.from('abc123 blob 5\nhello\n'),
      Buffer.from('c:x missing\n'),
      Buffer.from('symlink 11\n/etc/passwd\n'),
      Buffer.from('dangling 6\nc:link\n'),
      Buffer.from('def456 blob 0\n\n'),
    ]);
    const files = parseCatFileBatch(out, ['a', 'x', 'out', 'd', 'e']);
    expect(files.get('a')).toEqual({ kind: 'blob', content: Buffer.from('hello') });
    expect(files.has('x')).toBe(false);
    expect(files.get('out')).toEqual({ kind: 'outside', target: '/etc/passwd' });
    expect(files.has('d')).toBe(false);
    expect(files.get('e')).toEqual({ kind: 'blob', content: Buffer.from('') });
  });
});
