import type { Binding, EnvRecord, EnvStatus } from './record.ts';
import { createRedactor } from './redact.ts';

/** The JSON shape of an env (`create`, `info`, items of `list`): the design's fixed fields first. */
export interface EnvView {
  name: string;
  branch: string;
  repo: string;
  worktree: string;
  project: string;
  status: EnvStatus;
  ports: Binding[];
  urls: Record<string, string>;
  env: Record<string, string>;
  services: string[];
  problems: string[];
  warnings: string[];
  dirty?: boolean;
  merged?: boolean;
  worktree_exists?: boolean;
  base: { ref: string; commit: string };
  compose_file: string;
  created_at: string;
  updated_at: string;
}

const HTTP_PORTS = new Set([80, 3000, 3001, 4000, 4200, 4321, 5000, 5173, 8000, 8008, 8080, 8081, 8888, 9000]);
const HTTPS_PORTS = new Set([443, 8443]);

/**
 * Direct URLs for the published ports that conventionally speak HTTP, one per service (the first).
 * They use 127.0.0.1, where the ports are bound (`localhost` may try ::1 first).
 */
export function urlsFor(bindings: Binding[]): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const binding of bindings) {
    if (urls[binding.service] || binding.protocol !== 'tcp') continue;
    const scheme = HTTPS_PORTS.has(binding.target) ? 'https' : HTTP_PORTS.has(binding.target) ? 'http' : undefined;
    if (scheme) urls[binding.service] = `${scheme}://${binding.host_ip || '127.0.0.1'}:${binding.published}/`;
  }
  return urls;
}

export function viewOf(
  record: EnvRecord,
  live: { status: EnvStatus; problems: string[]; dirty?: boolean; merged?: boolean; worktreeExists?: boolean },
  options: { showSecrets?: boolean } = {},
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
    urls: urlsFor(record.ports),
    env: redactor.env(record.env),
    services: record.services,
    problems: live.problems.map((text) => redactor.text(text)),
    warnings: record.warnings.map((text) => redactor.text(text)),
    ...(live.dirty !== undefined ? { dirty: live.dirty } : {}),
    ...(live.merged !== undefined ? { merged: live.merged } : {}),
    ...(live.worktreeExists !== undefined ? { worktree_exists: live.worktreeExists } : {}),
    base: record.base,
    compose_file: record.composeFile,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}
