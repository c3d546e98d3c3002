import type { ContainerSummary } from './deps.ts';
import type { EnvRecord, EnvStatus } from './record.ts';

export interface LiveFacts {
  /** This env's containers, as the engine reports them; undefined when the engine did not answer. */
  containers: ContainerSummary[] | undefined;
  worktreeExists: boolean;
  /** Some live process holds the env's lock (a create or destroy is under way). */
  busy: boolean;
  /** The env's host processes, as their state files say. */
  processes?: { name: string; state: 'running' | 'exited' | 'stopped'; exitCode?: number | null }[];
}

/** One service of an env as the engine has it now; `done` is a one-shot service that finished with 0. */
export interface ServiceState {
  service: string;
  state: 'running' | 'done' | 'exited' | 'restarting' | 'created' | 'missing' | 'unknown' | string;
  health?: string;
  exit_code?: number;
  one_shot: boolean;
}

/** Each service's real state (undefined containers: the engine did not answer). */
export function serviceStates(record: EnvRecord, containers: ContainerSummary[] | undefined): ServiceState[] {
  const oneShots = new Set(record.oneShots ?? []);
  return record.services.map((service) => {
    const one_shot = oneShots.has(service);
    if (!containers) return { service, state: 'unknown', one_shot };
    const mine = containers.filter((c) => c.service === service);
    const running = mine.find((c) => c.state === 'running');
    if (running) return { service, state: 'running', ...(running.health ? { health: running.health } : {}), one_shot };
    const first = mine[0];
    if (!first) return { service, state: 'missing', one_shot };
    const exited = /^exited\((\d+|\?)\)$/.exec(first.state);
    if (exited) {
      const code = Number(exited[1]);
      return {
        service,
        state: code === 0 && one_shot ? 'done' : 'exited',
        ...(Number.isFinite(code) ? { exit_code: code } : {}),
        one_shot,
      };
    }
    return { service, state: first.state, one_shot };
  });
}

export interface DerivedStatus {
  status: EnvStatus;
  /** Why it is not `running`, in words for a person. */
  problems: string[];
}

/**
 * An env's status from what it recorded and what is true now. Only intent is recorded; the engine is
 * the truth for containers, and an interrupted create or destroy (nobody holds its lock) is `partial`.
 */
export function deriveStatus(record: EnvRecord, facts: LiveFacts): DerivedStatus {
  if (record.status === 'creating' || record.status === 'destroying') {
    if (facts.busy) return { status: record.status, problems: [] };
    const verb = record.status === 'creating' ? 'create' : 'destroy';
    return {
      status: 'partial',
      problems: [
        `${verb} was interrupted at "${record.phase}": run \`envs ${verb === 'create' ? 'create' : 'destroy'} ${record.branch}\` again to finish, or \`envs destroy\` to remove it.`,
      ],
    };
  }
  if (record.status === 'failed') return { status: 'failed', problems: [record.error ?? 'create failed'] };

  const problems: string[] = [];
  if (!facts.worktreeExists) problems.push(`worktree ${record.worktree} is missing`);
  if (facts.containers === undefined) {
    // No answer is no evidence: never claim the containers run (or do not).
    problems.unshift(`the Docker engine did not answer: the containers' state is unknown (last recorded: ${record.status})`);
    return { status: 'unknown', problems };
  }
  const containers = facts.containers;
  const down: string[] = [];
  // Records made before one-shots were recorded: any service that exited 0 counts as one.
  const oneShots = new Set(record.oneShots ?? record.services);
  let running = 0;
  for (const service of record.services) {
    const mine = containers.filter((c) => c.service === service);
    if (mine.some((c) => c.state === 'running')) running++;
    // A one-shot (migration, seed) that finished with 0 when the env came up is done, not down; a
    // long-running service that exited (stopped by hand, or crashed) is down, whatever its exit code.
    else if (!(oneShots.has(service) && mine.some((c) => c.state === 'exited(0)'))) down.push(service);
    if (mine.some((c) => c.health === 'unhealthy')) problems.push(`${service} is unhealthy`);
    if (mine.some((c) => c.state === 'restarting')) problems.push(`${service} keeps restarting`);
  }
  for (const process of facts.processes ?? []) {
    if (process.state === 'exited')
      problems.push(`process ${process.name} exited${process.exitCode != null ? ` (${process.exitCode})` : ''}`);
  }
  const processesDown = (facts.processes ?? []).some((p) => p.state === 'exited');
  if (!facts.worktreeExists) return { status: 'partial', problems };
  if (record.services.length > 0 && running === 0) return { status: 'stopped', problems };
  if (processesDown && down.length === 0) return { status: 'partial', problems };
  if (down.length > 0) return { status: 'partial', problems: [...problems, `not running: ${down.join(', ')}`] };
  return { status: 'running', problems };
}
