import type { Socket } from 'node:net';
import type {
  ContainerDetail,
  ContainerSummary,
  DirsSpec,
  Engine,
  EngineInfo,
  LabeledItem,
  LabeledResources,
  TaskSpec,
  VolumeInfo,
} from '../core/deps.ts';
import { EnvsError } from '../errors.ts';
import { debugTrace, since, type Trace } from '../process/trace.ts';
import { socketPathOf } from './endpoint.ts';
import type { DockerodeEngine } from './engine.ts';
import { unavailable } from './errors.ts';

/** How long an engine call may take before the engine counts as not answering. */
export const ENGINE_TIMEOUTS = {
  /** The ping before any side effect. */
  info: 5_000,
  /** Listing by label (`list`, `info`, read-backs): `list` answers within this even when the engine hangs. */
  read: 5_000,
  /** Removing what destroy's sweep found (force-removing a container stops it first). */
  remove: 60_000,
};

export interface EngineOptions {
  /** The environment the engine's address and TLS settings come from (never process.env). */
  env: NodeJS.ProcessEnv;
  /** Ends every call at once (Ctrl-C): the call fails with CANCELLED. */
  signal?: AbortSignal;
  timeouts?: Partial<typeof ENGINE_TIMEOUTS>;
}

/** What LazyEngine calls: the socket client or dockerode, each call with the signal that ends it. */
type Backend = Pick<
  DockerodeEngine,
  | 'containers'
  | 'labeled'
  | 'inventory'
  | 'remove'
  | 'inspect'
  | 'logs'
  | 'imagesPresent'
  | 'removeAsRoot'
  | 'networkSubnets'
  | 'volumes'
  | 'createVolume'
  | 'runTask'
  | 'makeDirs'
  | 'startTask'
> & { info(signal: AbortSignal, onSocket?: (socket: Socket) => void): Promise<EngineInfo> };

/**
 * The engine client. On a unix socket (the usual case) it speaks the Engine API's JSON itself
 * (socket-engine.ts); dockerode loads only for tcp/ssh endpoints and for what needs it there (logs, the
 * containers envs runs itself), in the background when core says a long wait is starting (`prepare`).
 * Every call has a timeout and ends on the signal: an engine that does not answer is DOCKER_UNAVAILABLE
 * within seconds, never a hang. With ENVS_DEBUG=1 every call is traced (method, duration, outcome).
 */
export class LazyEngine implements Engine {
  private readonly endpoint: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly signal: AbortSignal | undefined;
  private readonly timeouts: typeof ENGINE_TIMEOUTS;
  private readonly trace: Trace | undefined;
  private readonly socketPath: string | undefined;
  private dockerodeLoaded: Promise<DockerodeEngine> | undefined;
  private backendLoaded: Promise<Backend> | undefined;
  private early: { answer: Promise<EngineInfo>; claim: () => void } | undefined;

  constructor(endpoint: string, options: EngineOptions) {
    this.endpoint = endpoint;
    this.env = options.env;
    this.signal = options.signal;
    this.timeouts = { ...ENGINE_TIMEOUTS, ...options.timeouts };
    this.trace = debugTrace(options.env);
    this.socketPath = socketPathOf(endpoint);
  }

  prepare(): void {
    // dockerode's import is CPU work: on the next turn of the event loop, so the caller's subprocess
    // starts first and the import runs while it works. The socket client needs nothing loaded.
    if (!this.socketPath) setImmediate(() => void this.engine().catch(() => {}));
  }

  private dockerode(): Promise<DockerodeEngine> {
    this.dockerodeLoaded ??= import('./engine.ts').then(({ DockerodeEngine }) => new DockerodeEngine(this.endpoint, this.env));
    return this.dockerodeLoaded;
  }

  private engine(): Promise<Backend> {
    const socketPath = this.socketPath;
    this.backendLoaded ??= socketPath
      ? import('./socket-engine.ts').then(({ SocketEngine }) => new SocketEngine(socketPath, this.endpoint, () => this.dockerode()))
      : this.dockerode();
    return this.backendLoaded;
  }

  /**
   * Sends the ping now, while the command's code is still loading; the next `info()` gets its answer. Until
   * then the request does not keep the process alive: a command that fails first (no such env) exits at
   * once even when the engine hangs.
   */
  askEarly(): void {
    if (this.early || !this.socketPath) return;
    const answer = this.ping((socket: Socket) => socket.unref());
    answer.catch(() => {}); // consumed (and reported) by the next info()
    this.early = {
      answer,
      // Once waited for, the answer keeps the process alive — by a handle of its own, not by ref'ing the
      // socket: an answer that came first left the socket to http's keep-alive pool, where a ref'd socket
      // held every command that failed after it for the pool's 5 s.
      claim: () => {
        const hold = setInterval(() => {}, 60_000);
        answer.then(
          () => clearInterval(hold),
          () => clearInterval(hold),
        );
      },
    };
  }

  info(): Promise<EngineInfo> {
    const early = this.early;
    if (early) {
      this.early = undefined;
      early.claim();
      return early.answer;
    }
    return this.ping();
  }

  private ping(onSocket?: (socket: Socket) => void): Promise<EngineInfo> {
    return this.call('info', '', this.timeouts.info, 'all', async (signal) => (await this.engine()).info(signal, onSocket));
  }

  containers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.call('containers', showLabels(labels), this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).containers(labels, signal),
    );
  }

  labeled(labels: Record<string, string>): Promise<LabeledResources> {
    return this.call('labeled', showLabels(labels), this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).labeled(labels, signal),
    );
  }

  inventory(labels: Record<string, string>): Promise<LabeledItem[]> {
    return this.call('inventory', showLabels(labels), this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).inventory(labels, signal),
    );
  }

  remove(resources: LabeledResources): Promise<void> {
    const what = `${resources.containers.length} containers, ${resources.volumes.length} volumes, ${resources.networks.length} networks, ${resources.images.length} images`;
    // An engine that answers "in use" is an answer (destroy reports what is left); only silence is unavailability.
    return this.call('remove', what, this.timeouts.remove, 'silence', async (signal) => (await this.engine()).remove(resources, signal));
  }

  inspect(ids: string[]): Promise<ContainerDetail[]> {
    return this.call('inspect', `${ids.length} containers`, this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).inspect(ids, signal),
    );
  }

  logs(id: string, tail: number): Promise<string> {
    return this.call('logs', `${id.slice(0, 12)} tail ${tail}`, this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).logs(id, tail, signal),
    );
  }

  imagesPresent(refs: string[]): Promise<Set<string>> {
    return this.call('images', refs.join(','), this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).imagesPresent(refs, signal),
    );
  }

  networkSubnets(exceptProject?: string): Promise<string[]> {
    return this.call('networks', '', this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).networkSubnets(exceptProject, signal),
    );
  }

  removeAsRoot(options: { parent: string; name: string; image: string; project: string }): Promise<void> {
    return this.call('removeAsRoot', options.name, this.timeouts.remove, 'silence', async (signal) =>
      (await this.engine()).removeAsRoot(options, signal),
    );
  }

  volumes(labels: Record<string, string>): Promise<VolumeInfo[]> {
    return this.call('volumes', showLabels(labels), this.timeouts.read, 'all', async (signal) =>
      (await this.engine()).volumes(labels, signal),
    );
  }

  createVolume(spec: {
    name: string;
    labels: Record<string, string>;
    driver?: string;
    options?: Record<string, string>;
  }): Promise<VolumeInfo> {
    return this.call('createVolume', spec.name, this.timeouts.remove, 'silence', async (signal) =>
      (await this.engine()).createVolume(spec, signal),
    );
  }

  runTask(task: TaskSpec): Promise<{ exitCode: number; output: string }> {
    return this.call('runTask', task.cmd.join(' '), task.timeoutMs, 'silence', async (signal) =>
      (await this.engine()).runTask(task, signal),
    );
  }

  startTask(task: TaskSpec): Promise<void> {
    return this.call('startTask', task.cmd.join(' '), this.timeouts.remove, 'silence', async (signal) =>
      (await this.engine()).startTask(task, signal),
    );
  }

  makeDirs(spec: DirsSpec): Promise<void> {
    const what = `${spec.mount.source}: ${spec.dirs.map((d) => d.path).join(' ')}`;
    return this.call('makeDirs', what, this.timeouts.remove, 'silence', async (signal) => (await this.engine()).makeDirs(spec, signal));
  }

  /**
   * One engine call with its deadline and the command's signal. `unavailable`: which failures mean the
   * engine is not there — `all` for reads and the ping, `silence` (no connection, no answer in time) for
   * removals, whose other failures are the engine's answer.
   */
  private async call<T>(
    method: string,
    args: string,
    timeoutMs: number,
    unavailableOn: 'all' | 'silence',
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    const started = performance.now();
    const traced = (outcome: string) => this.trace?.(`engine ${method}${args ? ` ${args}` : ''} → ${outcome} in ${since(started)}`);
    try {
      const result = await untilAborted(fn(signal), signal);
      traced(`ok${Array.isArray(result) ? ` (${result.length})` : ''}`);
      return result;
    } catch (error) {
      if (this.signal?.aborted) {
        traced('cancelled');
        throw new EnvsError('CANCELLED', 'Cancelled.');
      }
      if (timeout.aborted) {
        traced(`no answer within ${timeoutMs / 1000} s`);
        throw unavailable(this.endpoint, new Error(`no answer within ${timeoutMs / 1000} s`));
      }
      traced(`failed: ${error instanceof Error ? error.message : String(error)}`);
      if (unavailableOn === 'all' || isConnectionError(error)) throw unavailable(this.endpoint, error);
      throw error;
    }
  }
}

/** Rejects as soon as the signal fires, even if the call underneath does not listen to it. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The call underneath started anyway and will reject on its own: nobody else waits for it, and an
    // unhandled rejection ends the process (a long-lived `envs mcp` whose client cancelled a create).
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function isConnectionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code !== undefined && ['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EACCES', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code);
}

function showLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
}
