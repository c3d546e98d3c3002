import { DEFAULT_PROXY_PORT, routerUrls, schemeOf } from '../proxy/targets.ts';
import type { Binding, EnvRecord, EnvStatus } from './record.ts';
import { createRedactor } from './redact.ts';
import type { ServiceState } from './status.ts';

export interface ProcessView {
  name: string;
  state: 'running' | 'exited' | 'stopped';
  exit_code?: number;
  port?: number;
  pid: number;
}

/** An agent `envs agent` started in the env's tmux session (list/info). */
export interface AgentView {
  /** Its tmux window: `agent`, `agent-2`, … */
  window: string;
  running: boolean;
  /** It ended by itself with this code. */
  exit_code?: number;
  command: string;
  started_at: string;
  pid: number;
}

/** The JSON shape of an env (`create`, `info`, items of `list`): the design's fixed fields first. */
export interface EnvView {
  name: string;
  branch: string;
  repo: string;
  worktree: string;
  project: string;
  status: EnvStatus;
  ports: Binding[];
  /** Preview URLs through the router: the preview target at `http://<host>.localhost:<port>`, the others under it. */
  urls: Record<string, string>;
  /** The same targets straight on their published ports (`http://127.0.0.1:<port>/`). */
  direct_urls: Record<string, string>;
  /** The env's database: its service and image, and where its data came from. */
  database?: { service: string; strategy: string; image: string; snapshot?: string; method?: string; made_snapshot?: string };
  env: Record<string, string>;
  services: string[];
  problems: string[];
  warnings: string[];
  dirty?: boolean;
  merged?: boolean;
  /** How the base holds the branch's work, when `merged` (see merge-decision.ts). */
  merged_by?: 'ancestor' | 'rebase' | 'squash';
  /** No commit, container start or envs change for N days (`list`; see idle.ts). */
  idle?: boolean;
  last_activity?: string;
  worktree_exists?: boolean;
  /** The worktree was someone else's (`envs adopt`): destroy keeps it unless `--worktree`. */
  adopted?: true;
  /** Each service's real state (list/info): running, done (a one-shot that exited 0), exited, restarting… */
  service_states?: ServiceState[];
  /** The env's host processes (list/info). */
  processes?: ProcessView[];
  /** Agents started by `envs agent` (list/info), while envs knows of any. */
  agents?: AgentView[];
  base: { ref: string; commit: string };
  compose_file: string;
  /** The embedded Postgres image the env runs (pinned when it was made), when it has no compose file of its own. */
  image?: string;
  created_at: string;
  updated_at: string;
}

/**
 * Direct URLs for the published ports that conventionally speak HTTP, one per service (the first).
 * They use 127.0.0.1, where the ports are bound (`localhost` may try ::1 first).
 */
export function urlsFor(bindings: Binding[], appProtocols: Record<string, string> = {}): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const binding of bindings) {
    if (urls[binding.service] || binding.protocol !== 'tcp') continue;
    const scheme = schemeOf(binding.target, appProtocols[`${binding.service}/${binding.target}`]);
    if (scheme) urls[binding.service] = `${scheme}://${binding.host_ip || '127.0.0.1'}:${binding.published}/`;
  }
  return urls;
}

/** Host processes with a port are dev servers: their URL comes first (it is what a person opens). */
export function processUrls(ports: Record<string, number> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(ports ?? {}).map(([name, port]) => [name, `http://127.0.0.1:${port}/`]));
}

export function viewOf(
  record: EnvRecord,
  live: {
    status: EnvStatus;
    problems: string[];
    dirty?: boolean;
    merged?: boolean;
    mergedBy?: EnvView['merged_by'];
    worktreeExists?: boolean;
    serviceStates?: ServiceState[];
    processes?: ProcessView[];
    agents?: AgentView[];
  },
  options: { showSecrets?: boolean; proxyPort?: number | undefined } = {},
): EnvView {
  // The env's own secrets (its generated password) are masked wherever they appear, not only by name.
  const redactor = createRedactor({ show: Boolean(options.showSecrets), secretValues: Object.values(record.secrets) });
  return {
    name: record.name,
    branch: record.branch,
    repo: record.repo,
    worktree: record.worktree,
    project: record.project,
    status: live.status,
    ports: record.ports,
    urls: routerUrls(record, options.proxyPort ?? DEFAULT_PROXY_PORT),
    direct_urls: { ...processUrls(record.processPorts), ...urlsFor(record.ports, record.appProtocols) },
    env: redactor.env(record.env),
    services: record.services,
    problems: live.problems.map((text) => redactor.text(text)),
    warnings: record.warnings.map((text) => redactor.text(text)),
    ...(live.dirty !== undefined ? { dirty: live.dirty } : {}),
    ...(live.merged !== undefined ? { merged: live.merged } : {}),
    ...(live.mergedBy ? { merged_by: live.mergedBy } : {}),
    ...(record.adopted ? { adopted: true as const } : {}),
    ...(live.worktreeExists !== undefined ? { worktree_exists: live.worktreeExists } : {}),
    ...(live.serviceStates ? { service_states: live.serviceStates } : {}),
    ...(live.processes && live.processes.length > 0 ? { processes: live.processes } : {}),
    ...(live.agents && live.agents.length > 0 ? { agents: live.agents } : {}),
    ...(record.database ? { database: databaseView(record.database) } : {}),
    base: record.base,
    compose_file: record.composeFile,
    ...(record.template && record.renderEnv?.ENVS_POSTGRES_IMAGE ? { image: record.renderEnv.ENVS_POSTGRES_IMAGE } : {}),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function databaseView(db: NonNullable<EnvRecord['database']>): NonNullable<EnvView['database']> {
  return {
    service: db.service,
    strategy: db.strategy,
    image: db.image,
    ...(db.snapshot ? { snapshot: db.snapshot } : {}),
    ...(db.method ? { method: db.method } : {}),
    ...(db.madeSnapshot ? { made_snapshot: db.madeSnapshot } : {}),
  };
}

/** An agent's state as the JSON shows it. */
export function agentView(agent: {
  window: string;
  running: boolean;
  exitCode?: number | null;
  command: string;
  startedAt: string;
  pid: number;
}): AgentView {
  return {
    window: agent.window,
    running: agent.running,
    ...(agent.exitCode !== undefined && agent.exitCode !== null ? { exit_code: agent.exitCode } : {}),
    command: agent.command,
    started_at: agent.startedAt,
    pid: agent.pid,
  };
}
