/**
 * Idle envs (pure): nothing happened to them for N days — no commit on the branch, no container started, no
 * envs command that changed them (create, up, down: the record's last write). `list` flags them so a user
 * sees what is only costing memory and disk; nothing is removed for being idle.
 */
export const DEFAULT_IDLE_DAYS = 7;

const DAY_MS = 86_400_000;

/** The latest of the known times (ms since the epoch); undefined when none is known. */
export function lastActivity(times: (number | undefined)[]): number | undefined {
  const known = times.filter((t): t is number => t !== undefined && Number.isFinite(t) && t > 0);
  return known.length > 0 ? Math.max(...known) : undefined;
}

/** Idle when the last activity is at least `days` old (an env with no known activity is not called idle). */
export function isIdle(last: number | undefined, now: number, days: number): boolean {
  return last !== undefined && now - last >= days * DAY_MS;
}
