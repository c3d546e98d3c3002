import { execa } from 'execa';
import { expect } from 'vitest';

async function ids(kind: 'ps' | 'volume' | 'network' | 'image', label: string): Promise<string[]> {
  const args =
    kind === 'ps'
      ? ['ps', '-aq', '--filter', `label=${label}`]
      : kind === 'image'
        ? ['image', 'ls', '-q', '--filter', `label=${label}`]
        : [kind, 'ls', '-q', '--filter', `label=${label}`];
  const { stdout } = await execa('docker', args);
  return stdout.split('\n').filter(Boolean);
}

/** Everything on the engine that carries a label (`key=value` or `key`). */
export async function labelled(label: string) {
  const [containers, volumes, networks, images] = await Promise.all([
    ids('ps', label),
    ids('volume', label),
    ids('network', label),
    ids('image', label),
  ]);
  return { containers, volumes, networks, images };
}

/**
 * Removes everything a test left with our labels for a repository (the reaper is off here, so tests
 * clean up after themselves even when an assertion failed half-way).
 */
export async function sweep(label: string): Promise<void> {
  const left = await labelled(label);
  if (left.containers.length) await execa('docker', ['rm', '-f', '-v', ...left.containers], { reject: false });
  if (left.networks.length) await execa('docker', ['network', 'rm', ...left.networks], { reject: false });
  if (left.volumes.length) await execa('docker', ['volume', 'rm', '-f', ...left.volumes], { reject: false });
  if (left.images.length) await execa('docker', ['image', 'rm', '-f', ...left.images], { reject: false });
}

export async function containerOf(project: string, service: string): Promise<string> {
  const { stdout } = await execa('docker', [
    'ps',
    '-q',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
  ]);
  return stdout.trim();
}

/**
 * Asserts that no container, volume, network or image carries the label any more. Database snapshots
 * (`dev.envs.snapshot`) outlive envs by design (`envs db rm-snapshot` removes them): left out unless asked.
 */
export async function expectNothingLeft(label: string, options: { snapshots?: boolean } = {}): Promise<void> {
  const left = await labelled(label);
  if (!options.snapshots) {
    const snapshots = new Set(await ids('volume', 'dev.envs.snapshot'));
    left.volumes = left.volumes.filter((v) => !snapshots.has(v));
  }
  expect(left).toEqual({ containers: [], volumes: [], networks: [], images: [] });
}
