import type { ComposeModel, PortMapping, Service, TopLevelResource } from './model.ts';
import { applySubnets } from './networks.ts';

/** One host port an env needs: a service's published container port. */
export interface PortRequest {
  /** Stable within the env: `<service>/<target>/<protocol>`, `#n` for repeats. */
  key: string;
  service: string;
  target: number;
  protocol: 'tcp' | 'udp';
  /** What the compose file asked for on the host side ("5432", "8000-8010"), if anything. */
  requested?: string;
}

export interface TransformInput {
  model: ComposeModel;
  project: string;
  /** `dev.envs.*` labels for every service, volume, network and built image. */
  labels: Record<string, string>;
  /** Host port for each PortRequest key. */
  ports: ReadonlyMap<string, number>;
  /** Address published ports bind to. */
  hostIp?: string;
  /** Leased subnet (CIDR) for each network key (see networks.ts `subnetNeeds`). */
  subnets?: ReadonlyMap<string, string>;
  /**
   * Services that build AND name an image, whose image is to be built per env (it is not on the engine and
   * could not be pulled, or `pull_policy: build`): they get a per-env tag. The others keep their image as
   * Compose would (reused when present). Default: every such service.
   */
  buildPerEnv?: ReadonlySet<string>;
  /** The top-level `name:` the compose files gave the project, as written (for references to it). */
  originalName?: string;
  /**
   * New `environment:` of the services whose values name the main checkout's host ports (the address map's
   * rewrite, bootstrap/addresses.ts): only those services are listed.
   */
  environments?: Readonly<Record<string, Record<string, string | null>>>;
}

export interface Change {
  kind: 'project' | 'port' | 'container_name' | 'volume' | 'network' | 'image' | 'subnet' | 'reference' | 'environment';
  subject: string;
  from: string;
  to: string;
}

export interface TransformResult {
  model: ComposeModel;
  changes: Change[];
  warnings: string[];
  /** The services of the env, sorted. */
  services: string[];
}

export const LOOPBACK = '127.0.0.1';

/** The published ports of a model, in a stable order, keyed for the registry. */
export function collectPortRequests(model: ComposeModel): PortRequest[] {
  return sortedEntries(model.services).flatMap(([service, definition]) =>
    definition.network_mode === 'host'
      ? []
      : (definition.ports ?? []).map(
          (mapping, index, all): PortRequest => ({
            key: portKey(service, all, index),
            service,
            target: mapping.target,
            protocol: protocolOf(mapping),
            ...(mapping.published ? { requested: mapping.published } : {}),
          }),
        ),
  );
}

/** `<service>/<target>/<protocol>`, with `#n` when the same container port is published again. */
function portKey(service: string, mappings: PortMapping[], index: number): string {
  const mapping = mappings[index] as PortMapping;
  const base = `${service}/${mapping.target}/${protocolOf(mapping)}`;
  const repeats = mappings.slice(0, index).filter((m) => m.target === mapping.target && protocolOf(m) === protocolOf(mapping)).length;
  return repeats === 0 ? base : `${base}#${repeats}`;
}

function protocolOf(mapping: PortMapping): 'tcp' | 'udp' {
  return mapping.protocol === 'udp' ? 'udp' : 'tcp';
}

/** Services that build their own image and also name it: candidates for a per-env tag. */
export function buildAndImageServices(model: ComposeModel): string[] {
  return sortedEntries(model.services)
    .filter(([, s]) => s.build && s.image)
    .map(([name]) => name);
}

/**
 * Makes a rendered model safe to run beside other copies of itself, changing nothing inside the containers:
 * - every published port → its registry port, bound to 127.0.0.1 (container side unchanged);
 * - `container_name` removed, the old name kept as a network alias (and `container:<name>` references
 *   turned into `service:<svc>`);
 * - the top-level `name` → the env's project;
 * - volumes and networks with an explicit `name` made per-env, unless `external`; each network on a
 *   leased subnet, fixed addresses moved along;
 * - `image` of services that build it re-tagged per env when the env builds it; other users follow;
 * - references to renamed names (Traefik's network label, COMPOSE_PROJECT_NAME, *_NETWORK variables)
 *   rewritten, other values equal to an old name warned about;
 * - `profiles` dropped: the model holds only the services of the active profiles already;
 * - `dev.envs.*` labels on every service, volume, network and built image.
 */
export function transformModel(input: TransformInput): TransformResult {
  const { project, labels, ports } = input;
  const hostIp = input.hostIp ?? LOOPBACK;
  const model = structuredClone(input.model);
  const changes: Change[] = [];
  const warnings: string[] = [];
  const ourLabels = escapeRecord(labels);

  // Old names → the env's own: the project's, and the networks' and volumes' explicit names.
  const renames: Renames = { project: new Map(), network: new Map(), volume: new Map() };
  const original = input.originalName ?? model.name;
  if (original && original !== project) {
    changes.push({ kind: 'project', subject: 'name', from: original, to: project });
    renames.project.set(original, project);
  } else if (!original) {
    changes.push({ kind: 'project', subject: 'name', from: '(directory name)', to: project });
  }
  model.name = project;

  const services = sortedEntries(model.services);
  const containerNames = new Map<string, string>(); // old container_name → service
  const retagged = new Map<string, string>(); // old image → per-env image
  for (const [service, definition] of services) {
    if (definition.container_name) containerNames.set(definition.container_name, service);
    const perEnv = input.buildPerEnv ? input.buildPerEnv.has(service) : true;
    if (definition.build && definition.image && perEnv && !retagged.has(definition.image)) {
      retagged.set(definition.image, imageFor(project, service));
    }
  }

  for (const kind of ['volume', 'network'] as const) {
    const resources = kind === 'volume' ? model.volumes : model.networks;
    for (const [key, value] of Object.entries(resources ?? {})) {
      const resource: TopLevelResource = value ?? {};
      if (resource.external) {
        warnings.push(`${kind} ${key}: external ("${externalName(resource, key)}"), so every env shares it.`);
        continue;
      }
      const ownName = `${project}_${key}`;
      if (resource.name && resource.name !== ownName) {
        changes.push({ kind, subject: key, from: resource.name, to: ownName });
        renames[kind].set(resource.name, ownName);
        resource.name = ownName;
      }
      if (original) renames[kind].set(`${original}_${key}`, ownName);
      resource.labels = { ...resource.labels, ...ourLabels };
      (resources as Record<string, TopLevelResource>)[key] = resource;
    }
  }
  if (input.subnets) {
    const applied = applySubnets(model, input.subnets);
    for (const change of applied.changes) changes.push({ kind: 'subnet', ...change });
    warnings.push(...applied.warnings);
  }

  for (const [service, definition] of services) {
    // network_mode: host is named by risks.ts (plan's warnings); its ports cannot be remapped.
    if (definition.network_mode !== 'host' && definition.ports) {
      definition.ports = definition.ports.map((mapping, index, all): PortMapping => {
        const key = portKey(service, all, index);
        const hostPort = ports.get(key);
        if (hostPort === undefined) throw new Error(`no host port allocated for ${key}`);
        const from = `${mapping.host_ip ? `${mapping.host_ip}:` : ''}${mapping.published ?? '(any)'}`;
        changes.push({
          kind: 'port',
          subject: `${service}:${mapping.target}/${mapping.protocol ?? 'tcp'}`,
          from,
          to: `${hostIp}:${hostPort}`,
        });
        return { ...mapping, host_ip: hostIp, published: String(hostPort) };
      });
    }
    if (definition.container_name) {
      const oldName = definition.container_name;
      delete definition.container_name;
      if (definition.network_mode) {
        warnings.push(`${service}: container_name "${oldName}" removed; with network_mode it cannot be kept as an alias.`);
      } else {
        const networks = definition.networks ?? { default: null };
        for (const network of Object.keys(networks)) {
          const entry = networks[network] ?? {};
          entry.aliases = [...new Set([...(entry.aliases ?? []), oldName])];
          networks[network] = entry;
        }
        definition.networks = networks;
      }
      changes.push({ kind: 'container_name', subject: service, from: oldName, to: `(${project}-${service}-N, alias ${oldName})` });
    }
    rewriteContainerReferences(definition, containerNames);
    const newImage = definition.image ? retagged.get(definition.image) : undefined;
    if (definition.image && newImage) {
      changes.push({ kind: 'image', subject: service, from: definition.image, to: newImage });
      definition.image = newImage;
    }
    delete definition.profiles;
    rewriteReferences(service, definition, renames, changes, warnings);
    const environment = input.environments?.[service];
    if (environment) {
      for (const [key, value] of Object.entries(environment)) {
        const before = definition.environment?.[key];
        if (before !== value)
          changes.push({ kind: 'environment', subject: `${service} ${key}`, from: String(before ?? ''), to: String(value ?? '') });
      }
      definition.environment = { ...environment };
    }
    if (definition.build) definition.build = { ...definition.build, labels: { ...definition.build.labels, ...ourLabels } };
    definition.labels = { ...definition.labels, ...ourLabels, 'dev.envs.service': escapeDollars(service) };
  }
  return { model, changes, warnings, services: services.map(([name]) => name) };
}

interface Renames {
  project: Map<string, string>;
  network: Map<string, string>;
  volume: Map<string, string>;
}

/** Label keys whose value names a Docker network (Traefik picks the network it reaches a container on). */
const NETWORK_LABELS = /^traefik\.(docker|swarm)\.network$/;
/** Variable names that say their value is a network's name, or the Compose project's. */
const NETWORK_VARIABLES = /(^|_)NETWORK(_NAME)?$/i;
const PROJECT_VARIABLES = /(^|_)PROJECT_NAME$/i;

/**
 * Values that name a network or project envs renamed: rewritten where the key says what they are
 * (Traefik's network label, `*_NETWORK`, COMPOSE_PROJECT_NAME), warned about elsewhere.
 */
function rewriteReferences(service: string, definition: Service, renames: Renames, changes: Change[], warnings: string[]): void {
  const known = (field: 'labels' | 'environment', key: string): Map<string, string> | undefined => {
    if (field === 'labels') return NETWORK_LABELS.test(key) ? renames.network : undefined;
    if (PROJECT_VARIABLES.test(key)) return renames.project;
    return NETWORK_VARIABLES.test(key) ? renames.network : undefined;
  };
  for (const field of ['labels', 'environment'] as const) {
    const values = definition[field] as Record<string, string | null> | undefined;
    for (const [key, value] of Object.entries(values ?? {})) {
      if (typeof value !== 'string' || !values) continue;
      const plain = unescapeDollars(value);
      const map = known(field, key);
      const renamed = map?.get(plain);
      if (renamed) {
        changes.push({ kind: 'reference', subject: `${service} ${field}.${key}`, from: value, to: renamed });
        values[key] = renamed;
        continue;
      }
      const elsewhere = renames.network.get(plain) ?? renames.project.get(plain) ?? renames.volume.get(plain);
      if (elsewhere && !map) {
        warnings.push(
          `${service}: ${field}.${key} is "${value}", a name envs changed to "${elsewhere}" for this env; it was left as it is.`,
        );
      }
    }
  }
}

/** The per-env tag of a service's built image. */
export function imageFor(project: string, service: string): string {
  return `${project}-${service.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

/** Compose interpolates `$` in the files it reads; values we add must say `$$`. */
export function escapeDollars(value: string): string {
  return value.split('$').join('$$');
}

/** Reverses escapeDollars: values in a rendered model say `$$` for a literal `$`. */
export function unescapeDollars(value: string): string {
  return value.split('$$').join('$');
}

function escapeRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, escapeDollars(v)]));
}

function rewriteContainerReferences(definition: Service, containerNames: Map<string, string>): void {
  const target = (reference: string) => containerNames.get(reference.slice('container:'.length));
  if (definition.network_mode?.startsWith('container:')) {
    const service = target(definition.network_mode);
    if (service) definition.network_mode = `service:${service}`;
  }
  if (definition.volumes_from) {
    definition.volumes_from = definition.volumes_from.map((entry) => {
      const [reference, mode] = entry.startsWith('container:') ? splitMode(entry) : [entry, undefined];
      const service = reference.startsWith('container:') ? target(reference) : undefined;
      return service ? (mode ? `${service}:${mode}` : service) : entry;
    });
  }
}

function splitMode(entry: string): [string, string | undefined] {
  const match = /^(container:[^:]+)(?::(ro|rw))?$/.exec(entry);
  return match ? [match[1] as string, match[2]] : [entry, undefined];
}

function externalName(resource: TopLevelResource, key: string): string {
  return resource.name ?? (typeof resource.external === 'object' ? resource.external.name : undefined) ?? key;
}

function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
