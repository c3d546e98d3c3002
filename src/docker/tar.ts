import type { DirsSpec } from '../core/deps.ts';

/**
 * A tar of empty directories with their owners and modes: what the engine's archive upload (`PUT
 * /containers/{id}/archive`) makes under a mount of a container that never starts.
 */
export async function dirsTar(dirs: DirsSpec['dirs'], mtime = new Date()): Promise<Buffer> {
  const { pack } = (await import('tar-stream')).default;
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const dir of dirs) archive.entry({ name: dir.path, type: 'directory', uid: dir.uid, gid: dir.gid, mode: dir.mode, mtime });
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}
