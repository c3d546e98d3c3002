import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { type Fixture, useRepo, webFiles } from '../support/repo.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/.bin/tsc');

/** The README's example, as a user's program would be written: the package by its name, typed results. */
const EXAMPLE = `import { createEnv, destroyEnv, EnvsError, type EnvView, type DestroyResult, execTarget, infoEnv, openEnvs, type PhaseEvent } from 'envs';
import { execFileSync } from 'node:child_process';

const repo = process.argv[2] as string;
const deps = await openEnvs({ cwd: repo });
const phases: PhaseEvent[] = [];
const env: EnvView = await createEnv(deps, {
  branch: 'feat/lib',
  onEvent: (event) => {
    if (event.event === 'phase') phases.push(event);
  },
});
const info: EnvView = await infoEnv(deps, env.branch);
const port: number | undefined = info.ports.find((p) => p.service === 'web')?.published;

// Run something in the env: its worktree and its variables.
const target = await execTarget(deps, env.branch);
const seen = execFileSync('sh', ['-c', 'echo "$ENVS_NAME $ENVS_WEB_PORT"'], { cwd: target.cwd, env: { ...process.env, ...target.env } })
  .toString()
  .trim();

let code: string | undefined;
try {
  await createEnv(deps, { branch: 'bad..branch' });
} catch (error) {
  if (error instanceof EnvsError) code = error.code;
}
const destroyed: DestroyResult = await destroyEnv(deps, env.branch);
console.log(JSON.stringify({ name: env.name, status: info.status, port, seen, code, removed: destroyed.worktree_removed, phases: phases.map((p) => \`\${p.name}:\${p.status}\`) }));
`;

describe('the library API from the built package', () => {
  const fx: Fixture = useRepo(webFiles(), 'libapp');
  let project = '';

  beforeAll(async () => {
    // A user's project with envs installed: node_modules/envs is this checkout (package.json exports → dist).
    project = await mkdtemp(join(tmpdir(), 'envs-lib-'));
    await mkdir(join(project, 'node_modules'));
    await symlink(ROOT, join(project, 'node_modules/envs'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', type: 'module', private: true }));
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2023',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    );
    await writeFile(join(project, 'example.ts'), EXAMPLE);
  });
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('type-checks an example against dist/index.d.ts, and a wrong field is a type error', async () => {
    // One tsc run: the example and the package's declarations are clean, the misspelt field is the only error.
    await writeFile(join(project, 'wrong.ts'), `import type { EnvView } from 'envs';\nexport const x = (v: EnvView): string => v.nmae;\n`);
    const checked = await execa(TSC, ['-p', project], { cwd: project, reject: false });
    await rm(join(project, 'wrong.ts'));
    expect(checked.exitCode).not.toBe(0);
    const errors = checked.stdout.split('\n').filter((line) => /error TS/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^wrong\.ts.*'nmae'/);
  });

  it('runs the example: create, info, a command with the env’s variables, an EnvsError by code, destroy', async () => {
    const run = await execa('node', [join(project, 'example.ts'), fx.repo], {
      cwd: project,
      env: { ENVS_HOME: fx.home, ENVS_PROXY: 'off', ENVS_POSTGRES_IMAGE: images.postgres },
      reject: false,
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ status: 'running', code: 'INVALID_BRANCH', removed: true });
    expect(out.seen).toBe(`${out.name} ${out.port}`);
    expect(out.phases[0]).toBe('plan:start');
    expect(out.phases.at(-1)).toBe('ready:done');
    await expectNothingLeft(fx.label);
  }, 180_000);
});
