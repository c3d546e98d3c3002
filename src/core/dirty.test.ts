import { describe, expect, it } from 'vitest';
import { filesAtRisk } from './dirty.ts';

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
