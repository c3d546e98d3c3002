import { setTimeout as sleep } from 'node:timers/promises';
import type { Service } from '../compose/model.ts';
import { EnvsError, lastLines } from '../errors.ts';
import type { Progress } from './converge.ts';
import type { ContainerDetail, ContainerSummary, Deps } from './deps.ts';
import { printable } from './naming.ts';

/** A container that restarted must stay up this long before it counts as up. */
const STABLE_MS = 2_000;
/** Any container must have been running this long: one that dies right after starting is not up. */
const STARTED_MS = 250;
/** This many restarts while starting is a crash loop, not a slow start. */
const CRASH_LOOP_RESTARTS = 5;
const POLL_MS = 100;
const LOG_LINES = 12;

export interface WaitOptions {
  project: string;
  /** The services of the env as rendered (restart policies, healthchecks). */
  services: Record<string, Service>;
  /** Which of them are jobs whose exit 0 is "done" (`oneShotServices`). */
  oneShots: ReadonlySet<string>;
  deadline: number;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Masks secrets in the log lines an error shows. */
  scrub: (text: string) => string;
  /**
   * Services shown up another way while the wait runs (the database accepting connections): a running
   * container of theirs that never restarted need not have been up STARTED_MS. `settled` resolves when the
   * set will not grow any more (the wait then looks again at once).
   */
  proven?: { services: ReadonlySet<string>; settled: Promise<unknown> };
}

export interface WaitResult {
  /** Services that ran to completion with exit code 0 (migrators, seeders): done, not down. */
  oneShots: string[];
}

/**
 * Waits until the stack really came up, which `docker compose up --wait` (2.26) cannot tell for one-shot
 * services and disabled healthchecks: every long-running service running (healthy where it has a
 * healthcheck; stable for a while if it restarted), every one-shot service exited 0. Fails at once, naming
 * the service with its exit code or restart count and the tail of its log, when one exits non-zero,
 * turns unhealthy or crash-loops; and at the deadline, naming what is not up yet.
 */
export async function waitForServices(deps: Deps, options: WaitOptions): Promise<WaitResult> {
  const restarted = new Set<string>(); // container ids seen restarting: they must prove they are stable
  let announced = false;
  // Raced against each pause until it settles (a proof, or none coming), then no more.
  const settled = () => {
    proving = undefined;
  };
  let proving: Promise<void> | undefined = options.proven?.settled.then(settled, settled);
  const proven = (d: ContainerDetail) => d.restartCount === 0 && (options.proven?.services.has(d.service) ?? false);
  // How long a container has been up: by the engine's clock, or — when that clock runs ahead of ours (a VM's
  // drift) — since this wait first saw the start, so a skewed clock cannot hold the wait forever. Ages are
  // taken with deps.now() (the tests' clock can stand still), the deadline with the real clock.
  const seen = new Map<string, number>();
  const upFor = (d: Pick<ContainerDetail, 'id' | 'startedAt'>) => {
    const now = deps.now().getTime();
    const key = `${d.id}@${d.startedAt}`;
    if (!seen.has(key)) seen.set(key, now);
    return Math.max(now - Date.parse(d.startedAt), now - (seen.get(key) as number));
  };
  for (;;) {
    let pause = POLL_MS;
    if (options.signal?.aborted) throw new EnvsError('CANCELLED', 'Cancelled.');
    const containers = (await deps.engine.containers({ 'com.docker.compose.project': options.project })).filter(
      (c) => c.labels['com.docker.compose.oneoff'] !== 'True' && c.service in options.services,
    );
    const suspicious = containers.filter((c) => c.state !== 'running' || restarted.has(c.id));
    const details = new Map((await deps.engine.inspect(suspicious.map((c) => c.id))).map((d) => [d.id, d]));
    const verdicts = containers.map((c) =>
      judge(c, details.get(c.id), options.services[c.service] ?? {}, options.oneShots.has(c.service), restarted, upFor),
    );

    const failed = verdicts.find((v) => v.kind === 'failed');
    if (failed && failed.kind === 'failed') throw await serviceFailed(deps, failed, options.scrub);

    const waiting = verdicts.filter((v) => v.kind === 'waiting');
    if (waiting.length === 0) {
      // Everything looks up: one more look at every running container, to catch one that died right after
      // starting (it was running when listed) or that has not been running for long.
      const all = await deps.engine.inspect(containers.filter((c) => !details.has(c.id)).map((c) => c.id));
      const left = (d: ContainerDetail) => (d.restartCount > 0 ? STABLE_MS : STARTED_MS) - upFor(d);
      const shaky = all.filter((d) => d.status !== 'running' || (left(d) > 0 && !proven(d)));
      if (shaky.length === 0) {
        return { oneShots: [...new Set(verdicts.filter((v) => v.kind === 'done').map((v) => v.service))].sort() };
      }
      for (const d of shaky) if (d.restartCount > 0) restarted.add(d.id);
      if (Date.now() >= options.deadline) {
        throw timedOut(
          options.project,
          shaky.map((d) => `${printable(d.service)} (${d.status === 'running' ? 'just started' : d.status})`),
        );
      }
      // Only young ones: look again when the youngest has been up long enough, not a whole poll later.
      if (shaky.every((d) => d.status === 'running')) pause = Math.max(10, Math.min(POLL_MS, Math.max(...shaky.map(left)) + 5));
    } else if (Date.now() >= options.deadline) {
      throw timedOut(
        options.project,
        waiting.map((v) => `${printable(v.service)} (${v.why})`),
      );
    } else if (!announced && waiting.length > 0) {
      announced = true;
      options.onProgress?.({ step: 'wait', message: `waiting for ${[...new Set(waiting.map((v) => v.service))].join(', ')}` });
    }
    const pausing = sleep(pause, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
    await (proving ? Promise.race([pausing, proving]) : pausing);
  }
}

function timedOut(project: string, what: string[]): EnvsError {
  return new EnvsError('SERVICE_FAILED', `Timed out waiting for ${[...new Set(what)].join(', ')}.`, {
    hint: `See what they say with \`docker compose -p ${project} logs\`; raise up.waitTimeout in envs.yaml if they only need longer.`,
  });
}

/**
 * After a failed `docker compose up`: the service that made it fail (a dependency that exited non-zero or
 * turned unhealthy), as the same error the wait gives, with its log; undefined when no service explains it.
 */
export async function diagnoseServices(
  deps: Deps,
  options: Pick<WaitOptions, 'project' | 'services' | 'oneShots' | 'scrub'>,
): Promise<EnvsError | undefined> {
  const containers = (await deps.engine.containers({ 'com.docker.compose.project': options.project })).filter(
    (c) => c.labels['com.docker.compose.oneoff'] !== 'True' && c.service in options.services,
  );
  const details = new Map((await deps.engine.inspect(containers.map((c) => c.id))).map((d) => [d.id, d]));
  for (const c of containers) {
    const verdict = judge(
      c,
      details.get(c.id),
      options.services[c.service] ?? {},
      options.oneShots.has(c.service),
      new Set(),
      (d) => Date.now() - Date.parse(d.startedAt),
    );
    if (verdict.kind === 'failed') return serviceFailed(deps, verdict, options.scrub);
  }
  return undefined;
}

type Verdict =
  | { kind: 'up' | 'done'; service: string }
  | { kind: 'waiting'; service: string; why: string }
  | { kind: 'failed'; service: string; id: string; why: string };

/** A policy under which Docker does not restart a service that exited 0: `restart: no` (the default) or `on-failure`. */
function isOneShotPolicy(restart: unknown): boolean {
  return restart === undefined || restart === 'no' || (typeof restart === 'string' && restart.startsWith('on-failure'));
}

/**
 * The services that are jobs (migrators, seeders, setup), whose exit 0 is "done", not "down". Docker must not
 * restart them (`restart: no`, Compose's default, or `on-failure`), and nothing may say they serve: another
 * service waiting for them to complete (`condition: service_completed_successfully`) makes them jobs; a
 * published port, a healthcheck, or being the env's database makes them servers, whose exit is an outage.
 */
export function oneShotServices(services: Record<string, Service>, database?: string): Set<string> {
  const awaited = new Set<string>();
  for (const service of Object.values(services)) {
    const dependsOn = service.depends_on;
    if (!dependsOn || typeof dependsOn !== 'object' || Array.isArray(dependsOn)) continue;
    for (const [name, how] of Object.entries(dependsOn as Record<string, { condition?: unknown } | null>)) {
      if (how?.condition === 'service_completed_successfully') awaited.add(name);
    }
  }
  const serves = (name: string, service: Service) =>
    name === database ||
    (service.ports ?? []).length > 0 ||
    (typeof service.healthcheck === 'object' && service.healthcheck !== null && !(service.healthcheck as { disable?: unknown }).disable);
  return new Set(
    Object.entries(services)
      .filter(([name, service]) => isOneShotPolicy(service.restart) && (awaited.has(name) || !serves(name, service)))
      .map(([name]) => name),
  );
}

function judge(
  c: ContainerSummary,
  detail: ContainerDetail | undefined,
  service: Service,
  oneShot: boolean,
  restarted: Set<string>,
  upFor: (d: ContainerDetail) => number,
): Verdict {
  const name = c.service;
  if (detail && detail.restartCount > 0) restarted.add(c.id);
  const restarts = detail?.restartCount ?? 0;
  if (restarts >= CRASH_LOOP_RESTARTS && c.state !== 'running') {
    return {
      kind: 'failed',
      service: name,
      id: c.id,
      why: `keeps restarting (${restarts} restarts, last exit code ${detail?.exitCode ?? '?'})`,
    };
  }
  if (c.state === 'running') {
    if (c.health === 'unhealthy') return { kind: 'failed', service: name, id: c.id, why: 'is unhealthy' };
    if (c.health === 'health: starting') return { kind: 'waiting', service: name, why: 'health check starting' };
    if (restarted.has(c.id) && detail && upFor(detail) < STABLE_MS) {
      return { kind: 'waiting', service: name, why: `restarted ${restarts} time(s)` };
    }
    return { kind: 'up', service: name };
  }
  if (c.state.startsWith('exited')) {
    const code = detail?.exitCode ?? Number(/exited\((\d+)\)/.exec(c.state)?.[1] ?? Number.NaN);
    const policy = detail?.restartPolicy ?? String(service.restart ?? 'no');
    const restartsIt = policy === 'always' || policy === 'unless-stopped' || (policy.startsWith('on-failure') && code !== 0);
    if (code === 0 && oneShot) return { kind: 'done', service: name };
    if (restartsIt) return { kind: 'waiting', service: name, why: `exited ${code}, restarting` };
    return { kind: 'failed', service: name, id: c.id, why: `exited with code ${code}` };
  }
  if (c.state === 'restarting') return { kind: 'waiting', service: name, why: `restarting (${restarts})` };
  if (c.state === 'dead' || c.state === 'paused') return { kind: 'failed', service: name, id: c.id, why: `is ${c.state}` };
  return { kind: 'waiting', service: name, why: c.state };
}

async function serviceFailed(
  deps: Deps,
  failed: { service: string; id: string; why: string },
  scrub: (text: string) => string,
): Promise<EnvsError> {
  const log = await deps.engine.logs(failed.id, LOG_LINES).catch(() => '');
  const tail = log.trim() ? `\n${scrub(lastLines(log, LOG_LINES))}` : ' (it printed nothing)';
  return new EnvsError('SERVICE_FAILED', `Service ${printable(failed.service)} ${failed.why}. Its last output:${tail}`, {
    hint: 'Fix what its output names (on the branch: compose file, code, or the env files it reads) and run the command again.',
    details: { service: failed.service, reason: failed.why },
  });
}
