import { glob, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Which package manager a checkout uses, read from its files only (no package manager is run):
 * the `packageManager` field of package.json (Corepack's), else the lockfile.
 */
export type ManagerName = 'pnpm' | 'npm' | 'yarn' | 'bun';

export interface PackageManager {
  name: ManagerName;
  /** yarn only: 1.x (`classic`) or 2+ (`berry`), which take different install flags. */
  flavor?: 'classic' | 'berry';
  /** The lockfile install reads, repository-relative; undefined when there is none. */
  lockfile?: string;
  /** Where the answer came from, for progress lines. */
  source: 'packageManager' | 'lockfile' | 'default';
  /** The version packageManager names, if it does. */
  version?: string;
  warnings: string[];
}

/** Lockfiles in the order they are preferred when several are present and package.json does not say. */
const LOCKFILES: ReadonlyArray<[string, ManagerName]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['yarn.lock', 'yarn'],
  ['npm-shrinkwrap.json', 'npm'],
  ['package-lock.json', 'npm'],
];

export async function readPackageJson(dir: string): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const data = JSON.parse(text);
    return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The package manager of the checkout at `dir`, or undefined when it has no package.json. */
export async function detectPackageManager(dir: string): Promise<PackageManager | undefined> {
  const pkg = await readPackageJson(dir);
  if (pkg === undefined) return undefined;
  const present: Array<[string, ManagerName]> = [];
  for (const entry of LOCKFILES) if (await isFile(join(dir, entry[0]))) present.push(entry);
  const warnings: string[] = [];

  const declared = parsePackageManagerField(pkg.packageManager);
  let name: ManagerName;
  let source: PackageManager['source'];
  if (declared) {
    name = declared.name;
    source = 'packageManager';
  } else if (present[0]) {
    name = present[0][1];
    source = 'lockfile';
    const others = [...new Set(present.map(([, m]) => m))];
    if (others.length > 1) {
      warnings.push(
        `Lockfiles of several package managers (${present.map(([f]) => f).join(', ')}); using ${name}. Set "packageManager" in package.json to choose.`,
      );
    }
  } else {
    name = 'npm';
    source = 'default';
  }
  // npm reads npm-shrinkwrap.json before package-lock.json; bun reads bun.lock before bun.lockb.
  const lockfile = present.find(([, m]) => m === name)?.[0];
  if (declared && present.length > 0 && !lockfile) {
    warnings.push(`package.json names ${name} but the lockfile is ${present.map(([f]) => f).join(', ')}.`);
  }
  const result: PackageManager = { name, source, warnings, ...(lockfile ? { lockfile } : {}) };
  if (declared?.version) result.version = declared.version;
  if (name === 'yarn') result.flavor = await yarnFlavor(dir, declared?.version, lockfile);
  return result;
}

/** `pnpm@10.4.1+sha512.…` → { name, version }; anything else → undefined. */
export function parsePackageManagerField(value: unknown): { name: ManagerName; version?: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(pnpm|npm|yarn|bun)(?:@([^+\s]+))?/.exec(value.trim());
  if (!match) return undefined;
  return { name: match[1] as ManagerName, ...(match[2] ? { version: match[2] } : {}) };
}

async function yarnFlavor(dir: string, version: string | undefined, lockfile: string | undefined): Promise<'classic' | 'berry'> {
  if (version) return /^1\./.test(version) ? 'classic' : 'berry';
  if (lockfile) {
    const head = (await readFile(join(dir, lockfile), 'utf8').catch(() => '')).slice(0, 2048);
    if (/^__metadata:/m.test(head)) return 'berry';
    if (/yarn lockfile v1/.test(head)) return 'classic';
  }
  return (await isFile(join(dir, '.yarnrc.yml'))) ? 'berry' : 'classic';
}

/**
 * The workspace packages of an npm/yarn/bun checkout: the directories (repository-relative, `.` first)
 * that match package.json's `workspaces` (an array, or `{ packages: [...] }`) and hold a package.json.
 */
export async function workspaceDirs(dir: string): Promise<string[]> {
  const pkg = await readPackageJson(dir);
  const field = pkg?.workspaces;
  const pnpm = await pnpmWorkspacePatterns(dir);
  const patterns = pnpm
    ? pnpm
    : Array.isArray(field)
      ? field
      : Array.isArray((field as { packages?: unknown })?.packages)
        ? (field as { packages: unknown[] }).packages
        : [];
  const include = patterns.filter((p): p is string => typeof p === 'string' && !p.startsWith('!'));
  const exclude = patterns.filter((p): p is string => typeof p === 'string' && p.startsWith('!')).map((p) => p.slice(1));
  const found = new Set<string>();
  for (const pattern of include) {
    const clean = pattern.replace(/\/+$/, '');
    for await (const file of glob(`${clean}/package.json`, { cwd: dir, exclude: (path) => path.split(sep).includes('node_modules') })) {
      const rel = relative(dir, join(dir, file, '..'))
        .split(sep)
        .join('/');
      if (rel && !rel.startsWith('..') && !rel.split('/').includes('node_modules')) found.add(rel);
    }
  }
  const excluded = new Set<string>();
  for (const pattern of exclude) {
    for await (const file of glob(pattern.replace(/\/+$/, ''), { cwd: dir })) excluded.add(file.split(sep).join('/'));
  }
  return ['.', ...[...found].filter((d) => !excluded.has(d)).sort()];
}

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** `packages:` of pnpm-workspace.yaml (pnpm's own list of workspace packages), when there is one. */
async function pnpmWorkspacePatterns(dir: string): Promise<unknown[] | undefined> {
  const text = await readFile(join(dir, 'pnpm-workspace.yaml'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const { parse } = await import('../formats/yaml.ts');
  try {
    const doc = parse(text) as { packages?: unknown } | null;
    return Array.isArray(doc?.packages) ? doc.packages : [];
  } catch {
    return [];
  }
}
