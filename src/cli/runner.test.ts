import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import { BUG_EXIT, runAction } from './runner.ts';

function capture() {
  const out = { stdout: '', stderr: '' };
  const sink = {
    stdout: (text: string) => {
      out.stdout += text;
    },
    stderr: (text: string) => {
      out.stderr += text;
    },
  };
  return { out, sink };
}

describe('runAction --json', () => {
  it('prints exactly one document when the command fails after its result', async () => {
    const { out, sink } = capture();
    const code = await runAction({ cwd: '/', env: {}, out: sink }, { json: true }, async (ctx) => {
      ctx.progress({ step: 'x', message: 'working' });
      ctx.result({ ok: true }, () => 'human');
      throw new EnvsError('COMPOSE_FAILED', 'late failure');
    });
    expect(code).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({ ok: true });
    expect(out.stderr).toMatch(/^error: late failure/);
  });

  it('prints the error as the one document when nothing was printed, progress never on stdout', async () => {
    const { out, sink } = capture();
    const code = await runAction({ cwd: '/', env: {}, out: sink }, { json: true }, async (ctx) => {
      ctx.progress({ step: 'x', message: 'working' });
      throw new Error('a bug');
    });
    expect(code).toBe(BUG_EXIT);
    expect(JSON.parse(out.stdout)).toMatchObject({ error: { code: 'INTERNAL', message: 'a bug' } });
    expect(out.stderr).toBe('');
  });

  it('escapes progress messages in human mode', async () => {
    const { out, sink } = capture();
    await runAction({ cwd: '/', env: {}, out: sink }, {}, async (ctx) => {
      ctx.progress({ step: 'worktree', message: 'git worktree add /wt/x\nerror: forged\x1b[31m' });
    });
    expect(out.stderr).toBe('› git worktree add /wt/x\\x0aerror: forged\\x1b[31m\n');
  });
});

describe('runAction --events ndjson', () => {
  it('Ctrl-C ends the phase under way with failed CANCELLED, then the error line, and exits 130', async () => {
    const { out, sink } = capture();
    let exited: number | undefined;
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    void runAction(
      {
        cwd: '/',
        env: {},
        out: sink,
        exit: ((code: number) => {
          exited = code;
        }) as (code: number) => never,
      },
      { events: 'ndjson', command: 'create' },
      async (ctx) => {
        ctx.onEvent?.({ event: 'phase', command: 'create', env: 'e', name: 'worktree', status: 'start', ms: 0 });
        ctx.onEvent?.({ event: 'phase', command: 'create', env: 'e', name: 'worktree', status: 'done', ms: 3 });
        ctx.onEvent?.({ event: 'phase', command: 'create', env: 'e', name: 'compose-up', status: 'start', ms: 0 });
        started();
        await new Promise(() => {}); // compose up, interrupted
      },
    );
    await running;
    process.emit('SIGINT', 'SIGINT');
    expect(exited).toBe(130);
    const events = out.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.slice(-2)).toEqual([
      { event: 'phase', command: 'create', env: 'e', name: 'compose-up', status: 'failed', ms: expect.any(Number), code: 'CANCELLED' },
      expect.objectContaining({ event: 'error', code: 'CANCELLED' }),
    ]);
  });
});
