import Docker from 'dockerode';
import type { ContainerSummary, Engine, EngineInfo, LabeledResources, PublishedPort } from '../core/deps.ts';
import { dockerodeOptions } from './endpoint.ts';
import { unavailable } from './errors.ts';

const PING_TIMEOUT_MS = 5_000;

export class DockerodeEngine implements Omit<Engine, 'prepare'> {
  private readonly docker: Docker;
  private readonly endpoint: string;

  constructor(endpoint: string, connection: Record<string, string> = {}) {
    this.endpoint = endpoint;
    this.docker = new Docker(dockerodeOptions(endpoint, connection));
  }

  async info(): Promise<EngineInfo> {
    try {
      const info = (await withTimeout(this.docker.info(), PING_TIMEOUT_MS)) as { ID?: string; ServerVersion?: string };
      return { id: info.ID ?? '', version: info.ServerVersion ?? '', endpoint: this.endpoint };
    } catch (error) {
      throw unavailable(this.endpoint, error);
    }
  }

  async containers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) } });
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

  async labeled(labels: Record<string, string>): Promise<LabeledResources> {
    const filters = { label: labelFilters(labels) };
    const [containers, volumes, networks, images] = await Promise.all([
      this.docker.listContainers({ all: true, filters }),
      this.docker.listVolumes({ filters }),
      this.docker.listNetworks({ filters }),
      this.docker.listImages({ filters }),
    ]);
    return {
      containers: containers.map((c) => c.Id),
      volumes: (volumes.Volumes ?? []).map((v) => v.Name),
      networks: networks.map((n) => n.Id),
      images: images.flatMap((i) => (i.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>')),
    };
  }

  async remove(resources: LabeledResources): Promise<void> {
    // Containers first (they hold networks and volumes), then the rest; a resource already gone is fine.
    await Promise.all(resources.containers.map((id) => ignoreMissing(this.docker.getContainer(id).remove({ force: true, v: true }))));
    await Promise.all([
      ...resources.networks.map((id) => ignoreMissing(this.docker.getNetwork(id).remove())),
      ...resources.volumes.map((name) => ignoreMissing(this.docker.getVolume(name).remove())),
      // By tag: untags when another tag shares the image, deletes it otherwise.
      ...resources.images.map((tag) => ignoreMissing(this.docker.getImage(tag).remove())),
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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
