import Docker from 'dockerode';
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
import { dockerodeOptions } from './endpoint.ts';
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
    return list.map((c) => containerSummary(c as unknown as ApiContainer));
  }

  async labeled(labels: Record<string, string>, signal: AbortSignal): Promise<LabeledResources> {
    return labeledResources(await this.lists(labels, signal));
  }

  async inventory(labels: Record<string, string>, signal: AbortSignal): Promise<LabeledItem[]> {
    return labeledItems(await this.lists(labels, signal));
  }

  /** Containers, volumes, networks and images carrying `labels`. */
  private async lists(labels: Record<string, string>, signal: AbortSignal) {
    const filters = { label: labelFilters(labels) };
    const [containers, volumes, networks, images] = await Promise.all([
      this.docker.listContainers({ all: true, filters, abortSignal: signal }),
      this.docker.listVolumes({ filters, abortSignal: signal }),
      this.docker.listNetworks({ filters, abortSignal: signal }),
      this.docker.listImages({ filters, abortSignal: signal }),
    ]);
    return { containers, volumes: volumes.Volumes ?? [], networks, images };
  }

  async remove(resources: LabeledResources, signal: AbortSignal): Promise<void> {
    const abortSignal = signal;
    // Containers first (they hold networks and volumes), then the rest; a resource already gone is fine.
    await Promise.all(
      resources.containers.map((id) =>
        removeContainer(
          () => this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }),
          () => this.docker.getContainer(id).inspect({ abortSignal }),
          abortSignal,
        ),
      ),
    );
    await Promise.all([
      ...resources.networks.map((id) => ignoreMissing(this.docker.getNetwork(id).remove({ abortSignal }))),
      ...resources.volumes.map((name) => ignoreMissing(this.docker.getVolume(name).remove({ abortSignal }))),
      // By id, with every tag it carries (all ours: only images envs built carry its labels).
      ...resources.images.map((id) => ignoreMissing(this.docker.getImage(id).remove({ force: true, abortSignal }))),
    ]);
  }

  async inspect(ids: string[], signal: AbortSignal): Promise<ContainerDetail[]> {
    const details = await Promise.all(
      ids.map((id) => this.docker.getContainer(id).inspect({ abortSignal: signal }).catch(notFoundAsUndefined)),
    );
    return details.filter((d) => d !== undefined).map((d) => containerDetail(d as unknown as ApiContainerDetail));
  }

  async logs(id: string, tail: number, signal: AbortSignal): Promise<string> {
    const container = this.docker.getContainer(id);
    const [output, info] = await Promise.all([
      container.logs({ stdout: true, stderr: true, follow: false, tail, abortSignal: signal }) as unknown as Promise<Buffer>,
      container.inspect({ abortSignal: signal }),
    ]);
    return info.Config?.Tty ? output.toString('utf8') : demux(output);
  }

  async imagesPresent(refs: string[], signal: AbortSignal): Promise<Set<string>> {
    const found = await Promise.all(
      refs.map(async (ref) =>
        (await (this.docker.getImage(ref).inspect as (opts: { abortSignal: AbortSignal }) => Promise<unknown>)
          .call(this.docker.getImage(ref), { abortSignal: signal })
          .catch(notFoundAsUndefined))
          ? ref
          : undefined,
      ),
    );
    return new Set(found.filter((ref) => ref !== undefined));
  }

  async removeAsRoot(options: { parent: string; name: string; image: string; project: string }, signal: AbortSignal): Promise<void> {
    const container = await this.docker.createContainer({
      Image: options.image,
      Entrypoint: ['rm', '-rf', '--', `/envs-clean/${options.name}`],
      Cmd: [],
      User: '0',
      Labels: { 'dev.envs.managed': 'true', 'dev.envs.project': options.project },
      HostConfig: { Binds: [`${options.parent}:/envs-clean`], NetworkMode: 'none' },
      abortSignal: signal,
    });
    try {
      await container.start({ abortSignal: signal });
      const result = (await container.wait({ abortSignal: signal })) as { StatusCode?: number };
      if (result.StatusCode !== 0) throw new Error(`rm exited ${result.StatusCode}`);
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  }

  async networkSubnets(exceptProject: string | undefined, signal: AbortSignal): Promise<string[]> {
    return networkSubnets((await this.docker.listNetworks({ abortSignal: signal })) as unknown as ApiNetwork[], exceptProject);
  }

  async volumes(labels: Record<string, string>, signal: AbortSignal): Promise<VolumeInfo[]> {
    const list = await this.docker.listVolumes({ filters: { label: labelFilters(labels) }, abortSignal: signal });
    return ((list.Volumes ?? []) as unknown as ApiVolume[]).map(volumeInfo);
  }

  async createVolume(
    spec: { name: string; labels: Record<string, string>; driver?: string; options?: Record<string, string> },
    signal: AbortSignal,
  ): Promise<VolumeInfo> {
    await this.docker.createVolume({
      Name: spec.name,
      Driver: spec.driver ?? 'local',
      DriverOpts: spec.options ?? {},
      Labels: spec.labels,
      abortSignal: signal,
    } as Docker.VolumeCreateOptions);
    // dockerode resolves with a handle, not the engine's answer: ask for the volume as it is.
    const volume = this.docker.getVolume(spec.name);
    const inspected = await (volume.inspect as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(volume, {
      abortSignal: signal,
    });
    return volumeInfo(inspected as ApiVolume);
  }

  async runTask(task: TaskSpec, signal: AbortSignal): Promise<{ exitCode: number; output: string }> {
    const container = await this.docker.createContainer({ ...taskContainer(task), abortSignal: signal } as Docker.ContainerCreateOptions);
    try {
      await container.start({ abortSignal: signal });
      const result = (await container.wait({ abortSignal: signal })) as { StatusCode?: number };
      const output = (await container.logs({ stdout: true, stderr: true, follow: false, abortSignal: signal })) as unknown as Buffer;
      return { exitCode: result.StatusCode ?? -1, output: demux(output) };
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  }

  async startTask(task: TaskSpec, signal: AbortSignal): Promise<void> {
    const container = await this.docker.createContainer({
      ...taskContainer(task, true),
      abortSignal: signal,
    } as Docker.ContainerCreateOptions);
    await container.start({ abortSignal: signal }).catch(async (error: unknown) => {
      await container.remove({ force: true, v: true }).catch(() => {});
      throw error;
    });
  }

  async makeDirs(spec: DirsSpec, signal: AbortSignal): Promise<void> {
    const tar = await dirsTar(spec.dirs);
    const container = await this.docker.createContainer({ ...holderContainer(spec), abortSignal: signal } as Docker.ContainerCreateOptions);
    try {
      await container.putArchive(tar, { path: spec.mount.target, abortSignal: signal });
    } finally {
      await container.remove({ force: true, v: true }).catch(() => {});
    }
  }
}
