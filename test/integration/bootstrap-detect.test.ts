import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectStack } from '../../src/bootstrap/detect.ts';
import { EnvsError } from '../../src/errors.ts';
import { CliGitClient, openRepo } from '../../src/git/client.ts';
import { type Fixture, makeRepo } from '../support/repo.ts';

describe('detectStack reads the stack from a commit (real git)', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeRepo({
      'package.json': '{"name":"mono","private":true,"devDependencies":{"turbo":"^2.8.0"}}\n',
      'pnpm-workspace.yaml': 'packages: ["apps/*", "packages/*"]\n',
      'turbo.json': '{\n  // tasks\n  "tasks": { "dev": { "persistent": true } },\n}\n',
      'apps/web/package.json': '{"name":"web","dependencies":{"next":"16.0.0"},"scripts":{"dev":"next dev --port 3001"}}\n',
      'apps/web/supabase/config.toml': 'project_id = "web"\n[api]\nport = 54321\n',
      'packages/ui/package.json': '{"name":"@repo/ui"}\n',
      'node_modules/next/package.json': '{"name":"next","dependencies":{"next":"self"}}\n',
    });
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('finds the Next.js apps, the Supabase project in an app directory and turbo.json', async () => {
    const commit = (await fx.git('rev-parse', 'HEAD')).trim();
    const facts = await detectStack(await gitOf(fx.repo), commit);
    expect(facts.nextApps.map((a) => [a.dir, a.dev?.original, a.dev?.hardCoded])).toEqual([['apps/web', 3001, true]]);
    expect(facts.supabase?.configPath).toBe('apps/web/supabase/config.toml');
    expect(facts.supabase?.workdir).toBe('apps/web');
    expect(facts.supabase?.projectId).toBe('web');
    expect(facts.turbo).toMatchObject({ path: 'turbo.json', envMode: 'strict', version: '^2.8.0' });
    expect(facts.warnings).toEqual([]);
    expect((await detectStack(await gitOf(fx.repo), commit, { supabase: { enabled: false } })).supabase).toBeUndefined();
  });

  it("reports a broken config.toml as the user's to fix", async () => {
    await fx.git('switch', '-q', '-c', 'broken');
    await fx.write({ 'apps/web/supabase/config.toml': '[api\n' });
    await fx.commit('broken');
    const error = await detectStack(await gitOf(fx.repo), (await fx.git('rev-parse', 'HEAD')).trim()).catch((e: unknown) => e);
    expect(EnvsError.is(error) && error.code).toBe('CONFIG_INVALID');
  });
});

async function gitOf(dir: string): Promise<CliGitClient> {
  return new CliGitClient(await openRepo(dir, process.env), process.env);
}
