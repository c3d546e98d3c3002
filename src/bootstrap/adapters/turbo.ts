import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { EnvsError } from '../../errors.ts';

/**
 * Turborepo (`turbo.json` at the repository root). Two things break per-env runs:
 * - strict env mode (the default since 2.0) hands a task only the variables turbo.json declares, so
 *   PORT, DATABASE_URL and the SUPABASE_* ports envs injects never reach `next dev` run through turbo;
 * - since 2.8 linked worktrees share the main worktree's `.turbo/cache`, so a cache hit can replay another
 *   checkout's outputs with its absolute paths in them. An explicit relative cache directory isolates it.
 */

export interface TurboConfig {
  path: string;
  /** From turbo.json's `envMode`, else turbo's default for its major version (strict from 2.0). */
  envMode: 'strict' | 'loose';
  /** The `turbo` version range in the root package.json, when known. */
  version?: string;
  cacheDir?: string;
  globalEnv: string[];
  globalPassThroughEnv: string[];
  /** Per task: the variables it declares (`env` and `passThroughEnv`). */
  tasks: Record<string, string[]>;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Reads turbo.json (JSON with comments, as turbo accepts it). */
export function parseTurboConfig(text: string, path: string, rootPackageJson?: string): TurboConfig {
  const errors: ParseError[] = [];
  const data = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false }) as Record<string, unknown> | undefined;
  if (errors.length > 0 || typeof data !== 'object' || data === null) {
    const first = errors[0];
    throw new EnvsError(
      'CONFIG_INVALID',
      `${path} is not valid JSON${first ? `: ${printParseErrorCode(first.error)} at offset ${first.offset}` : ''}.`,
      {
        hint: `Fix ${path} (turbo reports the same), commit it on the branch, and run the command again.`,
      },
    );
  }
  let version: string | undefined;
  try {
    const pkg = rootPackageJson ? (JSON.parse(rootPackageJson) as Record<string, Record<string, unknown> | undefined>) : {};
    const range = pkg.devDependencies?.turbo ?? pkg.dependencies?.turbo;
    if (typeof range === 'string') version = range;
  } catch {
    // An unreadable package.json only costs us the version.
  }
  const major = version ? Number(/(\d+)/.exec(version)?.[1]) : undefined;
  const envMode =
    data.envMode === 'loose' || data.envMode === 'strict' ? data.envMode : major !== undefined && major < 2 ? 'loose' : 'strict';
  // turbo 2 names them `tasks`, turbo 1 `pipeline`.
  const taskTable = (data.tasks ?? data.pipeline ?? {}) as Record<string, Record<string, unknown>>;
  const tasks = Object.fromEntries(
    Object.entries(taskTable).map(([name, task]) => [name, [...strings(task?.env), ...strings(task?.passThroughEnv)]]),
  );
  return {
    path,
    envMode,
    ...(version ? { version } : {}),
    ...(typeof data.cacheDir === 'string' ? { cacheDir: data.cacheDir } : {}),
    globalEnv: strings(data.globalEnv),
    globalPassThroughEnv: strings(data.globalPassThroughEnv),
    tasks,
  };
}

/** turbo's wildcard syntax: `*` any run, a leading `!` excludes. */
function matches(patterns: readonly string[], name: string): boolean {
  const test = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name);
  const included = patterns.some((p) => !p.startsWith('!') && test(p));
  const excluded = patterns.some((p) => p.startsWith('!') && test(p.slice(1)));
  return included && !excluded;
}

/** Prefixes turbo passes through by framework inference (Next.js here; an approximation for other frameworks). */
const INFERRED = ['NEXT_PUBLIC_*'];

export interface TurboEnvReport {
  /** Variables envs injects that a task run through turbo would not see. */
  dropped: string[];
  /** Why, and the two fixes, in words. */
  advice?: string;
  /** The turbo.json change that lets them through (merged into `globalPassThroughEnv`). */
  passThroughSnippet?: { globalPassThroughEnv: string[] };
}

/** Which of the env's variables strict mode would drop from `task` (default `dev`). */
export function turboEnvReport(config: TurboConfig, injected: readonly string[], task = 'dev'): TurboEnvReport {
  if (config.envMode === 'loose') return { dropped: [] };
  const declared = [
    ...config.globalEnv,
    ...config.globalPassThroughEnv,
    ...(config.tasks[task] ?? []),
    ...Object.entries(config.tasks)
      .filter(([name]) => name.endsWith(`#${task}`))
      .flatMap(([, vars]) => vars),
    ...INFERRED,
  ];
  const dropped = [...new Set(injected)].filter((name) => !matches(declared, name)).sort();
  if (dropped.length === 0) return { dropped };
  return {
    dropped,
    advice:
      `${config.path} runs tasks in strict env mode, so \`turbo ${task}\` would hide ${dropped.join(', ')} from the task. ` +
      'envs adds --env-mode=loose where it runs turbo itself; for `turbo` run by hand, list them in globalPassThroughEnv ' +
      '(pass-through variables do not change cache keys).',
    passThroughSnippet: { globalPassThroughEnv: [...new Set([...config.globalPassThroughEnv, ...dropped])] },
  };
}

/** The per-worktree cache directory, relative so it resolves inside each worktree. */
export const TURBO_CACHE_DIR = '.turbo/cache';

/**
 * Variables for everything that runs in the env: a relative cache dir unless turbo.json sets one that is
 * relative already (an absolute one is shared by every checkout: reported, and overridden).
 */
export function turboVariables(config: TurboConfig): { env: Record<string, string>; warnings: string[] } {
  if (config.cacheDir && !config.cacheDir.startsWith('/')) return { env: {}, warnings: [] };
  const warnings = config.cacheDir
    ? [
        `${config.path} sets an absolute cacheDir (${config.cacheDir}) every checkout shares; envs gives this env ${TURBO_CACHE_DIR} instead.`,
      ]
    : [];
  return { env: { TURBO_CACHE_DIR }, warnings };
}

const RUNNERS = new Set(['npx', 'pnpx', 'bunx', 'pnpm', 'yarn', 'bun', 'npm']);

/**
 * The argv envs runs for a turbo command: `--env-mode=loose` (so the env's variables reach the tasks) and
 * `--cache-dir=.turbo/cache` added before any `--` pass-through, unless already given. Other argvs unchanged.
 */
export function turboArgv(argv: readonly string[], config: Pick<TurboConfig, 'envMode' | 'cacheDir'>): string[] {
  const at = argv.findIndex((word) => /^turbo(@[^/\s]*)?$/.test(word.split('/').pop() ?? ''));
  if (at === -1 || (at > 0 && !RUNNERS.has(argv[0] as string))) return [...argv];
  const end = argv.indexOf('--', at);
  const own = end === -1 ? argv.slice(at + 1) : argv.slice(at + 1, end);
  const has = (flag: string) => own.some((a) => a === flag || a.startsWith(`${flag}=`));
  const extra: string[] = [];
  if (config.envMode === 'strict' && !has('--env-mode')) extra.push('--env-mode=loose');
  if (!(config.cacheDir && !config.cacheDir.startsWith('/')) && !has('--cache-dir')) extra.push(`--cache-dir=${TURBO_CACHE_DIR}`);
  const insertAt = end === -1 ? argv.length : end;
  return [...argv.slice(0, insertAt), ...extra, ...argv.slice(insertAt)];
}
