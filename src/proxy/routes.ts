import type { EnvRecord, RecordedStatus } from '../core/record.ts';
import { previewOf, type Target, targetsOf } from './targets.ts';

/** One env as the router sees it. */
export interface EnvRoute {
  host: string;
  /** `<host>--<repoId>`: always this env alone, also when another repository has an env of the same host. */
  qualified: string;
  name: string;
  repoId: string;
  repo: string;
  branch: string;
  status: RecordedStatus;
  targets: Target[];
  preview: Target | undefined;
}

export interface RouteTable {
  /** Envs by host and by qualified host (a host two repositories share maps to both). */
  byHost: Map<string, EnvRoute[]>;
  envs: EnvRoute[];
}

export type Resolution =
  | { kind: 'route'; env: EnvRoute; target: Target }
  /** The env exists but has nothing under that name (or no preview target at all). */
  | { kind: 'no-target'; env: EnvRoute; wanted: string | undefined }
  /** Two repositories have an env with this host: neither is guessed. */
  | { kind: 'ambiguous'; envs: EnvRoute[] }
  | { kind: 'none' };

export function qualifiedHost(host: string, repoId: string): string {
  return `${host}--${repoId}`;
}

export function buildTable(records: readonly EnvRecord[]): RouteTable {
  const byHost = new Map<string, EnvRoute[]>();
  const envs: EnvRoute[] = [];
  for (const record of records) {
    const targets = targetsOf(record);
    const env: EnvRoute = {
      host: record.host,
      qualified: qualifiedHost(record.host, record.repoId),
      name: record.name,
      repoId: record.repoId,
      repo: record.repo,
      branch: record.branch,
      status: record.status,
      targets,
      preview: previewOf(record, targets),
    };
    envs.push(env);
    for (const key of [env.host, env.qualified]) byHost.set(key, [...(byHost.get(key) ?? []), env]);
  }
  envs.sort((a, b) => (a.host === b.host ? a.repoId.localeCompare(b.repoId) : a.host.localeCompare(b.host)));
  return { byHost, envs };
}

/** What `<target>.<host>.localhost` (target undefined: `<host>.localhost`) reaches. */
export function resolveRoute(table: RouteTable, host: string, target: string | undefined): Resolution {
  const found = table.byHost.get(host);
  if (!found || found.length === 0) return { kind: 'none' };
  if (found.length > 1) return { kind: 'ambiguous', envs: found };
  const env = found[0] as EnvRoute;
  const chosen = target === undefined ? env.preview : env.targets.find((t) => t.name === target);
  return chosen ? { kind: 'route', env, target: chosen } : { kind: 'no-target', env, wanted: target };
}
