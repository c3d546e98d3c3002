import { createHash } from 'node:crypto';
import { EnvsError } from '../errors.ts';

/** Longest readable part of a slug, before `-<hash>`. */
const SLUG_TEXT_MAX = 32;
const REPO_TEXT_MAX = 16;

export function shortHash(text: string, length = 6): string {
  return createHash('sha1').update(text).digest('hex').slice(0, length);
}

/** Lowercase `[a-z0-9-]`, runs of anything else collapsed to one `-`, no leading/trailing `-`, bounded. */
export function sanitize(text: string, max: number): string {
  const cleaned = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return cleaned.slice(0, max).replace(/-+$/, '');
}

/**
 * The env name of a branch: readable part + a hash of the full branch name, so that
 * `feat/a-b` and `feat-a/b` (both `feat-a-b`) differ. Only `[a-z0-9-]`, at most 39 characters,
 * valid as a DNS label, a Compose project part and a directory name.
 */
export function slugForBranch(branch: string): string {
  const text = sanitize(branch, SLUG_TEXT_MAX) || 'env';
  return `${text}-${shortHash(branch)}`;
}

/** Identity of a repository on this machine: its directory name + a hash of its git common dir. */
export function repoIdFor(mainCheckoutName: string, gitCommonDir: string): string {
  const text = sanitize(mainCheckoutName, REPO_TEXT_MAX) || 'repo';
  return `${text}-${shortHash(gitCommonDir, 4)}`;
}

export interface EnvNames {
  /** The env name (slug): `feat-login-3f9a2c`. */
  name: string;
  /** The Compose project, unique on the machine: `envs-<repoId>-<name>`. */
  project: string;
  /** The DNS label for preview URLs: `<name>.localhost`. */
  host: string;
}

export function namesFor(repoId: string, branch: string): EnvNames {
  const name = slugForBranch(branch);
  return { name, project: `envs-${repoId}-${name}`, host: name };
}

/**
 * The checks that need no git: a leading `-` (would read as an option), control characters, `HEAD`,
 * and lengths no filesystem takes. `git check-ref-format --branch` does the rest.
 */
export function checkBranchShape(branch: string): void {
  const bad = (why: string): never => {
    throw new EnvsError('INVALID_BRANCH', `"${printable(branch)}" is not a valid branch name: ${why}.`, {
      hint: 'Use a git branch name such as feat/login (see `git check-ref-format --help`).',
    });
  };
  if (branch.length === 0) bad('it is empty');
  if (branch.startsWith('-')) bad('it starts with "-"');
  if (branch === 'HEAD' || branch === '@') bad(`"${branch}" names the current commit, not a branch`);
  // git would take it as a branch literally named so (refs/heads/refs/heads/…): always a slip.
  if (branch.startsWith('refs/')) bad(`it is a full ref name; the branch of refs/heads/feat/x is feat/x`);
  if (/[\u0000-\u001f\u007f]/.test(branch)) bad('it contains control characters');
  if (Buffer.byteLength(branch) > 240) bad('it is longer than 240 bytes');
}

/**
 * Characters that change what a terminal shows rather than show themselves: C0 and C1 controls (newline,
 * carriage return, escape sequences), bidirectional overrides and isolates (U+202E "Trojan Source"),
 * zero-width and other invisible characters, line and paragraph separators.
 */
const INVISIBLE = '\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb';
const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f${INVISIBLE}]`, 'g');
/** The same, but newline (\x0a) and tab (\x09) pass. */
const UNPRINTABLE_BUT_LINES = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f${INVISIBLE}]`, 'g');

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A name (branch, file, service, path) made safe to echo on one line: everything that could start a new
 * line, colour or move the cursor, reorder text or hide characters is shown as an escape (`\x0a`, `\u202e`).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/** Like `printable`, for a text whose own lines are meant (an error message): newline and tab stay. */
export function printableLines(text: string): string {
  return text.replace(UNPRINTABLE_BUT_LINES, escapeChar);
}

const INVISIBLE_IN_JSON = new RegExp(`[${INVISIBLE}]`, 'g');

/**
 * JSON text (from `JSON.stringify`, which escapes C0 controls but not the rest) with the other invisible
 * characters written as `\uXXXX` escapes: lossless, since they can only occur inside strings.
 */
export function printableJson(json: string): string {
  return json.replace(INVISIBLE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Environment-variable form of a service name: `api-gateway` → `API_GATEWAY`. */
export function envVarName(text: string): string {
  const name = text
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[0-9]/.test(name) ? `_${name}` : name || '_';
}
