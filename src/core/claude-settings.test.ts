import { describe, expect, it } from 'vitest';
import { addEnvsHooks, unifiedDiff } from './claude-settings.ts';

const FILE = '.claude/settings.json';

describe('addEnvsHooks', () => {
  it('writes both hooks into an empty file, in the format Claude Code reads', () => {
    const edit = addEnvsHooks('', 'envs', FILE);
    expect(edit.added).toEqual(['WorktreeCreate', 'WorktreeRemove']);
    expect(JSON.parse(edit.text)).toEqual({
      hooks: {
        WorktreeCreate: [{ hooks: [{ type: 'command', command: 'envs hook worktree-create' }] }],
        WorktreeRemove: [{ hooks: [{ type: 'command', command: 'envs hook worktree-remove' }] }],
      },
    });
  });

  it('keeps comments, other settings and other hooks; adds ours beside another WorktreeRemove hook', () => {
    const text = `{
    // team settings
    "permissions": { "allow": ["Bash(npm test)"] },
    "hooks": {
        "PreToolUse": [{ "matcher": "Bash", "hooks": [{ "type": "command", "command": "./check.sh" }] }],
        "WorktreeRemove": [{ "hooks": [{ "type": "command", "command": "./cleanup.sh" }] }]
    }
}
`;
    const edit = addEnvsHooks(text, 'envs', FILE);
    expect(edit.text).toContain('// team settings');
    expect(edit.text).toContain('        "PreToolUse"'); // its 4-space indentation kept
    expect(edit.text).toContain('./cleanup.sh');
    const { parse } = JSON;
    const data = parse(edit.text.replace('// team settings\n', ''));
    expect(data.permissions).toEqual({ allow: ['Bash(npm test)'] });
    expect(data.hooks.PreToolUse).toHaveLength(1);
    expect(data.hooks.WorktreeRemove.map((g: any) => g.hooks[0].command)).toEqual(['./cleanup.sh', 'envs hook worktree-remove']);
    expect(data.hooks.WorktreeCreate[0].hooks[0].command).toBe('envs hook worktree-create');
  });

  it('is a no-op the second time, whatever path the first run wrote', () => {
    const once = addEnvsHooks('{}', "'/opt/node/bin/node' '/opt/envs/dist/bin/main.js'", FILE);
    const twice = addEnvsHooks(once.text, 'envs', FILE);
    expect(twice).toEqual({ text: once.text, changed: false, added: [] });
  });

  it('refuses a file with another WorktreeCreate hook, and a file it cannot parse', () => {
    const other = '{"hooks":{"WorktreeCreate":[{"hooks":[{"type":"command","command":"./mk-worktree.sh"}]}]}}';
    expect(() => addEnvsHooks(other, 'envs', FILE)).toThrow(expect.objectContaining({ code: 'CLAUDE_HOOK_CONFLICT' }));
    expect(() => addEnvsHooks('{"hooks": ', 'envs', FILE)).toThrow(expect.objectContaining({ code: 'CLAUDE_SETTINGS_INVALID' }));
    expect(() => addEnvsHooks('{"hooks": []}', 'envs', FILE)).toThrow(expect.objectContaining({ code: 'CLAUDE_SETTINGS_INVALID' }));
  });
});

describe('unifiedDiff', () => {
  it('shows added lines with context and line numbers', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const after = 'a\nb\nc\nd\ne\nX\nf\ng\nh\n';
    expect(unifiedDiff(before, after, 'f.json')).toBe(
      ['--- a/f.json', '+++ b/f.json', '@@ -3,6 +3,7 @@', ' c', ' d', ' e', '+X', ' f', ' g', ' h', ''].join('\n'),
    );
    expect(unifiedDiff(before, before, 'f.json')).toBe('');
    expect(unifiedDiff('', 'x\n', 'f.json')).toBe(['--- /dev/null', '+++ b/f.json', '@@ -0,0 +1,1 @@', '+x', ''].join('\n'));
  });
});

describe('unifiedDiff of a CRLF file', () => {
  it('shows lines, not their carriage returns', () => {
    const diff = unifiedDiff('{\r\n  "a": 1\r\n}\r\n', '{\r\n  "a": 1,\r\n  "b": 2\r\n}\r\n', FILE);
    expect(diff).not.toContain('\r');
    expect(diff.split('\n')).toEqual(expect.arrayContaining(['-  "a": 1', '+  "a": 1,', '+  "b": 2', ' {', ' }']));
  });
});
