import Docker from 'dockerode';
import type { ContainerSummary, EngineInfo, LabeledResources, PublishedPort } from '../core/deps.ts';
import { dockerodeOptions } from './endpoint.ts';

/**
 * dockerode behind core's Engine (loaded lazily by lazy.ts, which adds the timeouts, cancellation and
 * traces). Every call takes the AbortSignal that ends it.
 */
export class DockerodeEngine {
  private readonly docker: Docker;
  private readonly endpoint: string;

  constructor(endpoint: string, env: NodeJS.ProcessEnv) {
    this.endpoint = endpoint;
    this.docker = new Docker(dockerodeOptions(endpoint, env));
  }

  async info(signal: AbortSignal): Promise<EngineInfo> {
    // dockerode takes the signal here too; its types omit the options argument of info().
    const info = (await (this.docker.info as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, {
      abortSignal: signal,
    })) as { ID?: string; ServerVersion?: string };
    return { id: info.ID ?? '', version: info.ServerVersion ?? '', endpoint: this.endpoint };
  }

  async containers(labels: Record<string, string>, signal: AbortSignal): Promise<ContainerSummary[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) }, abortSignal: signal });
    return list.map((container) => {
      const service = container.Labels['com.docker.compose.service'] ?? '';
      const ports: PublishedPort[] = (container.Ports ?? [])
        .filter((port) => port.PublicPort)
        .map((port) => ({ service, target: port.PrivatePort, published: port.PublicPort, host_ip: port.IP ?? '', protocol: port.Type }));
      const health = /\((healthy|unhealthy|health: starting)\)/.exec(container.Status ?? '')?.[1];
      return {
        id: container.Id,
        project: container.Labels['com.docker.compose.project'] ?? '',
        service,
        state: container.State === 'exited' ? `exited(${/Exited \((\d+)\)/.exec(container.Status)?.[1] ?? '?'})` : container.State,
        ...(health ? { health } : {}),
        labels: container.Labels,
        ports,
      };
    });
  }

  async labeled(labels: Record<string, string>, signal: AbortSignal): Promise<LabeledResources> {
    const filters = { label: labelFilters(labels) };
    const [containers, volumes, networks, images] = await Promise.all([
      this.docker.listContainers({ all: true, filters, abortSignal: signal }),
      this.docker.listVolumes({ filters, abortSignal: signal }),
      this.docker.listNetworks({ filters, abortSignal: signal }),
      this.docker.listImages({ filters, abortSignal: signal }),
    ]);
    return {
      containers: containers.map((c) => c.Id),
      volumes: (volumes.Volumes ?? []).map((v) => v.Name),
      networks: networks.map((n) => n.Id),
      images: images.flatMap((i) => (i.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>')),
    };
  }

  async remove(resources: LabeledResources, signal: AbortSignal): Promise<void> {
    const abortSignal = signal;
    // Containers first (they hold networks and volumes), then the rest; a resource already gone is fine.
    await Promise.all(
      resources.containers.map((id) => ignoreMissing(this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }))),
    );
    await Promise.all([
      ...resources.networks.map((id) => ignoreMissing(this.docker.getNetwork(id).remove({ abortSignal }))),
      ...resources.volumes.map((name) => ignoreMissing(this.docker.getVolume(name).remove({ abortSignal }))),
      // By tag: untags when another tag shares the image, deletes it otherwise.
      ...resources.images.map((tag) => ignoreMissing(this.docker.getImage(tag).remove({ abortSignal }))),
    ]);
  }
}

function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}

async function ignoreMissing(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}
