import { describe, expect, it } from 'vitest';
import { parseCreatePayload, parseRemovePayload } from './hooks.ts';

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
