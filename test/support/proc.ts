import { readFileSync } from 'node:fs';

/**
 * Whether a process runs. A zombie (killed, not reaped yet — in a container nothing may reap a detached
 * child) counts as gone, which `process.kill(pid, 0)` would not say.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
