import { describe, expect, it } from 'vitest';
import {
  defaultSnapshotName,
  formatBytes,
  formatOwner,
  isSnapshotName,
  newest,
  parseOwner,
  passwordDigest,
  pickSnapshot,
  type Snapshot,
  snapshotLabels,
  snapshotOf,
  snapshotVolume,
  timestampSuffix,
} from './snapshots.ts';

function snap(name: string, more: Partial<Snapshot> = {}): Snapshot {
  return {
    name,
    repoId: 'app-1a2b',
    volume: snapshotVolume('app-1a2b', name),
    dataDir: `/var/lib/docker/volumes/${snapshotVolume('app-1a2b', name)}/_data`,
    service: 'db',
    image: 'postgres:17-alpine',
    pgVersion: '17',
    user: 'app',
    database: 'app',
    passwordDigest: '',
    commit: 'c0ffee',
    from: 'main-env',
    createdAt: '2026-12-01T10:00:00.000Z',
    bytes: 1024,
    ...more,
  };
}

describe('pickSnapshot', () => {
  const wanted = { service: 'db', image: 'postgres:17-alpine', commit: 'base' };

  it('prefers a snapshot of the base commit over a newer one', () => {
    const atBase = snap('at-base', { commit: 'base', createdAt: '2026-12-01T09:00:00.000Z' });
    const newer = snap('newer', { createdAt: '2026-12-01T11:00:00.000Z' });
    expect(pickSnapshot([newer, atBase], wanted)?.name).toBe('at-base');
  });

  it('else takes the newest of the same service and image', () => {
    const older = snap('older', { createdAt: '2026-12-01T09:00:00.000Z' });
    const newer = snap('newer', { createdAt: '2026-12-01T11:00:00.000Z' });
    expect(pickSnapshot([older, newer], wanted)?.name).toBe('newer');
  });

  it('never picks another image (not even a newer one of the base commit) or another service', () => {
    const otherImage = snap('other-image', { image: 'postgres:16', commit: 'base', createdAt: '2026-12-02T00:00:00.000Z' });
    const otherService = snap('other-service', { service: 'analytics', commit: 'base' });
    expect(pickSnapshot([otherImage, otherService], wanted)).toBeUndefined();
    expect(pickSnapshot([otherImage, snap('same'), otherService], wanted)?.name).toBe('same');
    expect(pickSnapshot([], wanted)).toBeUndefined();
  });

  it('newest orders by creation time without changing its input', () => {
    const list = [snap('b', { createdAt: '2026-12-01T11:00:00.000Z' }), snap('c', { createdAt: '2026-12-01T12:00:00.000Z' }), snap('a')];
    expect(newest(list)?.name).toBe('c');
    expect(list.map((s) => s.name)).toEqual(['b', 'c', 'a']);
  });
});

describe('snapshot names', () => {
  it.each(['main-1a2b3c4', 'under-load', 'v1.2_x', '0', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(isSnapshotName(name)).toBe(true);
  });

  it.each(['', 'Bad Name', 'Main', '-lead', '.hidden', 'a/b', 'a'.repeat(64), 'semi;colon'])('refuses %j', (name) => {
    expect(isSnapshotName(name)).toBe(false);
  });

  it('makes default names that are valid names', () => {
    expect(defaultSnapshotName('main', '1a2b3c4')).toBe('main-1a2b3c4');
    expect(defaultSnapshotName('Feature/Login Page', '20261201-101500')).toBe('feature-login-page-20261201-101500');
    expect(defaultSnapshotName('--', 'x')).toBe('db-x');
    const long = defaultSnapshotName('x'.repeat(80), timestampSuffix(new Date('2026-12-01T10:15:00.123Z')));
    expect(long).toBe(`${'x'.repeat(40)}-20261201-101500`);
    for (const name of [long, defaultSnapshotName('fork-feat-a-1a2b3c', '20261201-101500')]) expect(isSnapshotName(name)).toBe(true);
  });

  it('names the volume after the repository and the snapshot', () => {
    expect(snapshotVolume('app-1a2b', 'main-1a2b3c4')).toBe('envs-snap-app-1a2b-main-1a2b3c4');
  });
});

describe('labels', () => {
  it('round-trip a snapshot through its volume’s labels', () => {
    const s = snap('main-1a2b3c4', { bytes: 71217152 });
    const { volume, dataDir, ...meta } = s;
    const labels = snapshotLabels(meta);
    expect(labels['dev.envs.managed']).toBe('true');
    expect(labels['dev.envs.repo']).toBe('app-1a2b');
    expect(snapshotOf({ name: volume, labels, dataDir, driver: 'local', options: {} })).toEqual(s);
  });

  it('carry the owner and mode of the data’s top directory (what an overlay clone’s upper layer gets), when known', () => {
    const s = snap('main-1a2b3c4', { root: { uid: 70, gid: 70, mode: 0o700 } });
    const { volume, dataDir, ...meta } = s;
    const labels = snapshotLabels(meta);
    expect(labels['dev.envs.snapshot.root']).toBe('70:70:700');
    expect(snapshotOf({ name: volume, labels, dataDir, driver: 'local', options: {} })).toEqual(s);
    // Snapshots from before the label, or with one that is not `uid:gid:mode`, have no root: clones probe as before.
    expect('dev.envs.snapshot.root' in snapshotLabels(snap('old'))).toBe(false);
    for (const bad of ['', '70:70', '70:70:800', 'x:70:700', '70:70:700:1', '-1:0:755']) {
      expect(parseOwner(bad)).toBeUndefined();
    }
    expect(parseOwner('999:999:2750')).toEqual({ uid: 999, gid: 999, mode: 0o2750 });
    expect(formatOwner({ uid: 0, gid: 0, mode: 0o755 })).toBe('0:0:755');
  });

  it('a volume without a snapshot name or repository is no snapshot', () => {
    expect(snapshotOf({ name: 'v', labels: { 'dev.envs.repo': 'app-1a2b' }, dataDir: '/d', driver: 'local', options: {} })).toBeUndefined();
    expect(snapshotOf({ name: 'v', labels: { 'dev.envs.snapshot': 'x' }, dataDir: '/d', driver: 'local', options: {} })).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '1 KiB'],
    [300 * 1024, '300 KiB'],
    [71217152, '67.9 MiB'],
    [905 * 1024 ** 2, '905.0 MiB'],
    [3 * 1024 ** 3, '3.00 GiB'],
  ])('%s → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('passwordDigest', () => {
  it('tells the same password apart from another, salted by the snapshot, without showing it', () => {
    const digest = passwordDigest('main-1a2b3c4', 'secret');
    expect(digest).toBe(passwordDigest('main-1a2b3c4', 'secret'));
    expect(digest).not.toBe(passwordDigest('main-1a2b3c4', 'secret2'));
    expect(digest).not.toBe(passwordDigest('main-9f9f9f9', 'secret'));
    expect(digest).not.toContain('secret');
    // A password made of hex digits could show through a hex digest as it is; it does not.
    expect(passwordDigest('main-1a2b3c4', 'c0ffee42')).not.toContain('c0ffee42');
    expect(digest).toMatch(/^[0-9a-z]+$/);
  });
});
