import { describe, expect, it } from 'vitest';
import { analyseDevScript, detectNextApps, hardCodedPortAdvice, nextDevCommand } from './nextjs.ts';

const pkg = (path: string, json: object) => ({ path, text: JSON.stringify(json) });

describe('detectNextApps', () => {
  it('finds the packages that depend on next, in any workspace directory', () => {
    const { apps, warnings } = detectNextApps([
      pkg('package.json', { name: 'root', devDependencies: { turbo: '^2.8.0' }, scripts: { dev: 'turbo dev' } }),
      pkg('apps/web/package.json', { name: 'web', dependencies: { next: '16.0.1' }, scripts: { dev: 'next dev --turbopack' } }),
      pkg('apps/docs/package.json', { name: 'docs', devDependencies: { next: '^15' }, scripts: { dev: 'next dev --port 3001' } }),
      pkg('packages/ui/package.json', { name: '@repo/ui', peerDependencies: { next: '*' } }),
      { path: 'apps/broken/package.json', text: '{ not json' },
    ]);
    expect(apps.map((a) => [a.dir, a.name, a.dev?.original, a.dev?.hardCoded])).toEqual([
      ['apps/docs', 'docs', 3001, true],
      ['apps/web', 'web', 3000, false],
    ]);
    expect(warnings).toEqual(['apps/broken/package.json is not valid JSON; envs cannot tell whether it is a Next.js app.']);
  });

  it('knows an app at the repository root', () => {
    expect(detectNextApps([pkg('package.json', { dependencies: { next: '16' } })]).apps).toEqual([{ dir: '', version: '16' }]);
  });
});

describe('analyseDevScript', () => {
  it.each([
    ['next dev', { kind: 'default' }, 3000, false],
    ['next dev --turbopack', { kind: 'default' }, 3000, false],
    ['next dev -p 3001', { kind: 'flag', value: 3001, token: '-p 3001' }, 3001, true],
    ['next dev --port 3002 --turbopack', { kind: 'flag', value: 3002, token: '--port 3002' }, 3002, true],
    ['next dev --port=3003', { kind: 'flag', value: 3003, token: '--port=3003' }, 3003, true],
    ['next dev -p3004', { kind: 'flag', value: 3004, token: '-p3004' }, 3004, true],
    ['PORT=3005 next dev', { kind: 'env-prefix', value: 3005, token: 'PORT=3005' }, 3005, true],
    ['NODE_OPTIONS=--inspect PORT=3006 next dev', { kind: 'env-prefix', value: 3006, token: 'PORT=3006' }, 3006, true],
    ['PORT=3010 NODE_ENV=development next dev', { kind: 'env-prefix', value: 3010, token: 'PORT=3010' }, 3010, true],
    ['DB_PORT=5432 next dev', { kind: 'default' }, 3000, false],
    ['next dev -p ${PORT:-3007}', { kind: 'variable', variable: 'PORT', fallback: 3007 }, 3007, false],
    ['next dev -p ${STUDIO_PORT:-8082}', { kind: 'variable', variable: 'STUDIO_PORT', fallback: 8082 }, 8082, false],
    ['next dev --port $PORT', { kind: 'variable', variable: 'PORT' }, 3000, false],
    ['prisma generate && next dev -p 3008', { kind: 'flag', value: 3008, token: '-p 3008' }, 3008, true],
    ['next dev -p 3009 & tsc -w', { kind: 'flag', value: 3009, token: '-p 3009' }, 3009, true],
  ])('%s', (text, port, original, hardCoded) => {
    expect(analyseDevScript('dev', text)).toMatchObject({ port, original, hardCoded });
  });

  it('says nothing about scripts without next dev', () => {
    expect(analyseDevScript('dev', 'turbo dev')).toBeUndefined();
    expect(analyseDevScript('dev', 'vite --port 3000')).toBeUndefined();
  });
});

describe('the fix and the command envs runs', () => {
  const app = (text: string) =>
    detectNextApps([pkg('apps/web/package.json', { dependencies: { next: '16' }, scripts: { dev: text } })]).apps[0] as never;

  it('suggests ${PORT:-N} for a hard-coded port and runs the script with the leased one', () => {
    const docs = app('next dev --turbopack -p 3001');
    expect(hardCodedPortAdvice(docs)).toBe(
      'apps/web/package.json: scripts.dev fixes the port (next dev --turbopack -p 3001); envs runs it with the env\'s port, and `dev` outside envs keeps 3001. To let PORT through everywhere, write: "next dev --turbopack -p ${PORT:-3001}"',
    );
    expect(nextDevCommand(docs, 24301)).toEqual({ cwd: 'apps/web', command: 'next dev --turbopack -p 24301', env: { PORT: '24301' } });
  });

  it('rewrites the port of next dev only, not an earlier one of another program', () => {
    const both = app('prisma studio -p 3001 & next dev -p 3001');
    expect(nextDevCommand(both, 24301).command).toBe('prisma studio -p 3001 & next dev -p 24301');
    expect((both as { dev: { fix: string } }).dev.fix).toBe('prisma studio -p 3001 & next dev -p ${PORT:-3001}');
  });

  it('replaces a PORT= prefix, and sets the variable a parametrised script reads', () => {
    expect(nextDevCommand(app('PORT=3005 next dev'), 24305).command).toBe('PORT=24305 next dev');
    expect(analyseDevScript('dev', 'PORT=3005 next dev')?.fix).toBe('PORT=${PORT:-3005} next dev');
    expect(nextDevCommand(app('next dev -p ${STUDIO_PORT:-8082}'), 24306)).toEqual({
      cwd: 'apps/web',
      command: 'next dev -p ${STUDIO_PORT:-8082}',
      env: { PORT: '24306', STUDIO_PORT: '24306' },
    });
    expect(hardCodedPortAdvice(app('next dev'))).toBeUndefined();
  });
});
