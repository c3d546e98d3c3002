import type { ContainerSummary, Engine, EngineInfo, LabeledResources } from '../core/deps.ts';

/**
 * The engine client, loaded on first use: dockerode and its dependencies take ~80 ms to import, which
 * commands that never talk to the engine should not pay, and `create` overlaps with Compose's own work.
 */
export class LazyEngine implements Engine {
  private readonly endpoint: string;
  private loaded: Promise<Engine> | undefined;

  constructor(endpoint: string) {
    this.endpoint = endpoint;
  }

  private engine(): Promise<Engine> {
    this.loaded ??= import('./engine.ts').then(({ DockerodeEngine }) => new DockerodeEngine(this.endpoint));
    return this.loaded;
  }

  async info(): Promise<EngineInfo> {
    return (await this.engine()).info();
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
}
