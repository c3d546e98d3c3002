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
  if (/[\u0000-\u001f\u007f]/.test(branch)) bad('it contains control characters');
  if (Buffer.byteLength(branch) > 240) bad('it is longer than 240 bytes');
}

/** A branch name made safe to echo in a message (control characters escaped). */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Environment-variable form of a service name: `api-gateway` → `API_GATEWAY`. */
export function envVarName(text: string): string {
  const name = text
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[0-9]/.test(name) ? `_${name}` : name || '_';
}
