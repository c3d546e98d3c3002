import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComposeModel } from '../compose/model.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { createEnv } from './create.ts';
import { parseCreatePayload, parseRemovePayload, worktreeCreateHook, worktreeRemoveHook } from './hooks.ts';

describe('Claude Code hook payloads', () => {
  it('reads both spellings of the name and the base, ignoring unknown fields', () => {
    const current = {
      session_id: 's1',
      transcript_path: '/t.jsonl',
      hook_event_name: 'WorktreeCreate',
      cwd: '/repo',
      worktree_name: 'bold-otter-12',
      base_commit: 'abc123',
      isolation: 'worktree',
    };
    expect(parseCreatePayload(JSON.stringify(current))).toEqual({ name: 'bold-otter-12', base: 'abc123', cwd: '/repo' });
    expect(parseCreatePayload(JSON.stringify({ hook_event_name: 'WorktreeCreate', name: 'feature/x', base_ref: 'main' }))).toEqual({
      name: 'feature/x',
      base: 'main',
    });
  });

  it('refuses what is not a payload of that event, saying why', () => {
    const refused = (text: string) => {
      try {
        parseCreatePayload(text);
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error('accepted');
    };
    expect(refused('')).toMatchObject({ code: 'HOOK_PAYLOAD_INVALID', message: expect.stringMatching(/stdin was empty/) });
    expect(refused('{not json').message).toMatch(/not JSON/);
    expect(refused('{"cwd": "/repo"}').message).toMatch(/no worktree_name/);
    expect(refused('{"name": 12}').message).toMatch(/^Not a Claude Code WorktreeCreate payload: name:/);
    expect(refused('{"name": "x", "hook_event_name": "WorktreeRemove"}').message).toMatch(/WorktreeRemove event/);
    expect(() => parseRemovePayload('{"worktree_path": "rel/path"}')).toThrow(/not absolute/);
    expect(parseRemovePayload('{"worktree_path": "/w/x", "cwd": "/repo"}')).toEqual({ worktreePath: '/w/x', cwd: '/repo' });
  });
});

describe('WorktreeRemove while an agent works there', () => {
  const model: ComposeModel = {
    name: 'x',
    services: { web: { image: 'busybox', ports: [{ target: 80, published: '8080', protocol: 'tcp' }] } },
  };
  let fakes: Fakes;
  beforeEach(async () => {
    fakes = await makeFakes(model);
  });
  afterEach(async () => {
    await fakes.cleanup();
  });

  it("names a payload's unknown base as the payload's, not as a --from the user never typed", async () => {
    await expect(worktreeCreateHook(fakes.deps, { name: 'otter', base: 'deadbeef' })).rejects.toMatchObject({
      code: 'UNKNOWN_REF',
      message: expect.stringMatching(/^The payload's base deadbeef: no such branch, tag or commit/),
    });
    expect(await fakes.deps.records.list()).toEqual([]);
  });

  it('refuses (AGENT_RUNNING): a hook must not kill an agent someone started with `envs agent`; nothing changes', async () => {
    const env = await createEnv(fakes.deps, { branch: 'worktree-otter' });
    fakes.deps.app.agents = async () => [
      { window: 'agent', running: true, pid: 4242, command: 'claude', startedAt: '2026-11-21T00:00:00Z', session: env.project },
    ];
    const before = fakes.calls.length;
    await expect(worktreeRemoveHook(fakes.deps, { worktreePath: env.worktree })).rejects.toMatchObject({
      code: 'AGENT_RUNNING',
      message: expect.stringContaining('claude'),
    });
    expect(fakes.calls.slice(before)).toEqual([]);
    expect(await fakes.deps.records.get(env.name)).toBeDefined();

    // An agent that ended is no reason to keep the worktree.
    fakes.deps.app.agents = async () => [
      { window: 'agent', running: false, exitCode: 0, pid: 4242, command: 'claude', startedAt: '', session: env.project },
    ];
    await expect(worktreeRemoveHook(fakes.deps, { worktreePath: env.worktree })).resolves.toMatchObject({ removed: 'env' });
  });
});
