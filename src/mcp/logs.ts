import { stripVTControlCharacters } from 'node:util';
import { showLog } from '../bootstrap/logs.ts';
import { processStates } from '../bootstrap/processes.ts';
import { composeLogsCommand } from '../compose/logs.ts';
import type { Deps } from '../core/deps.ts';
import { resolveEnv } from '../core/resolve.ts';
import { EnvsError } from '../errors.ts';
import { run } from '../process/run.ts';

/** Bytes kept of the services' logs. */
const LOGS_LIMIT = 512 * 1024;

export interface LogsResult {
  /** The last lines of each host process's log, by process. */
  processes: Record<string, string>;
  /** `docker compose logs --tail N` of the env's services (or the one asked for), prefixed by service. */
  services: string;
  truncated: boolean;
}

/** `logs` for a tool call: the last `tail` lines of the env's processes and services, never a follow. */
export async function recentLogs(
  deps: Deps,
  arg: string,
  options: { name?: string; tail: number; env: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<LogsResult> {
  const record = await resolveEnv(deps, arg, deps.cwd);
  const processes = await processStates(deps.records.envDir(record.name));
  const wantedProcesses = processes.filter((p) => options.name === undefined || p.name === options.name);
  const wantedServices = record.services.filter((s) => options.name === undefined || s === options.name);
  if (options.name !== undefined && wantedProcesses.length === 0 && wantedServices.length === 0) {
    const known = [...record.services, ...processes.map((p) => p.name)];
    throw new EnvsError('USAGE', `${record.branch} has no service or process named "${options.name}".`, {
      hint: known.length > 0 ? `Its services and processes: ${known.join(', ')}.` : 'It has neither services nor processes.',
    });
  }
  const result: LogsResult = { processes: {}, services: '', truncated: false };
  for (const proc of wantedProcesses) {
    let text = '';
    await showLog(proc.log, { write: (lines) => (text += lines), tail: options.tail, signal: options.signal });
    result.processes[proc.name] = stripVTControlCharacters(text); // an agent reads text, not a terminal's controls
  }
  if (wantedServices.length === 0) return result;
  await deps.engine.info(); // an unreachable engine is DOCKER_UNAVAILABLE, not Compose's own words
  const compose = await composeLogsCommand(record, options.env, {
    tail: options.tail,
    noColor: true,
    ...(options.name !== undefined ? { name: options.name } : {}),
  });
  const logs = await run(compose.file, compose.args, { cwd: compose.cwd, env: compose.env, signal: options.signal, limit: LOGS_LIMIT });
  if (logs.spawnError) {
    throw new EnvsError(
      'COMPOSE_MISSING',
      `Cannot run ${compose.file} for the services' logs (${logs.spawnError.code ?? logs.spawnError.message}).`,
      {
        hint: 'Install Docker Compose v2, or point ENVS_COMPOSE at it; `envs doctor` checks it.',
      },
    );
  }
  if (logs.exitCode !== 0) {
    throw new EnvsError(
      'COMPOSE_FAILED',
      `docker compose logs failed for ${record.branch}: ${logs.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  result.services = stripVTControlCharacters(logs.stdout); // Compose writes \e[2K before each line even with --no-color
  result.truncated = Boolean(logs.truncated);
  return result;
}
