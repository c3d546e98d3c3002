import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from './schema.ts';

describe('schema/envs.schema.json', () => {
  it('is what the zod schema says (run `npm run schema` after changing it)', async () => {
    const shipped = JSON.parse(await readFile(new URL('../../schema/envs.schema.json', import.meta.url), 'utf8'));
    expect(shipped).toEqual(configJsonSchema());
  });

  it('rejects unknown keys, so typos are reported', () => {
    expect((configJsonSchema() as { additionalProperties?: boolean }).additionalProperties).toBe(false);
  });
});
