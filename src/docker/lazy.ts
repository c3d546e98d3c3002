import type { ContainerDetail, ContainerSummary, Engine, EngineInfo, LabeledResources } from '../core/deps.ts';
import { dockerodeOptions } from './endpoint.ts';
import type { DockerodeEngine } from './engine.ts';
import { unavailable } from './errors.ts';
import { infoOverSocket } from './ping.ts';

const INFO_TIMEOUT_MS = 5_000;

/**
 * The engine client. dockerode and its dependencies take ~55 ms to import, so they load on first use or
 * when core says a long wait is starting (`prepare`, called while `compose up`/`down` runs); the ping
 * before any side effect goes straight to the socket.
 */
export class LazyEngine implements Engine {
  private readonly endpoint: string;
  private readonly connection: Record<string, string>;
  private loaded: Promise<DockerodeEngine> | undefined;

  /** `connection`: the endpoint's connection variables (EngineEndpoint.env), e.g. a context's TLS files. */
  constructor(endpoint: string, connection: Record<string, string> = {}) {
    this.endpoint = endpoint;
    this.connection = connection;
  }

  prepare(): void {
    // On the next turn of the event loop: the caller's subprocess gets started first, then the import's
    // ~55 ms of CPU runs while that subprocess works.
    setImmediate(() => void this.engine().catch(() => {}));
  }

  private engine(): Promise<DockerodeEngine> {
    this.loaded ??= import('./engine.ts').then(({ DockerodeEngine }) => new DockerodeEngine(this.endpoint, this.connection));
    return this.loaded;
  }

  async info(): Promise<EngineInfo> {
    const socket = dockerodeOptions(this.endpoint, this.connection).socketPath;
    if (!socket) return (await this.engine()).info();
    try {
      const info = await infoOverSocket(socket, INFO_TIMEOUT_MS);
      return { id: info.ID ?? '', version: info.ServerVersion ?? '', endpoint: this.endpoint };
    } catch (error) {
      throw unavailable(this.endpoint, error);
    }
  }

  async containers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return (await this.engine()).containers(labels);
  }

  async labeled(labels: Record<string, string>): Promise<LabeledResources> {
    return (await this.engine()).labeled(labels);
  }

  async remove(resources: LabeledResources): Promise<void> {
    return (await this.engine()).remove(resources);
  }

  async inspect(ids: string[]): Promise<ContainerDetail[]> {
    return (await this.engine()).inspect(ids);
  }

  async logs(id: string, tail: number): Promise<string> {
    return (await this.engine()).logs(id, tail);
  }

  async imagesPresent(refs: string[]): Promise<Set<string>> {
    return (await this.engine()).imagesPresent(refs);
  }

  async removeAsRoot(options: { parent: string; name: string; image: string; project: string }): Promise<void> {
    return (await this.engine()).removeAsRoot(options);
  }

  async networkSubnets(exceptProject?: string): Promise<string[]> {
    return (await this.engine()).networkSubnets(exceptProject);
  }
}
