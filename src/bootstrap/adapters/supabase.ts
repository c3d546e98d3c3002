import { posix } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { sanitize, shortHash } from '../../core/naming.ts';
import { EnvsError } from '../../errors.ts';
import { type AddressChange, type AddressEntry, type AddressMap, rewriteValue } from '../addresses.ts';

/**
 * The Supabase CLI's local stack (`supabase/config.toml`), made per env without touching tracked files:
 * its own `project_id` (containers, network and volumes are named after it) and its own host ports, through
 * the `SUPABASE_*` variables the CLI reads (viper: prefix SUPABASE, `.`→`_`, bound to every config field),
 * and its auth URLs following the env's ports.
 *
 * Those variables are for local commands only: the CLI also reads SUPABASE_PROJECT_ID as the linked remote
 * project's ref, and a `config push` would push these URLs to the hosted project. See `supabaseEnvFor`.
 */

export interface SupabasePort {
  /** Name in templates (`ports.supabase.<name>`) and in lease keys (`supabase:<name>`). */
  name: string;
  /** Where config.toml sets it. */
  table: string;
  key: string;
  /** The port the main checkout uses: config.toml's, else the CLI's default; undefined when it is not a number there. */
  original?: number;
  /** The variables that set it (the mail server has two spellings: `[inbucket]`, renamed `[local_smtp]` in CLI ~2.108). */
  vars: string[];
  enabled: boolean;
}

export interface SupabaseProject {
  /** Repository-relative config.toml. */
  configPath: string;
  /** The directory `supabase` commands run in (the one holding `supabase/`). */
  workdir: string;
  /** project_id in config.toml (the CLI defaults it to the directory name at `supabase init`). */
  projectId?: string;
  ports: SupabasePort[];
  /** URL settings that may point at the main checkout's ports: variable → value as configured. */
  urls: Array<{ key: string; variable: string; value: string | string[] }>;
  warnings: string[];
}

/** The CLI's defaults (its config template; also what its TypeScript port allocator uses). */
const PORTS: ReadonlyArray<{ name: string; table: string; key: string; default?: number; enabledByDefault?: boolean }> = [
  { name: 'api', table: 'api', key: 'port', default: 54321, enabledByDefault: true },
  { name: 'db', table: 'db', key: 'port', default: 54322, enabledByDefault: true },
  { name: 'shadow', table: 'db', key: 'shadow_port', default: 54320, enabledByDefault: true },
  { name: 'pooler', table: 'db.pooler', key: 'port', default: 54329, enabledByDefault: false },
  { name: 'studio', table: 'studio', key: 'port', default: 54323, enabledByDefault: true },
  { name: 'inbucket', table: 'local_smtp', key: 'port', default: 54324, enabledByDefault: true },
  // SMTP and POP3 are published only when set.
  { name: 'smtp', table: 'local_smtp', key: 'smtp_port' },
  { name: 'pop3', table: 'local_smtp', key: 'pop3_port' },
  { name: 'analytics', table: 'analytics', key: 'port', default: 54327, enabledByDefault: true },
  { name: 'inspector', table: 'edge_runtime', key: 'inspector_port', default: 8083, enabledByDefault: true },
];

const DEFAULT_SITE_URL = 'http://127.0.0.1:3000';
const DEFAULT_REDIRECT_URLS = ['https://127.0.0.1:3000'];

type Table = Record<string, unknown>;
const table = (root: Table, path: string): Table | undefined => {
  let node: unknown = root;
  for (const part of path.split('.')) node = typeof node === 'object' && node !== null ? (node as Table)[part] : undefined;
  return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Table) : undefined;
};
const envVar = (path: string) => `SUPABASE_${path.replace(/\./g, '_').toUpperCase()}`;

/** Reads what envs needs from a config.toml; a TOML syntax error is the user's to fix. */
export function parseSupabaseConfig(text: string, configPath: string): SupabaseProject {
  let root: Table;
  try {
    root = parseToml(text) as Table;
  } catch (error) {
    throw new EnvsError('CONFIG_INVALID', `${configPath} is not valid TOML: ${(error as Error).message.split('\n')[0]}`, {
      hint: `Fix ${configPath} (\`supabase start\` reports the same), commit it on the branch, and run the command again.`,
    });
  }
  const warnings: string[] = [];
  // Newer CLIs write [local_smtp]; older projects keep [inbucket]. The CLI reads either.
  const mailTable = table(root, 'local_smtp') ? 'local_smtp' : table(root, 'inbucket') ? 'inbucket' : 'local_smtp';
  const ports: SupabasePort[] = [];
  for (const spec of PORTS) {
    const tableName = spec.table === 'local_smtp' ? mailTable : spec.table;
    const section = table(root, tableName);
    const raw = section?.[spec.key];
    const vars =
      spec.table === 'local_smtp'
        ? [envVar(`inbucket.${spec.key}`), envVar(`local_smtp.${spec.key}`)]
        : [envVar(`${spec.table}.${spec.key}`)];
    if (raw === undefined && spec.default === undefined) continue;
    let original: number | undefined;
    if (raw === undefined) original = spec.default;
    else if (typeof raw === 'number' && Number.isInteger(raw)) original = raw;
    else
      warnings.push(
        `${configPath}: [${tableName}] ${spec.key} is ${JSON.stringify(raw)}, not a port number; envs still gives the env its own.`,
      );
    const enabled = typeof section?.enabled === 'boolean' ? section.enabled : (spec.enabledByDefault ?? true);
    ports.push({ name: spec.name, table: tableName, key: spec.key, ...(original !== undefined ? { original } : {}), vars, enabled });
  }

  const urls: SupabaseProject['urls'] = [];
  const auth = table(root, 'auth');
  const url = (key: string, value: unknown, fallback?: string | string[]) => {
    const v = value ?? fallback;
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))
      urls.push({ key, variable: envVar(key), value: v as string | string[] });
  };
  url('auth.site_url', auth?.site_url, DEFAULT_SITE_URL);
  url('auth.additional_redirect_urls', auth?.additional_redirect_urls, DEFAULT_REDIRECT_URLS);
  url('auth.external_url', auth?.external_url);
  url('auth.jwt_issuer', auth?.jwt_issuer);
  url('api.external_url', table(root, 'api')?.external_url);
  for (const [provider, settings] of Object.entries(table(root, 'auth.external') ?? {})) {
    if (typeof settings === 'object' && settings !== null) url(`auth.external.${provider}.redirect_uri`, (settings as Table).redirect_uri);
  }

  const projectId = typeof root.project_id === 'string' ? root.project_id : undefined;
  const supabaseDir = posix.dirname(configPath);
  return {
    configPath,
    workdir: posix.dirname(supabaseDir) === '.' ? '' : posix.dirname(supabaseDir),
    ...(projectId !== undefined ? { projectId } : {}),
    ports,
    urls: urls.filter((u) => (Array.isArray(u.value) ? u.value.length > 0 : u.value !== '')),
    warnings,
  };
}

/** Port requests for the machine-wide registry, leased with the env's compose ports (one reserve call). */
export function supabasePortRequests(project: SupabaseProject): Array<{ key: string; protocol: 'tcp'; name: string }> {
  return project.ports.map((p) => ({ key: `supabase:${p.name}`, protocol: 'tcp' as const, name: p.name }));
}

/** The env's Supabase ports (by name) from its leases. */
export function supabasePortsFromLeases(leases: ReadonlyArray<{ key: string; port: number }>): Record<string, number> {
  return Object.fromEntries(leases.filter((l) => l.key.startsWith('supabase:')).map((l) => [l.key.slice('supabase:'.length), l.port]));
}

/** Entries for the env's address map: the main checkout's Supabase ports → the env's. */
export function supabaseAddressEntries(project: SupabaseProject, ports: Readonly<Record<string, number>>): AddressEntry[] {
  return project.ports.flatMap((p) =>
    p.original !== undefined && ports[p.name] !== undefined
      ? [{ original: p.original, port: ports[p.name] as number, source: { kind: 'supabase' as const, key: p.name } }]
      : [],
  );
}

/** The CLI's own rule for a project id: `[A-Za-z0-9_.-]`, starting alphanumeric, at most 40 characters. */
export function sanitizeProjectId(text: string): string {
  return text
    .replace(/[^a-zA-Z0-9_.-]+/g, '_')
    .replace(/^[_.-]+/, '')
    .slice(0, 40);
}

/**
 * The env's project id: readable (`<project_id>-<env name>`, both shortened) plus 8 hex of the env's Compose
 * project, which is unique on the machine — so two envs, two clones of one repository, or a committed
 * project_id shared by many worktrees never share containers or data. Already what the CLI's sanitizer
 * would leave unchanged.
 */
export function supabaseProjectId(originalProjectId: string | undefined, envName: string, composeProject: string): string {
  // 31 readable characters: up to 12 of the original id, the rest for the env name.
  const original = sanitize(originalProjectId ?? 'supabase', 12);
  const readable = [original, sanitize(envName, 31 - original.length - 1)].filter(Boolean).join('-') || 'supabase';
  return `${readable}-${shortHash(composeProject, 8)}`;
}

export interface SupabaseVariablesInput {
  projectId: string;
  /** The env's leased Supabase ports, by name. */
  ports: Readonly<Record<string, number>>;
  /** The env's address map (compose, processes and Supabase): auth URLs follow it. */
  map: AddressMap;
}

/**
 * The variables that make `supabase` commands run this env's stack: project id, every port (both
 * spellings for the mail server), and the URL settings whose ports moved (site URL, redirect URLs: these
 * follow the web app's port through the address map, so redirects land on this env's app).
 */
export function supabaseVariables(
  project: SupabaseProject,
  input: SupabaseVariablesInput,
): { env: Record<string, string>; changes: AddressChange[]; warnings: string[] } {
  const env: Record<string, string> = { SUPABASE_PROJECT_ID: input.projectId };
  const warnings: string[] = [];
  for (const port of project.ports) {
    const leased = input.ports[port.name];
    if (leased === undefined) throw new Error(`no lease for supabase:${port.name}`);
    for (const name of port.vars) env[name] = String(leased);
  }
  const changes: AddressChange[] = [];
  for (const setting of project.urls) {
    const values = Array.isArray(setting.value) ? setting.value : [setting.value];
    const rewritten = values.map((v) => rewriteValue(input.map, v, { side: 'host' }));
    if (rewritten.every((r) => r.replacements.length === 0)) continue;
    if (values.some((v) => v.includes(','))) {
      warnings.push(
        `${project.configPath}: ${setting.key} has a URL with a comma; the CLI splits ${setting.variable} on commas, so envs leaves it.`,
      );
      continue;
    }
    const after = rewritten.map((r) => r.value).join(',');
    env[setting.variable] = after;
    changes.push({
      where: project.configPath,
      key: setting.key,
      before: values.join(','),
      after,
      replacements: rewritten.flatMap((r) => r.replacements),
    });
  }
  return { env, changes, warnings };
}

/**
 * Which Supabase project the env runs: the one `supabase/config.toml` among the repository's files, or
 * `supabase.dir` when there are several; none when there is none or `supabase.enabled` is false.
 */
export function pickSupabaseConfig(paths: readonly string[], config: { enabled?: boolean; dir?: string } = {}): string | undefined {
  if (config.enabled === false) return undefined;
  const found = paths.filter((p) => p === 'supabase/config.toml' || p.endsWith('/supabase/config.toml')).sort();
  if (config.dir !== undefined) {
    const wanted = posix.join(config.dir, 'supabase/config.toml');
    if (!found.includes(wanted)) {
      throw new EnvsError('CONFIG_INVALID', `supabase.dir is "${config.dir}" but there is no ${wanted}.`, {
        hint: found.length ? `Supabase projects in this repository: ${found.join(', ')}.` : 'This repository has no supabase/config.toml.',
      });
    }
    return wanted;
  }
  if (found.length > 1) {
    throw new EnvsError('CONFIG_INVALID', `This repository has several Supabase projects: ${found.join(', ')}.`, {
      hint: 'Say which one the env runs with supabase.dir in envs.yaml (the directory holding supabase/), or turn the adapter off with supabase.enabled: false.',
    });
  }
  return found[0];
}

// ---------------------------------------------------------------- local vs linked commands

export type SupabaseTarget = 'local' | 'remote' | 'blocked' | 'other';

export interface SupabaseCommand {
  target: SupabaseTarget;
  reason?: string;
}

/** Commands that talk to the hosted platform (the linked project) by default. */
const REMOTE = new Set([
  'link',
  'unlink',
  'login',
  'logout',
  'projects',
  'orgs',
  'secrets',
  'branches',
  'backups',
  'domains',
  'vanity-subdomains',
  'network-bans',
  'network-restrictions',
  'ssl-enforcement',
  'postgres-config',
  'snippets',
  'sso',
  'encryption',
  'bootstrap',
  'inspect',
  'storage',
]);
const REMOTE_SUB: Record<string, ReadonlySet<string>> = {
  config: new Set(['push']),
  functions: new Set(['deploy', 'delete', 'list', 'download']),
  db: new Set(['push', 'pull', 'dump']),
  migration: new Set(['list', 'repair', 'fetch']),
};
/** Global flags that take a value (so the value is not read as the command). */
const VALUE_FLAGS = new Set(['--workdir', '--profile', '--network-id', '-o', '--output', '--dns-resolver']);
const RUNNERS = new Set(['npx', 'pnpx', 'bunx', 'pnpm', 'yarn', 'bun', 'npm']);

function isSupabaseBin(word: string): boolean {
  return /^supabase(@[^/\s]*)?$/.test(posix.basename(word));
}

function flagValue(args: readonly string[], name: string): boolean | undefined {
  for (const arg of args) {
    if (arg === name) return true;
    if (arg.startsWith(`${name}=`)) return !/^(false|0)$/i.test(arg.slice(name.length + 1));
  }
  return undefined;
}

/**
 * Whether an argv runs the Supabase CLI against the local stack, the linked remote project, or something
 * envs refuses (`stop --all` stops every env's stack). Unknown commands count as local: a local command
 * without the env's variables would act on the main checkout's stack (`db reset` would wipe its data),
 * while a remote one given them fails loudly ("Invalid project ref format").
 */
export function classifySupabaseCommand(argv: readonly string[]): SupabaseCommand {
  const i = argv.findIndex((word) => isSupabaseBin(word));
  // `supabase …`, or through a package runner (`npx supabase`, `pnpm --filter web exec supabase`).
  if (i === -1 || (i > 0 && !RUNNERS.has(argv[0] as string))) return { target: 'other' };
  const args = argv.slice(i + 1);
  const positional: string[] = [];
  for (let j = 0; j < args.length; j++) {
    const arg = args[j] as string;
    if (VALUE_FLAGS.has(arg)) j++;
    else if (!arg.startsWith('-')) positional.push(arg);
  }
  const [command = '', sub = ''] = positional;
  if (command === 'stop' && flagValue(args, '--all')) {
    return {
      target: 'blocked',
      reason: '`supabase stop --all` stops every Supabase project on this machine, other envs included; run `supabase stop` for this env',
    };
  }
  if (flagValue(args, '--linked') || flagValue(args, '--project-ref') !== undefined)
    return { target: 'remote', reason: 'it targets the linked project' };
  if (command === 'gen' && flagValue(args, '--project-id') !== undefined)
    return { target: 'remote', reason: '`gen --project-id` reads a hosted project' };
  if (flagValue(args, '--local')) return { target: 'local' };
  if (REMOTE.has(command) || REMOTE_SUB[command]?.has(sub)) {
    return {
      target: 'remote',
      reason: `\`supabase ${sub && REMOTE_SUB[command] ? `${command} ${sub}` : command}\` talks to the hosted project`,
    };
  }
  return { target: 'local' };
}

/**
 * The Supabase variables to add to a command's environment: all of them for local (and non-Supabase)
 * commands, none for remote ones; `refuse` says why a command must not run at all.
 */
export function supabaseEnvFor(
  argv: readonly string[],
  vars: Readonly<Record<string, string>>,
): { env: Record<string, string>; refuse?: string } {
  const { target, reason } = classifySupabaseCommand(argv);
  if (target === 'blocked') return { env: {}, refuse: reason as string };
  return { env: target === 'remote' ? {} : { ...vars } };
}
