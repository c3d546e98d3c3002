import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, envs, envsOk } from '../support/cli.ts';
import { expectNothingLeft, labelled } from '../support/docker.ts';
import { httpGet } from '../support/net.ts';
import { type Fixture, useRepo, webFiles } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/** A user error: exit 1, one line with a hint, no stack; the same as JSON with --json; nothing changed. */
async function expectRefused(fx: Fixture, args: string[], code: string, message: RegExp): Promise<CliResult> {
  const before = await snapshot(fx);
  const human = await envs(fx.repo, fx.home, args);
  const json = await envs(fx.repo, fx.home, [...args, '--json']);
  expect(human.exitCode, human.stderr).toBe(1);
  expect(human.stderr).toMatch(/^error: /);
  expect(human.stderr).toMatch(message);
  expect(human.stderr).toMatch(/\nhint: .*envs doctor --fix/);
  expect(human.stderr).not.toMatch(/ at .*\.js:\d+/);
  expect(json.exitCode).toBe(1);
  expect(json.json.error).toMatchObject({ code, message: expect.stringMatching(message), hint: expect.any(String) });
  expect(await snapshot(fx)).toEqual(before);
  return human;
}

async function recordFile(fx: Fixture, name: string): Promise<string> {
  const [repoId] = await readdir(join(fx.home, 'repos'));
  return join(fx.home, 'repos', repoId ?? '', 'envs', `${name}.json`);
}

describe('a corrupt env record', () => {
  const fx = useRepo(webFiles(), 'damaged');

  it('shows that env as corrupt while the others work; acting on it is refused with STATE_CORRUPT; doctor --fix moves it aside', async () => {
    const ok = (await envsOk(fx.repo, fx.home, ['create', 'feat/ok', '--json'])).json;
    const bad = (await envsOk(fx.repo, fx.home, ['create', 'feat/bad', '--json'])).json;
    const file = await recordFile(fx, bad.name);
    const damaged = (await readFile(file, 'utf8')).slice(0, 200); // a torn write, as a full disk or an editor leaves it
    await writeFile(file, damaged);

    const list = await envsOk(fx.repo, fx.home, ['list', '--json']);
    expect(list.json.map((e: any) => [e.name, e.status])).toEqual(
      [
        [ok.name, 'running'],
        [bad.name, 'corrupt'],
      ].sort(),
    );
    const corrupt = list.json.find((e: any) => e.name === bad.name);
    expect(corrupt).toMatchObject({ branch: 'feat/bad', project: bad.project, problems: [expect.stringContaining(file)] });
    expect((await envsOk(fx.repo, fx.home, ['list'])).stdout).toMatch(new RegExp(`${bad.name}\\s+feat/bad\\s+corrupt`));
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/bad', '--json'])).json.status).toBe('corrupt');
    expect((await envsOk(fx.repo, fx.home, ['info', 'feat/ok', '--json'])).json.status).toBe('running');

    // Nothing acts on an env it cannot read: the hint says how out.
    const refused = await expectRefused(
      fx,
      ['destroy', 'feat/bad', '--force'],
      'STATE_CORRUPT',
      /The record of env feat-bad-\w+ \(.*\) is damaged/,
    );
    expect(refused.stderr).toContain(`docker compose -p ${bad.project} down --volumes`);
    await expectRefused(fx, ['destroy', bad.name], 'STATE_CORRUPT', /is damaged/);
    await expectRefused(fx, ['up', 'feat/bad'], 'STATE_CORRUPT', /is damaged/);
    await expectRefused(fx, ['create', 'feat/bad'], 'STATE_CORRUPT', /is damaged/);
    expect(await httpGet(bad.ports[0].published)).not.toBe('');

    // Everything else works: create and destroy of another env, down/up of the good one.
    const other = (await envsOk(fx.repo, fx.home, ['create', 'feat/other', '--json'])).json;
    await envsOk(fx.repo, fx.home, ['destroy', 'feat/other']);
    expect((await labelled(`dev.envs.project=${other.project}`)).containers).toEqual([]);
    await envsOk(fx.repo, fx.home, ['down', 'feat/ok']);
    await envsOk(fx.repo, fx.home, ['up', 'feat/ok']);

    // doctor finds it; --fix moves it aside, never deleting it.
    const doctor = await envs(fx.repo, fx.home, ['doctor', '--json']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.json.checks).toContainEqual(
      expect.objectContaining({
        name: 'state files',
        ok: false,
        detail: expect.stringContaining(file),
        fix: expect.stringMatching(/doctor --fix/),
      }),
    );
    const fixed = await envsOk(fx.repo, fx.home, ['doctor', '--fix', '--json']);
    expect(fixed.json.fixed).toEqual([expect.stringContaining(`moved the damaged record ${file} aside`)]);
    const aside = (await readdir(join(file, '..'))).filter((n) => n.startsWith(`${bad.name}.json.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(file, '..', aside[0] ?? ''), 'utf8')).toBe(damaged);
    expect(existsSync(file)).toBe(false);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json.map((e: any) => e.name)).toEqual([ok.name]);

    await envsOk(fx.repo, fx.home, ['destroy', 'feat/ok']);
    await expectNothingLeft(`dev.envs.project=${ok.project}`);
  });
});

describe('a corrupt port registry', () => {
  const fx = useRepo(webFiles(), 'registry');

  it('stops create and destroy before any change with STATE_CORRUPT; list works; doctor --fix rebuilds the leases', async () => {
    const env = (await envsOk(fx.repo, fx.home, ['create', 'feat/kept', '--json'])).json;
    const registry = join(fx.home, 'ports.json');
    const leases = JSON.parse(await readFile(registry, 'utf8')).leases;
    await writeFile(registry, '{"version": 1, "leases": [{"port": 2');

    // destroy used to run `down -v` first and crash on the registry half-way.
    await expectRefused(fx, ['destroy', 'feat/kept'], 'STATE_CORRUPT', /The port registry .*ports\.json is damaged/);
    expect(await httpGet(env.ports[0].published)).not.toBe('');
    await expectRefused(fx, ['create', 'feat/new'], 'STATE_CORRUPT', /port registry .* is damaged/);
    expect((await envsOk(fx.repo, fx.home, ['list', '--json'])).json[0]).toMatchObject({ name: env.name, status: 'running' });

    const doctor = await envs(fx.repo, fx.home, ['doctor']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/✗ state files\s+.*ports\.json: it is not valid JSON/);
    const fixed = await envsOk(fx.repo, fx.home, ['doctor', '--fix']);
    expect(fixed.stdout).toMatch(/fixed: moved the damaged port registry aside to .*ports\.json\.corrupt-.*; rebuilt .* with 1 leases/);
    expect(fixed.stdout).toMatch(/✓ state files/);
    const rebuilt = JSON.parse(await readFile(registry, 'utf8')).leases;
    const shape = (l: any) => [l.port, l.protocol, l.project, l.key, l.env];
    expect(rebuilt.map(shape)).toEqual(leases.map(shape));
    expect((await readdir(fx.home)).filter((n) => n.startsWith('ports.json.corrupt-'))).toHaveLength(1);

    const destroyed = (await envsOk(fx.repo, fx.home, ['destroy', 'feat/kept', '--json'])).json;
    expect(destroyed.released_ports).toEqual([env.ports[0].published]);
    await expectNothingLeft(fx.label);
  });

  it('a damaged lock owner file is found and moved aside by doctor', async () => {
    const lock = join(fx.home, 'locks', 'env-x.lock.d');
    await mkdir(lock, { recursive: true });
    await writeFile(join(lock, 'owner.json'), '{"pid": ');
    const old = new Date(Date.now() - 60_000);
    await utimes(join(lock, 'owner.json'), old, old);
    expect((await envs(fx.repo, fx.home, ['doctor', '--json'])).json.checks).toContainEqual(
      expect.objectContaining({ name: 'state files', ok: false, detail: expect.stringContaining('env-x.lock.d/owner.json') }),
    );
    const fixed = await envsOk(fx.repo, fx.home, ['doctor', '--fix', '--json']);
    expect(fixed.json.fixed).toEqual([expect.stringMatching(/moved the damaged lock .*env-x\.lock\.d aside/)]);
    expect((await readdir(join(fx.home, 'locks'))).filter((n) => n.startsWith('env-x.lock.d.corrupt-'))).toHaveLength(1);
  });
});
