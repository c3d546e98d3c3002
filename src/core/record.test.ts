import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../testing/record.ts';
import { parseRecord } from './record.ts';

const good = () => ({
  ...sampleRecord({
    services: ['db'],
    ports: [{ service: 'db', target: 5432, published: 25001, host_ip: '127.0.0.1', protocol: 'tcp' }],
    env: { PGPASSWORD: 'hunter2-secret' },
    secrets: { POSTGRES_PASSWORD: 'hunter2-secret' },
    processPorts: { web: 25002 },
    envFiles: [{ path: '.env', sha256: 'ab' }],
  }),
});

describe('parseRecord', () => {
  it('reads a record envs wrote', () => {
    expect(parseRecord(good(), 'x.json').name).toBe('x-1');
  });

  it.each([
    [
      'a variable that is a number',
      (r: Record<string, unknown>) => Object.assign(r.env as object, { PORT: 8080 }),
      /env is not what envs writes \(object/,
    ],
    ['a port binding that is null', (r: Record<string, unknown>) => (r.ports = [null]), /ports is not what envs writes \(a list/],
    ['a warning that is not text', (r: Record<string, unknown>) => (r.warnings = [null]), /warnings is not what envs writes/],
    [
      'a published port out of range',
      (r: Record<string, unknown>) =>
        ((r.ports as { published: number }[])[0] = { ...(r.ports as object[])[0], published: 70000 } as never),
      /ports is/,
    ],
    [
      'an optional field of the wrong type',
      (r: Record<string, unknown>) => (r.processPorts = { web: '25002' }),
      /processPorts is not what envs writes/,
    ],
    ['a missing field', (r: Record<string, unknown>) => delete r.worktree, /worktree is missing/],
    [
      'createdBranch as text',
      (r: Record<string, unknown>) => (r.createdBranch = 'yes'),
      /createdBranch is not what envs writes \(string\)/,
    ],
  ])('refuses %s, naming the field and never its value', (_, damage, message) => {
    const record = good() as Record<string, unknown>;
    damage(record);
    let error: unknown;
    try {
      parseRecord(record, 'x.json');
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(message);
    expect(String(error)).not.toContain('hunter2');
  });

  it('refuses a secret of the wrong type without printing the secrets', () => {
    const record = good() as Record<string, unknown>;
    (record.secrets as Record<string, unknown>).OTHER = { nested: 'hunter2-secret' };
    expect(() => parseRecord(record, 'x.json')).toThrow(/secrets is not what envs writes/);
    expect(() => parseRecord(record, 'x.json')).not.toThrow(/hunter2/);
  });
});
