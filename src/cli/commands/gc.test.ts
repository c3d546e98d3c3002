import { describe, expect, it } from 'vitest';
import type { GcItem } from '../../core/gc.ts';
import { gcText } from './gc.ts';

const theirs = 'it belongs to another state directory (/home/other/.envs), which still exists';
const kept = (kind: GcItem['kind'], name: string, project: string): GcItem => ({
  kind,
  name,
  project,
  reason: `no env record in this state directory names ${project}`,
  action: 'kept',
  kept_because: theirs,
});

describe('gc human output', () => {
  it("folds another state directory's resources into one line; what gc does to this one's stays one line each", () => {
    const items: GcItem[] = [
      { kind: 'env', name: 'feat-a-1', project: 'envs-r-feat-a-1', reason: 'feat/a: destroy was interrupted', action: 'removed' },
      ...['p1', 'p2', 'p3', 'p4'].flatMap((p) => [kept('container', `${p}-web-1`, p), kept('network', `${p}_default`, p)]),
      {
        kind: 'volume',
        name: 'v',
        project: 'old',
        reason: 'no env record names old',
        action: 'kept',
        kept_because: 'it has no dev.envs.home label',
      },
    ];
    const text = gcText({ dry_run: false, home: '/h', engine: { id: 'x', endpoint: 'unix:///s' }, items, removed: 1, kept: 9 });
    expect(text.split('\n')).toEqual([
      'removed      env feat-a-1 (envs-r-feat-a-1): feat/a: destroy was interrupted',
      `kept         8 resources of 4 projects (p1, p2, p3, …); kept because ${theirs}`,
      'kept         volume v (old): no env record names old; kept because it has no dev.envs.home label',
      'removed 1, kept 9',
      '',
    ]);
  });
});
