import type { ContainerDetail, ContainerSummary, LabeledItem, LabeledResources, PublishedPort, VolumeInfo } from '../core/deps.ts';

/**
 * The Engine API's JSON, turned into core's shapes. One place for both clients: the socket client
 * (socket-engine.ts) and dockerode (engine.ts) receive the same JSON, dockerode passing it through.
 */

/** The fields envs reads of `GET /containers/json`. */
export interface ApiContainer {
  Id: string;
  Names?: string[];
  Labels: Record<string, string>;
  State: string;
  Status: string;
  Ports?: { PrivatePort: number; PublicPort?: number; IP?: string; Type: string }[];
}

/** The fields envs reads of `GET /containers/{id}/json`. */
export interface ApiContainerDetail {
  Id: string;
  Config?: { Labels?: Record<string, string> | null; Tty?: boolean };
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string }; StartedAt?: string };
  RestartCount?: number;
  HostConfig?: { RestartPolicy?: { Name?: string } };
}

export interface ApiNetwork {
  Id: string;
  Name?: string;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string }[] | null };
}

export function containerSummary(container: ApiContainer): ContainerSummary {
  const service = container.Labels['com.docker.compose.service'] ?? '';
  const ports: PublishedPort[] = (container.Ports ?? [])
    .filter((port) => port.PublicPort)
    .map((port) => ({
      service,
      target: port.PrivatePort,
      published: port.PublicPort as number,
      host_ip: port.IP ?? '',
      protocol: port.Type,
    }));
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
}

export function containerDetail(d: ApiContainerDetail): ContainerDetail {
  return {
    id: d.Id,
    service: d.Config?.Labels?.['com.docker.compose.service'] ?? '',
    status: d.State?.Status ?? 'unknown',
    exitCode: d.State?.ExitCode ?? 0,
    restartCount: d.RestartCount ?? 0,
    ...(d.State?.Health?.Status ? { health: d.State.Health.Status as 'starting' | 'healthy' | 'unhealthy' } : {}),
    startedAt: d.State?.StartedAt ?? '',
    restartPolicy: d.HostConfig?.RestartPolicy?.Name || 'no',
  };
}

type Labelled = { Labels?: Record<string, string> | null };

/** The four lists of the Engine API as items with their labels (see Engine.inventory). */
export function labeledItems(lists: {
  containers: ({ Id: string; Names?: string[] } & Labelled)[];
  volumes: ({ Name: string } & Labelled)[];
  networks: ({ Id: string; Name?: string } & Labelled)[];
  images: ({ Id: string; RepoTags?: string[] | null } & Labelled)[];
}): LabeledItem[] {
  const labels = (r: Labelled) => r.Labels ?? {};
  return [
    ...lists.containers.map((c) => ({
      kind: 'container' as const,
      id: c.Id,
      name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
      labels: labels(c),
    })),
    ...lists.volumes.map((v) => ({ kind: 'volume' as const, id: v.Name, name: v.Name, labels: labels(v) })),
    ...lists.networks.map((n) => ({ kind: 'network' as const, id: n.Id, name: n.Name ?? n.Id.slice(0, 12), labels: labels(n) })),
    ...lists.images.map((i) => ({
      kind: 'image' as const,
      id: i.Id,
      name: i.RepoTags?.find((t) => t !== '<none>:<none>') ?? i.Id.replace(/^sha256:/, '').slice(0, 12),
      labels: labels(i),
    })),
  ];
}

export function labeledResources(lists: {
  containers: { Id: string }[];
  volumes: { Name: string }[];
  networks: { Id: string }[];
  images: { Id: string }[];
}): LabeledResources {
  return {
    containers: lists.containers.map((c) => c.Id),
    volumes: lists.volumes.map((v) => v.Name),
    networks: lists.networks.map((n) => n.Id),
    // By id: an image built twice under one tag leaves the first untagged (`<none>`), still ours.
    images: lists.images.map((i) => i.Id),
  };
}

/** IPv4 subnets of the engine's networks, but those of one Compose project. */
export function networkSubnets(networks: ApiNetwork[], exceptProject: string | undefined): string[] {
  return networks
    .filter((n) => exceptProject === undefined || n.Labels?.['com.docker.compose.project'] !== exceptProject)
    .flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? ''))
    .filter((subnet) => subnet.includes('.'));
}

/** `key=value` filters; an empty value asks only that the label be there, whatever its value. */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => (value === '' ? key : `${key}=${value}`));
}

/** A 404 (the resource is gone) as undefined; any other failure stands. */
export function notFoundAsUndefined(error: unknown): undefined {
  if ((error as { statusCode?: number }).statusCode === 404) return undefined;
  throw error;
}

/** A 409 "removal … is already in progress": a self-removing task container going on its own. */
function removalUnderway(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 409 && /already in progress/i.test((error as Error).message ?? '');
}

/**
 * Removes a container (force): one already gone is fine, one removing itself (a task started with AutoRemove)
 * is waited for until it is gone, so what it held (volumes, networks) can go next.
 */
export async function removeContainer(remove: () => Promise<unknown>, inspect: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (!removalUnderway(error)) return notFoundAsUndefined(error);
    const exists = () =>
      inspect().then(
        () => true,
        (e: unknown) => notFoundAsUndefined(e) ?? false,
      );
    while (!signal.aborted && (await exists())) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function ignoreMissing(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    notFoundAsUndefined(error);
  }
}

/** A volume as `GET /volumes` lists it. */
export interface ApiVolume {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
}

/** A bind-type local volume keeps its data at its device, not at its mountpoint (which is mounted only in use). */
export function volumeInfo(volume: ApiVolume): VolumeInfo {
  const options = volume.Options ?? {};
  const bind = options.type === 'none' && /(^|,)bind(,|$)/.test(options.o ?? '') && options.device;
  return {
    name: volume.Name,
    labels: volume.Labels ?? {},
    dataDir: bind ? (options.device as string) : (volume.Mountpoint ?? ''),
    driver: volume.Driver ?? 'local',
    options,
  };
}
