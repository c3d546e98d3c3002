import { open } from 'node:fs/promises';
import { sleep } from '../process/group.ts';

export interface ShowLogOptions {
  /** Lines are written through this (already split, each ending in a newline). */
  write: (text: string) => void;
  /** Put before every line (e.g. `web | `), when several logs are shown together. */
  prefix?: string;
  /** Only the last N lines of what is there now. */
  tail?: number;
  /** Keep reading what is appended until the signal aborts (a restart's new log is picked up). */
  follow?: boolean;
  signal?: AbortSignal;
  /** How often a followed file is checked. */
  pollMs?: number;
}

/**
 * Prints a log file of a host process (`envs logs`), then with `follow` what is appended to it, like
 * `tail -F`: a log that shrank (rotated at a restart) is read again from its start. Carriage returns from
 * tmux's terminal output are dropped so lines print cleanly.
 */
export async function showLog(file: string, options: ShowLogOptions): Promise<void> {
  let position = 0;
  let partial = '';
  const emit = (text: string) => {
    const lines = (partial + text).replace(/\r/g, '').split('\n');
    partial = lines.pop() ?? '';
    if (lines.length > 0) options.write(lines.map((line) => `${options.prefix ?? ''}${line}\n`).join(''));
  };
  const flush = () => {
    if (partial) emit('\n');
  };

  const readFrom = async (from: number): Promise<{ text: string; size: number } | undefined> => {
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) return undefined;
    try {
      const size = (await handle.stat()).size;
      const start = size < from ? 0 : from;
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return { text: buffer.toString('utf8'), size };
    } finally {
      await handle.close();
    }
  };

  const first = await readFrom(0);
  if (first) {
    let text = first.text;
    if (options.tail !== undefined) {
      const complete = text.endsWith('\n');
      const lines = text.replace(/\r/g, '').split('\n');
      if (complete) lines.pop();
      const kept = lines.slice(Math.max(0, lines.length - options.tail));
      text = kept.join('\n') + (complete && kept.length > 0 ? '\n' : '');
    }
    emit(text);
    position = first.size;
  }
  if (!options.follow) return flush();
  while (!options.signal?.aborted) {
    await sleep(options.pollMs ?? 200);
    const next = await readFrom(position);
    if (!next) continue;
    if (next.size < position) partial = '';
    if (next.text) emit(next.text);
    position = next.size;
  }
  flush();
}
