import type {
  ContainerDetail,
  ContainerSummary,
  DirsSpec,
  EngineInfo,
  LabeledItem,
  LabeledResources,
  TaskSpec,
  VolumeInfo,
} from '../core/deps.ts';
import { apiRequest, segment } from './api.ts';
import type { DockerodeEngine } from './engine.ts';
import {
  type ApiContainer,
  type ApiContainerDetail,
  type ApiNetwork,
  type ApiVolume,
  containerDetail,
  containerSummary,
  ignoreMissing,
  labeledItems,
  labeledResources,
  labelFilters,
  networkSubnets,
  notFoundAsUndefined,
  removeContainer,
  volumeInfo,
} from './map.ts';
import { dirsTar } from './tar.ts';
import { demux, holderContainer, taskContainer } from './task.ts';

/**
 * The engine on its unix socket (the usual case), through the Engine API's JSON directly: the calls every
 * command makes (ping, lists by label, inspect, removals) without loading dockerode (see api.ts for why).
 * What needs streams or a container of envs's own — logs, removeAsRoot — goes to dockerode, loaded then.
 */
export class SocketEngine {
  private readonly socketPath: string;
  private readonly endpoint: string;
  private readonly dockerode: () => Promise<DockerodeEngine>;

  constructor(socketPath: string, endpoint: string, dockerode: () => Promise<DockerodeEngine>) {
    this.socketPath = socketPath;
    this.endpoint = endpoint;
    this.dockerode = dockerode;
  }

  private get<T>(path: string, signal: AbortSignal, query?: Record<string, string | number | boolean | undefined>): Promise<T> {
    return apiRequest<T>(this.socketPath, { path, signal, ...(query ? { query } : {}) });
  }

  private delete(path: string, signal: AbortSignal, query?: Record<string, string | number | boolean>): Promise<void> {
    return apiRequest<void>(this.socketPath, { method: 'DELETE', path, signal, ...(query ? { query } : {}) });
  }

  private post<T>(path: string, signal: AbortSignal, body?: unknown): Promise<T> {
    return apiRequest<T>(this.socketPath, { method: 'POST', path, signal, ...(body !== undefined ? { body } : {}) });
  }

  /** Removes a container envs made for a moment (a task's, an upload's), also after Ctrl-C: its own deadline. */
  private async dispose(id: string): Promise<void> {
    await this.delete(`/containers/${segment(id)}`, AbortSignal.timeout(10_000), { force: 1, v: 1 }).catch(() => {});
  }

  async info(signal: AbortSignal, onSocket?: (socket: import('node:net').Socket) => void): Promise<EngineInfo> {
    const info = await apiRequest<{ ID?: string; ServerVersion?: string }>(this.socketPath, {
      path: '/info',
      signal,
      ...(onSocket ? { onSocket } : {}),
    });
    return { id: info.ID ?? '', version: info.ServerVersion ?? '', endpoint: this.endpoint };
  }

  async containers(labels: Record<string, string>, signal: AbortSignal): Promise<ContainerSummary[]> {
    const list = await this.get<ApiContainer[]>('/containers/json', signal, { all: 1, filters: filtersOf(labels) });
    return list.map(containerSummary);
  }

  async labeled(labels: Record<string, string>, signal: AbortSignal): Promise<LabeledResources> {
    return labeledResources(await this.lists(labels, signal));
  }

  async inventory(labels: Record<string, string>, signal: AbortSignal): Promise<LabeledItem[]> {
    return labeledItems(await this.lists(labels, signal));
  }

  /** Containers, volumes, networks and images carrying `labels`. */
  private async lists(labels: Record<string, string>, signal: AbortSignal) {
    const filters = filtersOf(labels);
    const [containers, volumes, networks, images] = await Promise.all([
      this.get<ApiContainer[]>('/containers/json', signal, { all: 1, filters }),
      this.get<{ Volumes: ApiVolume[] | null }>('/volumes', signal, { filters }),
      this.get<ApiNetwork[]>('/networks', signal, { filters }),
      this.get<{ Id: string; Labels?: Record<string, string> | null; RepoTags?: string[] | null }[]>('/images/json', signal, { filters }),
    ]);
    return { containers, volumes: volumes.Volumes ?? [], networks, images };
  }

  async remove(resources: LabeledResources, signal: AbortSignal): Promise<void> {
    // Containers first (they hold networks and volumes), then the rest; a resource already gone is fine.
    await Promise.all(
      resources.containers.map((id) =>
        removeContainer(
          () => this.delete(`/containers/${segment(id)}`, signal, { force: 1, v: 1 }),
          () => this.get(`/containers/${segment(id)}/json`, signal),
          signal,
        ),
      ),
    );
    await Promise.all([
      ...resources.networks.map((id) => ignoreMissing(this.delete(`/networks/${segment(id)}`, signal))),
      ...resources.volumes.map((name) => ignoreMissing(this.delete(`/volumes/${segment(name)}`, signal))),
      // By id, with every tag it carries (all ours: only images envs built carry its labels).
      ...resources.images.map((id) => ignoreMissing(this.delete(`/images/${segment(id)}`, signal, { force: 1 }))),
    ]);
  }

  async inspect(ids: string[], signal: AbortSignal): Promise<ContainerDetail[]> {
    const details = await Promise.all(
      ids.map((id) => this.get<ApiContainerDetail>(`/containers/${segment(id)}/json`, signal).catch(notFoundAsUndefined)),
    );
    return details.filter((d) => d !== undefined).map(containerDetail);
  }

  async imagesPresent(refs: string[], signal: AbortSignal): Promise<Set<string>> {
    const found = await Promise.all(
      refs.map(async (ref) => ((await this.get(`/images/${segment(ref)}/json`, signal).catch(notFoundAsUndefined)) ? ref : undefined)),
    );
    return new Set(found.filter((ref) => ref !== undefined));
  }

  async networkSubnets(exceptProject: string | undefined, signal: AbortSignal): Promise<string[]> {
    return networkSubnets(await this.get<ApiNetwork[]>('/networks', signal), exceptProject);
  }

  async logs(id: string, tail: number, signal: AbortSignal): Promise<string> {
    return (await this.dockerode()).logs(id, tail, signal);
  }

  async removeAsRoot(options: { parent: string; name: string; image: string; project: string }, signal: AbortSignal): Promise<void> {
    return (await this.dockerode()).removeAsRoot(options, signal);
  }

  async volumes(labels: Record<string, string>, signal: AbortSignal): Promise<VolumeInfo[]> {
    const list = await this.get<{ Volumes: ApiVolume[] | null }>('/volumes', signal, { filters: filtersOf(labels) });
    return (list.Volumes ?? []).map(volumeInfo);
  }

  async createVolume(
    spec: { name: string; labels: Record<string, string>; driver?: string; options?: Record<string, string> },
    signal: AbortSignal,
  ): Promise<VolumeInfo> {
    const body = { Name: spec.name, Driver: spec.driver ?? 'local', DriverOpts: spec.options ?? {}, Labels: spec.labels };
    return volumeInfo(await apiRequest<ApiVolume>(this.socketPath, { method: 'POST', path: '/volumes/create', body, signal }));
  }

  /** A task container's whole life on the API itself (a clone's layout sits on create's path: no dockerode load). */
  async runTask(task: TaskSpec, signal: AbortSignal): Promise<{ exitCode: number; output: string }> {
    const { Id: id } = await this.post<{ Id: string }>('/containers/create', signal, taskContainer(task));
    try {
      await this.post(`/containers/${segment(id)}/start`, signal);
      const result = await this.post<{ StatusCode?: number }>(`/containers/${segment(id)}/wait`, signal);
      const logs = await apiRequest<Buffer>(this.socketPath, {
        path: `/containers/${segment(id)}/logs`,
        query: { stdout: 1, stderr: 1 },
        raw: true,
        signal,
      });
      return { exitCode: result.StatusCode ?? -1, output: demux(logs) };
    } finally {
      await this.dispose(id);
    }
  }

  async startTask(task: TaskSpec, signal: AbortSignal): Promise<void> {
    const { Id: id } = await this.post<{ Id: string }>('/containers/create', signal, taskContainer(task, true));
    await this.post(`/containers/${segment(id)}/start`, signal).catch(async (error: unknown) => {
      await this.dispose(id);
      throw error;
    });
  }

  async makeDirs(spec: DirsSpec, signal: AbortSignal): Promise<void> {
    // The archive is made (tar-stream loads on first use) while the engine creates the container.
    const tarring = dirsTar(spec.dirs);
    tarring.catch(() => {});
    const { Id: id } = await this.post<{ Id: string }>('/containers/create', signal, holderContainer(spec));
    let made = false;
    try {
      await apiRequest(this.socketPath, {
        method: 'PUT',
        path: `/containers/${segment(id)}/archive`,
        query: { path: spec.mount.target },
        tar: await tarring,
        signal,
      });
      made = true;
    } finally {
      // Once the directories are there, the holder's removal (~25 ms) goes on while the caller does (create's
      // compose up); its request keeps the process alive until it ends. A removal that fails leaves a
      // container with the env's labels, which destroy and gc remove.
      const removing = this.dispose(id);
      if (!made) await removing;
    }
  }
}

function filtersOf(labels: Record<string, string>): string {
  return JSON.stringify({ label: labelFilters(labels) });
}
