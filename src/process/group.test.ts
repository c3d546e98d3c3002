import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../testing/temp-dir.ts';
import { groupMembers, isAlive, killGroup, logTail, processIdentity, runLogged, sleep, startDetached } from './group.ts';

const dir = useTempDir('group');

/** Waits until `count` processes run in the group, or fails. */
async function members(leader: number, count: number): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const found = await groupMembers(leader);
    if (found.length >= count) return found;
    await sleep(50);
  }
  throw new Error(`the group of ${leader} never had ${count} processes`);
}

describe('killGroup', () => {
  it('leaves nothing alive: a child and a grandchild that ignore SIGHUP and SIGTERM, one in a group of its own', async () => {
    // A shell that ignores HUP and TERM, a grandchild that does too, and one that moved to its own process group.
    const script = [
      'trap "" HUP TERM',
      '(trap "" HUP TERM; exec sleep 600) &',
      `perl -e '$SIG{TERM} = $SIG{HUP} = "IGNORE"; setpgrp(0, 0); sleep 600' &`,
      'wait',
    ].join('\n');
    const leader = await startDetached('sh', ['-c', script], { cwd: dir(), env: process.env, logFile: join(dir(), 'log') });
    const pids = await members(leader, 3);
    const identity = await processIdentity(leader);
    expect(identity).not.toBe('');

    const started = Date.now();
    expect(await killGroup(leader, { graceMs: 300, identity })).toBe('killed');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await groupMembers(leader)).toEqual([]);
    for (const pid of pids) expect(await isAlive(pid)).toBe(false);
  });

  it('is done at SIGTERM for a group that exits on it, and says "gone" for a group that is gone', async () => {
    const leader = await startDetached('sh', ['-c', 'sleep 600 & wait'], { cwd: dir(), env: process.env, logFile: join(dir(), 'log') });
    await members(leader, 2);
    expect(await killGroup(leader, { graceMs: 5_000 })).toBe('terminated');
    expect(await killGroup(leader)).toBe('gone');
  });

  it('never signals a process that merely reuses a recorded pid', async () => {
    const leader = await startDetached('sleep', ['600'], { cwd: dir(), env: process.env, logFile: join(dir(), 'log') });
    // The same pid with another identity (start time): not ours, left alone.
    expect(await killGroup(leader, { graceMs: 100, identity: 'another-start-time' })).toBe('gone');
    expect(await isAlive(leader)).toBe(true);
    await killGroup(leader, { graceMs: 100, identity: await processIdentity(leader) });
    expect(await isAlive(leader)).toBe(false);
  });
});

describe('runLogged', () => {
  it('appends output to a 0600 log and returns its tail and exit code', async () => {
    const log = join(dir(), 'steps.log');
    const ok = await runLogged('sh', ['-c', 'echo first; echo second >&2'], { cwd: dir(), env: process.env, logFile: log });
    expect(ok).toMatchObject({ exitCode: 0, cancelled: false, tail: 'first\nsecond' });
    const failed = await runLogged('sh', ['-c', 'echo third; exit 4'], { cwd: dir(), env: process.env, logFile: log });
    expect(failed).toMatchObject({ exitCode: 4, tail: 'third' });
    expect(await readFile(log, 'utf8')).toBe('first\nsecond\nthird\n');
    expect((await stat(log)).mode & 0o777).toBe(0o600);
  });

  it('says when the program does not exist', async () => {
    const result = await runLogged('envs-no-such-program', [], { cwd: dir(), env: process.env, logFile: join(dir(), 'log') });
    expect(result.exitCode).toBeUndefined();
    expect(result.spawnError?.code).toBe('ENOENT');
  });

  it('on abort stops the whole group, grandchildren included', async () => {
    const controller = new AbortController();
    const pidFile = join(dir(), 'grandchild');
    const running = runLogged('sh', ['-c', `(trap "" TERM HUP; sleep 600) & echo $! > ${pidFile}; wait`], {
      cwd: dir(),
      env: process.env,
      logFile: join(dir(), 'log'),
      signal: controller.signal,
      graceMs: 200,
    });
    let grandchild = 0;
    for (let i = 0; i < 100 && !grandchild; i++) {
      await sleep(50);
      grandchild = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
    }
    expect(grandchild).toBeGreaterThan(0);
    controller.abort();
    const result = await running;
    expect(result.cancelled).toBe(true);
    expect(await isAlive(grandchild)).toBe(false);
  });
});

describe('logTail', () => {
  it('gives the last non-empty lines written after an offset, without carriage returns', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = join(dir(), 'tail.log');
    await writeFile(file, 'old\r\n\r\none\r\ntwo\n\nthree\n');
    expect(await logTail(file, 4, 2)).toBe('two\nthree');
    expect(await logTail(join(dir(), 'missing'))).toBe('');
  });
});
