import { parse } from 'dotenv';

/**
 * Reading and writing env files: parsing is the `dotenv` package's; this module only decides how a value
 * is quoted and where envs's managed block sits.
 */

/** Variables of an env-file text, as dotenv reads them (the last of duplicate keys wins). */
export function parseEnv(text: string): Record<string, string> {
  return parse(text);
}

/**
 * A value written so that dotenv and Docker Compose (compose-go's env-file parser) both read it back
 * unchanged, with no `$` expansion:
 * - single quotes: literal in both — no escapes, no interpolation, newlines allowed. The one spelling the
 *   two disagree on is `\'` (Compose unescapes it, dotenv keeps the backslash), so the value must hold no
 *   `'` and must not end in `\` (which would glue onto the closing quote);
 * - otherwise double quotes, which both read literally only when there is no `$` (Compose interpolates),
 *   no `\` (both unescape, differently), no `"` and no line break;
 * - otherwise undefined: there is no spelling both read the same (e.g. `it's $5`).
 * Next.js runs dotenv-expand over values in any quotes; the values we write come from the user's own
 * files, so Next expands them as it did in the main checkout.
 */
export function quoteEnvValue(value: string): string | undefined {
  if (value.includes('\r')) return undefined;
  if (!value.includes("'") && !value.endsWith('\\')) return `'${value}'`;
  if (!/[$\\"\n]/.test(value)) return `"${value}"`;
  return undefined;
}

export const BLOCK_START = '# >>> envs managed';
export const BLOCK_END = '# <<< envs managed';

export interface SplitBlock {
  /** The file without envs's block: the user's lines, untouched. */
  user: string;
  /** The variables inside the block, when there is one. */
  block?: Record<string, string>;
  /** A start marker without its end: the file is left alone. */
  problem?: string;
}

/** Separates envs's managed block from the user's lines. */
export function splitManagedBlock(text: string): SplitBlock {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(BLOCK_START));
  if (start === -1) return { user: text };
  const length = lines.slice(start + 1).findIndex((line) => line.startsWith(BLOCK_END));
  if (length === -1) return { user: text, problem: `it has a "${BLOCK_START}" line without its "${BLOCK_END}" line` };
  const end = start + 1 + length;
  const block = parseEnv(lines.slice(start + 1, end).join('\n'));
  // The blank line we put before the block goes with it.
  const before = start > 0 && lines[start - 1] === '' ? start - 1 : start;
  const rest = [...lines.slice(0, before), ...lines.slice(end + 1)];
  const again = splitManagedBlock(rest.join('\n'));
  return { ...again, block: { ...block, ...again.block } };
}

/**
 * The file with a managed block holding `vars` at its end (replacing a previous one), the user's lines
 * unchanged before it. At the end, its values win over the user's same keys: every dotenv reader
 * (dotenv, Compose, godotenv, python-dotenv) takes the last of duplicate keys. No vars: no block.
 * Values no quoting can carry for both dotenv and Compose are returned in `unwritable`, not written.
 */
export function withManagedBlock(
  userText: string,
  vars: Readonly<Record<string, string>>,
  label: string,
): { text: string; unwritable: string[] } {
  const unwritable: string[] = [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(vars)) {
    const quoted = quoteEnvValue(value);
    if (quoted === undefined) unwritable.push(key);
    else lines.push(`${key}=${quoted}`);
  }
  if (lines.length === 0) return { text: userText, unwritable };
  const head = userText === '' || userText.endsWith('\n') ? userText : `${userText}\n`;
  const block = [
    `${BLOCK_START} (${label}): this env's own ports; envs rewrites this block, edit above it >>>`,
    ...lines,
    `${BLOCK_END} <<<`,
  ].join('\n');
  return { text: `${head}${head === '' ? '' : '\n'}${block}\n`, unwritable };
}
