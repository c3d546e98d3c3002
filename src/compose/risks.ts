import type { ComposeModel, Service } from './model.ts';

/**
 * What in a rendered Compose model reaches past the env's isolation, named for `plan` (service, key, why):
 * `network_mode: host` (the service shares the machine's network: ports are not remapped, envs collide, the
 * service reaches every port on the host) and mounts of a container engine's socket (the service controls the
 * engine, every container and env on it, and through it the host). Pure: the model in, sentences out.
 */
export function riskWarnings(model: ComposeModel): string[] {
  const warnings: string[] = [];
  for (const [name, service] of Object.entries(model.services ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!service) continue;
    if (service.network_mode === 'host') warnings.push(hostNetwork(name, service));
    for (const mount of mounts(service)) {
      const exposed = socketExposure(mount.source, mount.target);
      if (exposed) warnings.push(`${name}: volumes ${exposed}: the service ${CONTROLS}`);
    }
  }
  for (const [name, volume] of Object.entries(model.volumes ?? {})) {
    const opts = (volume as { driver_opts?: Record<string, unknown> } | null)?.driver_opts;
    const device = typeof opts?.device === 'string' ? opts.device : undefined;
    if (device && /\bbind\b/.test(String(opts?.o ?? '')) && socketExposure(device, undefined)) {
      warnings.push(`volume ${name}: driver_opts binds ${device}, a container engine's socket: a service that mounts it ${CONTROLS}`);
    }
  }
  return warnings;
}

const CONTROLS =
  'controls the container engine — every container, volume and env on it — and through it this machine (read-only does not prevent that).';

function hostNetwork(name: string, service: Service): string {
  const ports = [...new Set((service.ports ?? []).map((p) => p.target))];
  const what =
    ports.length > 0
      ? `its ports (${ports.join(', ')}) are not remapped, so envs of this repository collide on them`
      : 'whatever it listens on is not isolated per env, so envs of this repository collide on it';
  return `${name}: network_mode "host" shares this machine's network: ${what}, and it reaches every port on this machine.`;
}

/** Bind mounts of a service, from Compose's long syntax (what `config` prints) or the short `src:dst[:mode]`. */
export function mounts(service: Service): { source: string; target: string | undefined }[] {
  const volumes = Array.isArray(service.volumes) ? (service.volumes as unknown[]) : [];
  const found: { source: string; target: string | undefined }[] = [];
  for (const volume of volumes) {
    if (typeof volume === 'string') {
      const [source, target] = splitShort(volume);
      if (source) found.push({ source, target });
    } else if (volume && typeof volume === 'object') {
      const { type, source, target } = volume as { type?: unknown; source?: unknown; target?: unknown };
      if (typeof source === 'string' && (type === undefined || type === 'bind' || type === 'npipe')) {
        found.push({ source, target: typeof target === 'string' ? target : undefined });
      }
    }
  }
  return found;
}

/** `src:dst[:mode]`, where a Windows source keeps its drive letter (`C:\x:/y`). */
function splitShort(volume: string): [string | undefined, string | undefined] {
  const match = /^([A-Za-z]:[\\/][^:]*|[^:]*):([^:]+)(?::.*)?$/.exec(volume);
  return match ? [match[1], match[2]] : [volume, undefined];
}

/** A socket of Docker, Podman or containerd (also Docker Desktop's `docker.sock.raw`), or a Windows pipe. */
const SOCKET_FILE = /(?:^|[\\/])(?:docker|podman|containerd|dockershim|cri-dockerd)\.sock(?:\.raw)?$/;
const ENGINE_PIPE = /^(?:\\\\|\/\/)\.[\\/]pipe[\\/](?:docker_engine|podman)/i;
/** Directories that hold such a socket (rootful, rootless, Docker Desktop, Colima, Rancher Desktop) or all of them. */
const SOCKET_DIRS = [
  /^\/$/,
  /^\/var$/,
  /^\/(?:var\/)?run(?:\/(?:docker|podman|containerd))?$/,
  /^\/(?:var\/)?run\/user\/\d+(?:\/(?:docker|podman))?$/,
  /\/\.docker(?:\/run)?$/,
  /\/\.colima(?:\/[^/]+)?$/,
  /\/\.rd$/,
];

/** Why mounting `source` (at `target`) exposes an engine socket, or undefined when it does not. */
export function socketExposure(rawSource: string, target: string | undefined): string | undefined {
  const source = rawSource.length > 1 ? rawSource.replace(/[\\/]+$/, '') : rawSource;
  const at = target ? ` (at ${target})` : '';
  if (SOCKET_FILE.test(source) || ENGINE_PIPE.test(source)) return `mounts the container engine's socket ${source}${at}`;
  if (SOCKET_DIRS.some((dir) => dir.test(source))) return `mounts ${source}${at}, which holds the container engine's socket`;
  if (target && (SOCKET_FILE.test(target) || ENGINE_PIPE.test(target))) {
    return `mounts ${source} as the container engine's socket ${target}`;
  }
  return undefined;
}
