import { EnvsError } from '../errors.ts';

/** `envs env --format`: how an env's variables are printed for other programs to read. */
export const ENV_FORMATS = ['dotenv', 'shell', 'json'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isVariableName(name: string): boolean {
  return NAME.test(name);
}

/** A POSIX shell word that is exactly `value`: single quotes, each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.split("'").join(`'\\''`)}'`;
}

/**
 * A dotenv value that `dotenv.parse` reads back exactly, with no `$` expansion by Compose or dotenv-expand:
 * single quotes (literal, newlines allowed) when the value has no `'` and no carriage return; else double
 * quotes, where dotenv turns `\n`/`\r` back into line breaks (only for values without `"` and `\`); else
 * backticks (literal). A value with all of them cannot be written; that is an error, never a silent change.
 */
export function dotenvQuote(name: string, value: string): string {
  if (!value.includes("'") && !value.includes('\r')) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  if (!value.includes('`') && !value.includes('\r')) return `\`${value}\``;
  throw new EnvsError('USAGE', `${name}'s value cannot be written in dotenv syntax (it holds ', ", \` and \\ or line breaks).`, {
    hint: 'Use --format shell or --format json for this env.',
  });
}

/**
 * The variables in one format: `dotenv` (KEY='value' lines, for `.env` files and dotenv/Compose),
 * `shell` (`export KEY='value'` lines, for `eval "$(envs env x --format shell)"`), or `json` (an object).
 * Names that are not variable names are left out of dotenv and shell (they could not be set) and listed.
 */
export function formatEnv(env: Record<string, string>, format: EnvFormat): { text: string; skipped: string[] } {
  if (format === 'json') return { text: `${JSON.stringify(env, null, 2)}\n`, skipped: [] };
  const skipped = Object.keys(env).filter((name) => !isVariableName(name));
  const lines = Object.entries(env)
    .filter(([name]) => isVariableName(name))
    .map(([name, value]) => (format === 'shell' ? `export ${name}=${shellQuote(value)}` : `${name}=${dotenvQuote(name, value)}`));
  return { text: lines.length > 0 ? `${lines.join('\n')}\n` : '', skipped };
}
