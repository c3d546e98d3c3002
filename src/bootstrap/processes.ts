import { appendFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join, resolve, sep } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Progress } from '../core/converge.ts';
import type { PortLeases, PortProbe } from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import type { PortRange } from '../ports/allocate.ts';
import { LoopbackProbe } from '../ports/probe.ts';
import { DEFAULT_GRACE_MS, groupMembers, isAlive, killGroup, logTail, processIdentity, sleep, startDetached } from '../process/group.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { describeCommand, launcherArgv, launcherFromFile, runFileText, type UserCommand } from './command.ts';
import { readState as readStateFile, readStatus } from './state-file.ts';
import { closeSessionSparingAgents, openWindow, serverFromEnv, sessionPanes, type TmuxServer, tmuxAvailable } from './tmux.ts';

/**
 * Host processes (`processes:` in envs.yaml): dev servers and workers started per env, each with PORT set
 * to a port leased for it and all the env's variables, stopped as whole process groups.
 *
 * Where they run: in a tmux session named after the env (the Compose project name, unique on the machine),
 * one window per process, when tmux is installed (ENVS_TMUX=0 says not to); else as detached process groups
 * (setsid). Either way each is started by the launcher of command.ts, which records its exit code, and its
 * output is appended to `<state dir>/logs/<name>.log` (0600).
 *
 * State lives in `<state dir>/processes.json` (the env's directory under ENVS_HOME: StatePaths.envFiles).
 */
export interface ProcessSpec {
  name: string;
  command: UserCommand;
  /** The port it listens on in the main checkout; the env leases its own. */
  port?: number;
  /** Repository-relative directory. */
  cwd?: string;
  env?: Record<string, string>;
}

export type ProcessMode = 'tmux' | 'group';

export interface ProcessState {
  name: string;
  state: 'running' | 'exited' | 'stopped';
  /** exited: its exit code; null when unknown (killed by a signal from outside). */
  exitCode?: number | null;
  /** The launcher: leader of the process's group and session. */
  pid: number;
  /** The leased host port it was given as PORT. */
  port?: number;
  mode: ProcessMode;
  log: string;
  command: string;
  startedAt: string;
  stoppedAt?: string;
}

interface Entry {
  pid: number;
  /** See processIdentity: with the pid, tells our launcher from a later process with the same pid. */
  identity: string;
  port?: number;
  command: string;
  cwd: string;
  log: string;
  status: string;
  startedAt: string;
  stoppedAt?: string;
}

interface StateFile {
  version: 1;
  mode: ProcessMode;
  tmux?: { socketPath: string; session: string };
  processes: Record<string, Entry>;
}

/** The processes of envs.yaml as specs, in file order. */
export function processSpecs(config: Config['processes']): ProcessSpec[] {
  return Object.entries(config ?? {}).map(([name, p]) => ({
    name,
    command: p.command,
    ...(p.port !== undefined ? { port: p.port } : {}),
    ...(p.cwd !== undefined ? { cwd: p.cwd } : {}),
    ...(p.env !== undefined ? { env: p.env } : {}),
  }));
}

export function processPaths(stateDir: string) {
  return {
    state: join(stateDir, 'processes.json'),
    logs: join(stateDir, 'logs'),
    run: join(stateDir, 'run'),
    log: (name: string) => join(stateDir, 'logs', `${name}.log`),
    status: (name: string) => join(stateDir, 'run', `${name}.status`),
    runFile: (name: string) => join(stateDir, 'run', `${name}.sh`),
  };
}

// ---------------------------------------------------------------- ports

export const processLeaseKey = (name: string) => `process:${name}`;

export interface LeaseOptions {
  ports: PortLeases;
  owner: { project: string; repo: string; env: string };
  processes: readonly ProcessSpec[];
  range: PortRange;
  /** The env's state directory: ports its own running processes hold are not "taken". */
  stateDir: string;
  probe?: PortProbe;
}

/**
 * Leases a host port for each process that has a `port` (kind `process` in the machine-wide registry, so
 * the env's compose leases are kept and vice versa). A process keeps its port across down/up; a port that
 * someone else took while the env was down is moved.
 */
export async function leaseProcessPorts(options: LeaseOptions): Promise<Record<string, number>> {
  const probe = options.probe ?? new LoopbackProbe();
  const requests = options.processes
    .filter((p) => p.port !== undefined)
    .map((p) => ({ key: processLeaseKey(p.name), protocol: 'tcp' as const }));
  const ours = new Set((await processStates(options.stateDir)).filter((p) => p.state === 'running' && p.port).map((p) => p.port));
  const avoid = new Set<number>();
  for (let attempt = 0; ; attempt++) {
    const leases = (await options.ports.reserve({ owner: options.owner, requests, range: options.range, avoid, kind: 'process' })).filter(
      (l) => l.kind === 'process',
    );
    const taken: number[] = [];
    for (const lease of leases) if (!ours.has(lease.port) && !(await probe.isFree(lease.port, 'tcp'))) taken.push(lease.port);
    if (taken.length === 0 || attempt >= 3) {
      return Object.fromEntries(
        options.processes
          .filter((p) => p.port !== undefined)
          .map((p) => [p.name, leases.find((l) => l.key === processLeaseKey(p.name))?.port as number]),
      );
    }
    for (const port of taken) avoid.add(port);
  }
}

// ---------------------------------------------------------------- start

export interface StartOptions {
  /** The env's state directory (StatePaths.envFiles(repoId, name)). */
  stateDir: string;
  /** The tmux session: the env's Compose project name. */
  session: string;
  worktree: string;
  processes: readonly ProcessSpec[];
  /** The leased host port of each process that has one (leaseProcessPorts). */
  ports: Record<string, number>;
  /** The env's variables. */
  env: Record<string, string>;
  /** Default: process.env (in tmux: its PATH only; the rest comes from the tmux server). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Default: tmux when installed, unless ENVS_TMUX=0 in baseEnv. */
  mode?: ProcessMode;
  /** For stopping what still runs first: SIGTERM → SIGKILL delay. Default 5 s. */
  graceMs?: number;
  /** When > 0: wait until each process with a port answers on it (TCP), failing with its output's tail. */
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: Progress;
  /** Values to mask in an error's output tail. */
  redact?: Iterable<string>;
}

/**
 * Starts (or restarts: whatever of this env still runs is stopped first) the env's processes. Returns their
 * states. With readyTimeoutMs, waits for each port to answer; a process that exits first, or does not
 * answer in time, fails with PROCESS_FAILED and the tail of its log (the others keep running).
 */
export async function startProcesses(options: StartOptions): Promise<ProcessState[]> {
  await stopProcesses({
    stateDir: options.stateDir,
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (options.processes.length === 0) return [];
  const baseEnv = options.baseEnv ?? process.env;
  const paths = processPaths(options.stateDir);
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });
  await mkdir(paths.run, { recursive: true, mode: 0o700 });
  const mode = options.mode ?? (baseEnv.ENVS_TMUX !== '0' && (await tmuxAvailable(baseEnv)) ? 'tmux' : 'group');
  const server = serverFromEnv(baseEnv);
  const state: StateFile = { version: 1, mode, processes: {} };
  if (mode === 'tmux') {
    // A session of this name is this env's (the name is its Compose project) but unrecorded, e.g. its state
    // file was lost: stop what runs in it rather than add windows beside it. An agent's windows (envs agent)
    // are spared: the agent's work outlives a restart of the dev servers.
    for (const pane of await sessionPanes(server, options.session)) {
      if (!pane.agent) await killGroup(pane.pid, { graceMs: options.graceMs ?? DEFAULT_GRACE_MS });
    }
    await closeSessionSparingAgents(server, options.session);
  }

  for (const spec of options.processes) {
    if (options.signal?.aborted) throw new EnvsError('CANCELLED', 'Cancelled while starting processes.');
    const cwd = resolve(options.worktree, spec.cwd ?? '.');
    if (cwd !== resolve(options.worktree) && !cwd.startsWith(resolve(options.worktree) + sep)) {
      throw new EnvsError('CONFIG_INVALID', `processes.${spec.name}.cwd must be inside the worktree.`);
    }
    if (
      !(await stat(cwd).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    ) {
      throw new EnvsError('PROCESS_FAILED', `processes.${spec.name}.cwd: ${spec.cwd} is not a directory in the worktree.`, {
        hint: 'Fix `cwd` in envs.yaml (repository-relative), then run `envs up` again.',
      });
    }
    const port = options.ports[spec.name];
    if (spec.port !== undefined && port === undefined) throw new Error(`no port leased for process ${spec.name}`);
    const vars: Record<string, string> = {
      ...options.env,
      ...spec.env,
      ENVS_PROCESS: spec.name,
      ...(port !== undefined ? { PORT: String(port) } : {}),
    };
    const log = paths.log(spec.name);
    const status = paths.status(spec.name);
    const command = describeCommand(spec.command);
    await rotate(log);
    await rm(status, { force: true });
    const startedAt = new Date().toISOString();
    await appendFile(log, `\n--- envs: ${spec.name} started ${startedAt}${port ? ` with PORT=${port}` : ''}: ${command}\n`, {
      mode: 0o600,
    });
    options.onProgress?.({
      step: 'processes',
      message: `${spec.name}: ${command}${port ? ` (PORT=${port})` : ''}${mode === 'tmux' ? ` in tmux ${options.session}` : ''}`,
    });

    let pid: number;
    if (mode === 'tmux') {
      const runFile = paths.runFile(spec.name);
      await writeFile(runFile, runFileText({ ...(baseEnv.PATH ? { PATH: baseEnv.PATH } : {}), ...vars }, spec.command), { mode: 0o600 });
      const launcher = launcherFromFile(runFile, status);
      const opened = await openWindow(server, {
        session: options.session,
        window: spec.name,
        cwd,
        argv: [launcher.file, ...launcher.args],
        logFile: log,
        env: baseEnv,
      }).catch((error: Error) => {
        throw new EnvsError('PROCESS_FAILED', `Could not start ${spec.name} in tmux: ${error.message}`, {
          hint: 'ENVS_TMUX=0 runs the processes as process groups instead of in tmux.',
        });
      });
      pid = opened.pid;
      state.tmux = { socketPath: opened.socketPath, session: options.session };
    } else {
      const launcher = launcherArgv(spec.command, status);
      pid = await startDetached(launcher.file, launcher.args, { cwd, env: { ...baseEnv, ...vars }, logFile: log });
    }
    state.processes[spec.name] = {
      pid,
      identity: await processIdentity(pid),
      ...(port !== undefined ? { port } : {}),
      command,
      cwd,
      log,
      status,
      startedAt,
    };
    await writeState(paths.state, state); // after each: a failure half-way still lets stop find what runs
  }

  if ((options.readyTimeoutMs ?? 0) > 0) await waitForPorts(options.stateDir, options.readyTimeoutMs as number, options);
  return processStates(options.stateDir);
}

/** Waits until every running process with a port accepts a TCP connection on 127.0.0.1 or ::1. */
async function waitForPorts(stateDir: string, timeoutMs: number, options: StartOptions): Promise<void> {
  const started = performance.now();
  const pending = new Set((await processStates(stateDir)).filter((p) => p.port !== undefined).map((p) => p.name));
  while (pending.size > 0) {
    if (options.signal?.aborted) throw new EnvsError('CANCELLED', 'Cancelled while waiting for processes.');
    for (const state of await processStates(stateDir)) {
      if (!pending.has(state.name)) continue;
      if (state.state !== 'running')
        throw await failed(
          state,
          `exited${state.exitCode != null ? ` with code ${state.exitCode}` : ''} before answering on port ${state.port}`,
          options,
        );
      if (await answers(state.port as number)) {
        pending.delete(state.name);
        options.onProgress?.({
          step: 'processes',
          message: `${state.name} answers on 127.0.0.1:${state.port} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        });
      }
    }
    if (pending.size === 0) break;
    if (performance.now() - started > timeoutMs) {
      const [name] = pending;
      const state = (await processStates(stateDir)).find((p) => p.name === name) as ProcessState;
      throw await failed(state, `did not answer on port ${state.port} within ${Math.round(timeoutMs / 1000)} s`, options);
    }
    await sleep(100);
  }
}

async function failed(state: ProcessState, what: string, options: StartOptions): Promise<EnvsError> {
  let tail = await logTail(state.log, 0, 20);
  for (const secret of options.redact ?? []) if (secret.length >= 4) tail = tail.split(secret).join('***');
  return new EnvsError('PROCESS_FAILED', `Process ${state.name} (${state.command}) ${what}${tail ? `:\n${tail}` : '.'}`, {
    hint: `Does it listen on $PORT? Its full output: ${state.log}`,
    details: { process: state.name, log: state.log, tail },
  });
}

function answers(port: number): Promise<boolean> {
  const one = (host: string) =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1_000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  return one('127.0.0.1').then((ok) => ok || one('::1'));
}

// ---------------------------------------------------------------- stop and state

export interface StopOptions {
  stateDir: string;
  /** SIGTERM → SIGKILL delay. Default 5 s. */
  graceMs?: number;
  onProgress?: Progress;
}

/**
 * Stops every process of the env: the whole process group (and session) of each, SIGTERM then SIGKILL
 * after the grace period, so nothing survives (not even children that ignore SIGHUP); then its tmux
 * session (all but an agent's windows, while one is there: see tmux.ts). Idempotent; a process already
 * gone is left as it ended.
 */
export async function stopProcesses(options: StopOptions): Promise<void> {
  const paths = processPaths(options.stateDir);
  const state = await readState(paths.state);
  if (!state) return;
  const now = new Date().toISOString();
  await Promise.all(
    Object.entries(state.processes).map(async ([name, entry]) => {
      if (entry.stoppedAt) return;
      // Without an identity (the launcher was gone before we looked) there is no proof the pid is still ours.
      if (!entry.identity && (await procAvailable())) return;
      const how = await killGroup(entry.pid, { graceMs: options.graceMs ?? DEFAULT_GRACE_MS, identity: entry.identity });
      if (how === 'gone') return; // it had ended by itself: it stays "exited" with its code
      entry.stoppedAt = now;
      options.onProgress?.({ step: 'processes', message: `stopped ${name}${how === 'killed' ? ' (killed after the grace period)' : ''}` });
    }),
  );
  if (state.tmux) await closeSessionSparingAgents({ socketPath: state.tmux.socketPath }, state.tmux.session).catch(() => {});
  await writeState(paths.state, state);
}

/** Each process's state now: running, exited (with its code), or stopped (by envs), with pid and port. */
export async function processStates(stateDir: string): Promise<ProcessState[]> {
  const state = await readState(processPaths(stateDir).state);
  if (!state) return [];
  return Promise.all(
    Object.entries(state.processes).map(async ([name, entry]) => {
      const base = {
        name,
        pid: entry.pid,
        ...(entry.port !== undefined ? { port: entry.port } : {}),
        mode: state.mode,
        log: entry.log,
        command: entry.command,
        startedAt: entry.startedAt,
      };
      if (entry.stoppedAt) return { ...base, state: 'stopped' as const, stoppedAt: entry.stoppedAt };
      const code = await readStatus(entry.status);
      if (code === undefined && (await stillRunning(entry))) return { ...base, state: 'running' as const };
      return { ...base, state: 'exited' as const, exitCode: code ?? null };
    }),
  );
}

/** The tmux session of the env's processes, when they run in one. */
export async function processSession(stateDir: string): Promise<{ server: TmuxServer; session: string } | undefined> {
  const state = await readState(processPaths(stateDir).state);
  return state?.tmux ? { server: { socketPath: state.tmux.socketPath }, session: state.tmux.session } : undefined;
}

/**
 * The launcher is alive (and the same process: its start time matches where /proc can tell), or it died
 * without recording a code (killed from outside, e.g. its tmux server went) while part of its tree lives on.
 */
async function stillRunning(entry: Entry): Promise<boolean> {
  const proc = await procAvailable();
  if (proc && !entry.identity) return false; // gone before we could identify it
  if (await isAlive(entry.pid, entry.identity)) return true;
  return proc && (await groupMembers(entry.pid)).length > 0;
}

function readState(file: string): Promise<StateFile | undefined> {
  return readStateFile<StateFile>(file, 'processes', 'a process state');
}

async function writeState(file: string, state: StateFile): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** Logs grow across restarts; past 5 MiB the old one is kept as .1 and a new one begins. */
async function rotate(log: string): Promise<void> {
  const size = await stat(log).then(
    (s) => s.size,
    () => 0,
  );
  if (size > 5 * 1024 * 1024) await rename(log, `${log}.1`);
}

async function procAvailable(): Promise<boolean> {
  return stat('/proc/self/stat').then(
    () => true,
    () => false,
  );
}
