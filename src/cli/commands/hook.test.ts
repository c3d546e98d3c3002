import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readPayload } from './hook.ts';

describe('readPayload', () => {
  it('reads a large payload in small chunks in linear time (a field of 16 MB is not a minute of re-parsing)', async () => {
    const text = JSON.stringify({ worktree_name: 'x', cwd: '/repo', transcript: 'y'.repeat(16 * 1024 * 1024) });
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 16 * 1024) chunks.push(text.slice(i, i + 16 * 1024));
    const started = performance.now();
    const read = await readPayload(Readable.from(chunks), new AbortController().signal);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(read).toBe(text);
  });

  it('stops at the end of the first JSON document when the writer keeps the pipe open', async () => {
    const stream = new Readable({ read() {} });
    stream.push('{"worktree_name": "x",');
    stream.push(' "cwd": "/r"}\n');
    expect(await readPayload(stream, new AbortController().signal)).toBe('{"worktree_name": "x", "cwd": "/r"}\n');
  });
});
