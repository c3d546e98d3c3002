import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** An XFS file system with reflinks on a loop file: where copy-on-write paths (reflink copies, reflinked copy-ups) are tested. */
export interface Xfs {
  dir: string;
  file: string;
  mount: string;
}

/**
 * A sparse file under /var/tmp formatted XFS with reflinks (`mkfs.xfs -m reflink=1`, xfsprogs) and
 * loop-mounted; undefined and why when it cannot be (not root, no mkfs.xfs). /var/lib/docker here is ext4.
 */
export async function makeXfs(name: string, size = '8G'): Promise<{ xfs?: Xfs; why?: string }> {
  if (process.getuid?.() !== 0) return { why: 'mounting a loop file needs root' };
  const dir = join('/var/tmp', `${name}-${process.pid}`);
  const xfs = { dir, file: join(dir, 'store.img'), mount: join(dir, 'mnt') };
  try {
    await mkdir(xfs.mount, { recursive: true });
    await execa('truncate', ['-s', size, xfs.file]);
    await execa('mkfs.xfs', ['-q', '-m', 'reflink=1', xfs.file]);
    await execa('mount', ['-o', 'loop', xfs.file, xfs.mount]);
    return { xfs };
  } catch (error) {
    await execa('umount', [xfs.mount], { reject: false });
    await rm(dir, { recursive: true, force: true });
    const line = String(error instanceof Error ? error.message : error)
      .split('\n')
      .filter(Boolean)
      .slice(0, 2)
      .join(' ');
    return { why: line };
  }
}

export async function removeXfs(xfs: Xfs): Promise<void> {
  const umount = await execa('umount', [xfs.mount], { reject: false });
  if (umount.exitCode !== 0) await execa('umount', ['-l', xfs.mount], { reject: false });
  await rm(xfs.dir, { recursive: true, force: true });
}
