import { describe, expect, it } from 'vitest';
import { filesAtRisk, workAtRisk } from './dirty.ts';

describe('filesAtRisk', () => {
  it('keeps modified, untracked and precious ignored files; drops build output', () => {
    const risky = filesAtRisk([
      { xy: ' M', path: 'src/a.ts' },
      { xy: '??', path: 'notes.md' },
      { xy: '!!', path: '.env.local' },
      { xy: '!!', path: 'node_modules/' },
      { xy: '!!', path: 'apps/web/.next/' },
      { xy: '!!', path: 'packages/ui/tsconfig.tsbuildinfo' },
      { xy: '!!', path: 'dump.sql' },
    ]);
    expect(risky).toEqual([
      { path: 'src/a.ts', kind: 'modified' },
      { path: 'notes.md', kind: 'untracked' },
      { path: '.env.local', kind: 'ignored' },
      { path: 'dump.sql', kind: 'ignored' },
    ]);
  });

  it('never treats an untracked file as disposable, even in a disposable directory', () => {
    expect(filesAtRisk([{ xy: '??', path: 'dist/hand-written.js' }])).toEqual([{ path: 'dist/hand-written.js', kind: 'untracked' }]);
  });

  it('takes extra names from the configuration', () => {
    expect(filesAtRisk([{ xy: '!!', path: '.venv/' }], ['.venv'])).toEqual([]);
  });
});

describe('workAtRisk', () => {
  it('counts hidden edits as modified, and a submodule’s files and commits from the worktree’s root', () => {
    const commit = { sha: 'b'.repeat(40), short: 'bbbbbbb', subject: 'lib work' };
    const risk = workAtRisk({
      registered: true,
      ours: true,
      status: [{ xy: '!!', path: 'node_modules/' }],
      hidden: [{ path: 'local.json', flag: 'assume-unchanged' }],
      commits: [],
      tips: [],
      submodules: [
        {
          path: 'vendor/lib',
          gitDir: '/g',
          checkedOut: true,
          status: [
            { xy: '!!', path: '.env.local' },
            { xy: '!!', path: 'dist/' },
          ],
          hidden: [{ path: 'x.txt', flag: 'skip-worktree' }],
          commits: [commit],
          tips: [],
        },
      ],
      needsForce: true,
    });
    expect(risk).toEqual({
      files: [
        { path: 'local.json', kind: 'modified', flag: 'assume-unchanged' },
        { path: 'vendor/lib/.env.local', kind: 'ignored' },
        { path: 'vendor/lib/x.txt', kind: 'modified', flag: 'skip-worktree' },
      ],
      commits: [{ ...commit, submodule: 'vendor/lib' }],
    });
  });
});
