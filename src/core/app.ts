import { join } from 'node:path';
import { hardCodedPortAdvice, type NextApp, nextDevCommand } from '../bootstrap/adapters/nextjs.ts';
import {
  type SupabaseProject,
  supabaseAddressEntries,
  supabasePortRequests,
  supabasePortsFromLeases,
  supabaseProjectId,
  supabaseVariables,
} from '../bootstrap/adapters/supabase.ts';
import { turboEnvReport, turboVariables } from '../bootstrap/adapters/turbo.ts';
import {
  type AddressChange,
  type AddressMap,
  buildAddressMap,
  composeAddressEntries,
  processAddressEntries,
} from '../bootstrap/addresses.ts';
import { detectStack, type StackFacts } from '../bootstrap/detect.ts';
import type { CollectedSources, WrittenFile } from '../bootstrap/env-files.ts';
import { type ProcessSpec, processSpecs } from '../bootstrap/processes.ts';
import { renderTemplates, templatePorts } from '../bootstrap/templates.ts';
import type { PortRequest } from '../compose/transform.ts';
import type { Config } from '../config/schema.ts';
import type { Deps } from './deps.ts';
import type { EnvVars } from './env-vars.ts';
import type { EnvRecord } from './record.ts';

/**
 * The app part of an env (beyond its containers): the stack envs detected at the commit (Next.js apps,
 * the Supabase CLI project, turbo.json), the host processes envs.yaml names (a Next.js app's hard-coded
 * port turned into the env's), and what they add to the env's ports and variables.
 */
export interface AppPlan {
  facts: StackFacts;
  processes: ProcessSpec[];
  /** Process name → the port it uses in the main checkout (the address map's original). */
  originals: Record<string, number>;
  warnings: string[];
}

/** What plan reads for the app, from the commit the env will hold (no worktree needed). */
export async function planApp(deps: Deps, commit: string, config: Config): Promise<AppPlan> {
  const facts = await detectStack(deps.git, commit, config);
  const warnings = [...facts.warnings, ...(facts.supabase?.warnings ?? [])];
  const originals: Record<string, number> = {};
  const processes = processSpecs(config.processes).map((spec) => {
    const app = nextAppOf(facts.nextApps, spec);
    if (spec.port === undefined && app?.dev) return { ...spec, port: app.dev.original };
    return spec;
  });
  for (const spec of processes) {
    const app = nextAppOf(facts.nextApps, spec);
    if (spec.port !== undefined) originals[spec.name] = spec.port;
    const advice = app ? hardCodedPortAdvice(app) : undefined;
    if (advice) warnings.push(`process ${spec.name}: ${advice}`);
  }
  return { facts, processes, originals, warnings };
}

/** The Next.js app a process runs, when its directory is one's. */
function nextAppOf(apps: readonly NextApp[], spec: ProcessSpec): NextApp | undefined {
  const dir = (spec.cwd ?? '').replace(/^\.\/?/, '').replace(/\/$/, '');
  return apps.find((a) => a.dir === dir);
}

/**
 * The processes as envs starts them on their leased ports: a Next.js app whose dev script hard-codes its
 * port runs that script with the leased one instead (the script itself is left as it is, and plan says how
 * to fix it).
 */
export function processesToStart(app: AppPlan, ports: Record<string, number>): ProcessSpec[] {
  return app.processes.map((spec) => {
    const next = nextAppOf(app.facts.nextApps, spec);
    const port = ports[spec.name];
    if (!next?.dev?.hardCoded || port === undefined || typeof spec.command !== 'string' || !/\bdev\b/.test(spec.command)) return spec;
    const dev = nextDevCommand(next, port);
    return { ...spec, command: dev.command, cwd: dev.cwd, env: { ...spec.env, ...dev.env } };
  });
}

/** Port requests the Supabase CLI project adds to the env's compose requests (one registry, keys `supabase:<name>`). */
export function supabaseRequests(app: AppPlan | undefined): { key: string; protocol: 'tcp' }[] {
  return app?.facts.supabase ? supabasePortRequests(app.facts.supabase).map(({ key, protocol }) => ({ key, protocol })) : [];
}

/** The env's one map of addresses: compose ports, host processes and Supabase ports, original → leased. */
export function addressMapFor(
  requests: readonly PortRequest[],
  leased: ReadonlyMap<string, number>,
  app: AppPlan | undefined,
  processPorts: Record<string, number>,
): AddressMap {
  const supabase = app?.facts.supabase;
  return buildAddressMap([
    ...composeAddressEntries(requests, leased),
    ...processAddressEntries(
      Object.entries(app?.originals ?? {}).flatMap(([name, original]) =>
        processPorts[name] === undefined ? [] : [{ name, original, port: processPorts[name] as number }],
      ),
    ),
    ...(supabase ? supabaseAddressEntries(supabase, supabasePortsFromLeases(leasesOf(leased))) : []),
  ]);
}

function leasesOf(leased: ReadonlyMap<string, number>): { key: string; port: number }[] {
  return [...leased].map(([key, port]) => ({ key, port }));
}

export interface AppVariables {
  /** Added to the env's variables (templates, TURBO_CACHE_DIR). */
  env: Record<string, string>;
  /** For local `supabase` commands only (never a linked remote project's). */
  supabase?: { projectId: string; workdir: string; env: Record<string, string> };
  changes: AddressChange[];
  warnings: string[];
}

/** The variables the app adds: `env:` templates, Turborepo's per-worktree cache, the Supabase CLI's. */
export function appVariables(
  record: Pick<EnvRecord, 'name' | 'branch' | 'host' | 'project' | 'worktree'>,
  config: Config,
  app: AppPlan | undefined,
  input: {
    map: AddressMap;
    leased: ReadonlyMap<string, number>;
    processPorts: Record<string, number>;
    bindings: EnvRecord['ports'];
    vars: EnvVars;
  },
): AppVariables {
  const warnings: string[] = [];
  const changes: AddressChange[] = [];
  const supabasePorts = supabasePortsFromLeases(leasesOf(input.leased));
  const supabase = app?.facts.supabase;
  const { ports, problems } = templatePorts({
    compose: input.bindings.map((b) => ({ service: b.service, target: b.target, port: b.published })),
    processes: Object.entries(input.processPorts).map(([name, port]) => ({ name, port })),
    ...(supabase ? { supabase: supabasePorts } : {}),
  });
  warnings.push(...problems);
  const db = input.vars.database
    ? {
        url: input.vars.env.DATABASE_URL ?? '',
        host: input.vars.database.host,
        port: String(input.vars.database.port),
        user: input.vars.database.user,
        password: input.vars.env.PGPASSWORD ?? '',
        name: input.vars.database.database,
      }
    : undefined;
  const env = renderTemplates(config.env ?? {}, {
    env: { name: record.name, branch: record.branch, host: record.host, project: record.project, worktree: record.worktree },
    ports,
    ...(db ? { db } : {}),
  });
  if (app?.facts.turbo) {
    const turbo = turboVariables(app.facts.turbo);
    Object.assign(env, turbo.env);
    warnings.push(...turbo.warnings);
  }
  let supabaseVars: AppVariables['supabase'];
  if (supabase) {
    const projectId = supabaseProjectId(supabase.projectId, record.name, record.project);
    const result = supabaseVariables(supabase, { projectId, ports: supabasePorts, map: input.map });
    supabaseVars = { projectId, workdir: supabase.workdir, env: result.env };
    changes.push(...result.changes);
    warnings.push(...result.warnings);
  }
  return { env, ...(supabaseVars ? { supabase: supabaseVars } : {}), changes, warnings };
}

/** Turborepo's strict env mode would drop the env's variables in tasks it runs: say which, and the fix. */
export function turboAdvice(app: AppPlan | undefined, variables: readonly string[]): string[] {
  if (!app?.facts.turbo) return [];
  const report = turboEnvReport(app.facts.turbo, variables);
  return report.advice ? [report.advice] : [];
}

/** The gitignored env files for the env, rewritten to its ports (plan: what would be written, nothing is). */
export async function previewAppFiles(
  deps: Deps,
  config: Config,
  app: AppPlan | undefined,
  input: { commit: string; map: AddressMap; name: string; collected?: CollectedSources },
) {
  return deps.app.previewEnvFiles({
    ...(input.collected ? { collected: input.collected } : {}),
    env: deps.env,
    repo: deps.git.repo.root,
    commit: input.commit,
    nextApps: app?.facts.nextApps.map((a) => a.dir) ?? [],
    map: input.map,
    label: `env ${input.name}`,
    ...envFilesOptions(config),
  });
}

/** The main checkout's env files the env gets (copied, rewritten), read: a plan starts this beside its other reads. */
export function collectAppFiles(deps: Deps, config: Config): Promise<CollectedSources> {
  return deps.app.collectEnvFiles({ env: deps.env, repo: deps.git.repo.root, ...envFilesOptions(config) });
}

/** Writes the env files into the worktree (again on `up`: ports may have moved); returns what envs wholly made. */
export async function writeAppFiles(
  deps: Deps,
  record: EnvRecord,
  config: Config,
  app: AppPlan | undefined,
  map: AddressMap,
  collected?: CollectedSources,
): Promise<{ written: WrittenFile[]; changes: AddressChange[]; warnings: string[] }> {
  const result = await deps.app.writeEnvFiles({
    env: deps.env,
    repo: deps.git.repo.root,
    worktree: record.worktree,
    nextApps: app?.facts.nextApps.map((a) => a.dir) ?? [],
    map,
    label: `env ${record.name}`,
    previous: record.envFiles ?? [],
    ...envFilesOptions(config),
    ...(collected ? { collected } : {}),
  });
  return { written: result.written, changes: result.plan.changes, warnings: result.warnings };
}

function envFilesOptions(config: Config) {
  return {
    ...(config.copy ? { copy: config.copy } : {}),
    ...(config.envFiles?.defaults !== undefined ? { defaults: config.envFiles.defaults } : {}),
    ...(config.envFiles?.exclude ? { exclude: config.envFiles.exclude } : {}),
    ...(config.envFiles?.nextjs ? { nextjs: config.envFiles.nextjs } : {}),
  };
}

/** Where an env keeps its logs (under its state directory). */
export function logFile(deps: Deps, record: Pick<EnvRecord, 'name'>, name: string): string {
  return join(deps.records.envDir(record.name), 'logs', `${name}.log`);
}

export type { SupabaseProject };
