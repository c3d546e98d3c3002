import { afterEach, describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { readSource, type Tree } from './source.ts';

let fakes: Fakes | undefined;
afterEach(async () => fakes?.cleanup());

/** A tree of in-memory files (a commit as git would give it). */
function tree(files: Record<string, string>): Tree {
  return {
    read: async (paths) => new Map(paths.filter((p) => p in files).map((p) => [p, Buffer.from(files[p] as string)])),
    tracked: async () => Object.keys(files),
  };
}

async function refusal(files: Record<string, string>): Promise<EnvsError> {
  fakes = await makeFakes({ services: {} });
  const error = await readSource(fakes.deps, tree(files), { env: {} }).catch((e: unknown) => e);
  expect(EnvsError.is(error)).toBe(true);
  return error as EnvsError;
}

describe('readSource refuses compose files that would exhaust Compose', () => {
  it('a file that expands aliases exponentially ("billion laughs"), before Compose ever reads it', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `l${i}: &l${i} [${Array(9)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(', ')}]`,
      );
    const error = await refusal({ 'compose.yaml': `x-bomb:\n  ${levels.join('\n  ')}\nservices:\n  app:\n    image: busybox\n` });
    expect(error.code).toBe('COMPOSE_INVALID');
    expect(error.message).toMatch(/compose\.yaml expands YAML aliases far beyond/);
    expect(fakes?.calls.some((c) => c.startsWith('compose'))).toBe(false);
  });

  it('a file larger than any compose file', async () => {
    const error = await refusal({ 'compose.yaml': `services:\n  app:\n    image: busybox\n# ${'x'.repeat(9 * 2 ** 20)}\n` });
    expect(error.message).toMatch(/compose\.yaml is 9\.0 MB; envs reads compose files up to 8 MB/);
  });
});
