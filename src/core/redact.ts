/** Names whose values are secrets. */
const SECRET_NAME = /pass(word|wd)?|secret|token|api[_-]?key|private|credential|(^|_)key$|^pg_?password$/i;
const MASK = '***';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `postgres://u:pw@h/db` → `postgres://u:***@h/db`. */
export function redactUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]+):([^@/?#\s]+)@/i, `$1:${MASK}@`);
}

export function redactValue(name: string, value: string): string {
  return isSecretName(name) ? MASK : redactUrlPassword(value);
}

export function redactEnv(env: Record<string, string | null | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : redactValue(k, v)]));
}

/** Replaces every occurrence of the given secret values in a text (error messages, command output). */
export function scrub(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(MASK);
  return out;
}
