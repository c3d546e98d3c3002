import { conflictingPorts } from '../compose/conflicts.ts';
import { collectPortRequests, LOOPBACK, transformModel } from '../compose/transform.ts';
import { EnvsError, lastLines } from '../errors.ts';
import type { PortRange } from '../ports/allocate.ts';
import type { Deps } from './deps.ts';
import { envVarsFor } from './env-vars.ts';
import { labelsFor } from './labels.ts';
import type { Binding, EnvRecord, Phase } from './record.ts';
import { createRedactor } from './redact.ts';
import type { RenderedSource } from './source.ts';

/** Bind conflicts (someone took a leased port) are moved around this many times before giving up. */
const MAX_PORT_MOVES = 3;

export type Progress = (event: { step: string; message: string }) => void;

export interface ConvergeOptions {
  range: PortRange;
  waitTimeout: number;
  signal?: AbortSignal;
  /** Called before each step so the caller can record the phase. */
  enter?: (phase: Phase) => Promise<void>;
  onProgress?: Progress;
}

/**
 * Brings an env's containers to its rendered model: lease ports (keeping the env's own), write the
 * transformed compose file, `docker compose up --wait`; when a leased port turns out to be taken,
 * lease another and try again. Then read the real bindings back from the engine and derive the env's
 * variables. Updates `record` in place (ports, services, env, warnings).
 */
export async function converge(deps: Deps, record: EnvRecord, rendered: RenderedSource, options: ConvergeOptions): Promise<void> {
  const owner = { project: record.project, repo: record.repoId, env: record.name };
  const requests = collectPortRequests(rendered.model).map(({ key, protocol }) => ({ key, protocol }));
  const labels = labelsFor(record);
  const avoid = new Set<number>();
  let warnings: string[] = [];
  let services: string[] = [];

  for (let attempt = 0; ; attempt++) {
    await options.enter?.('ports');
    const leases = await deps.ports.reserve({ owner, requests, range: options.range, avoid });
    await options.enter?.('compose-file');
    const transformed = transformModel({
      model: rendered.model,
      project: record.project,
      labels,
      ports: new Map(leases.map((l) => [l.key, l.port])),
    });
    warnings = transformed.warnings;
    services = transformed.services;
    await deps.compose.write(record.composeFile, transformed.model);

    await options.enter?.('compose-up');
    options.onProgress?.({ step: 'compose-up', message: `docker compose up (${services.join(', ') || 'no services'})` });
    const upping = deps.compose.up({
      project: record.project,
      file: record.composeFile,
      projectDir: rendered.projectDir,
      waitTimeoutSeconds: options.waitTimeout,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    deps.engine.prepare(); // read-back after `up` needs the engine client: load it while Compose works
    const result = await upping;
    if (result.ok) break;

    const ours = new Set(leases.map((l) => l.port));
    const taken = conflictingPorts(result.stderr).filter((port) => ours.has(port));
    if (taken.length === 0 || attempt >= MAX_PORT_MOVES) {
      const said = createRedactor({ secretValues: Object.values(record.secrets) }).text(lastLines(result.stderr, 10));
      throw new EnvsError('COMPOSE_FAILED', `docker compose up failed for ${record.branch}:\n${said}`, {
        hint:
          taken.length > 0
            ? 'Ports kept being taken by other programs while envs retried; free some ports or widen ENVS_PORT_RANGE.'
            : `See the containers' logs: docker compose -p ${record.project} logs`,
      });
    }
    for (const port of taken) avoid.add(port);
    options.onProgress?.({ step: 'ports', message: `port ${taken.join(', ')} is taken by another program; moving to another` });
  }

  record.ports = await readBindings(deps, record.project);
  const vars = envVarsFor({
    name: record.name,
    branch: record.branch,
    project: record.project,
    worktree: record.worktree,
    composeFile: record.composeFile,
    model: rendered.model,
    bindings: record.ports,
    ...(rendered.config.database?.service ? { databaseService: rendered.config.database.service } : {}),
  });
  record.env = vars.env;
  record.services = services;
  record.warnings = [...new Set([...warnings, ...vars.warnings])];
  record.sourceFiles = rendered.sourceFiles;
  record.projectDir = rendered.projectDir;
  if (rendered.template) record.template = rendered.template;
}

/** The ports the engine really published for a project (the truth, whatever the file says). */
export async function readBindings(deps: Deps, project: string): Promise<Binding[]> {
  const containers = await deps.engine.containers({ 'com.docker.compose.project': project });
  const seen = new Set<string>();
  return containers
    .flatMap((c) => c.ports)
    .filter((p) => p.host_ip === LOOPBACK)
    .filter((p) => {
      const key = `${p.service}/${p.target}/${p.protocol}/${p.published}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.service === b.service ? a.target - b.target : a.service < b.service ? -1 : 1));
}
