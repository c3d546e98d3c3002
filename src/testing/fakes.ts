/**
 * In-memory fakes of core's seams (not published). Git, Compose and the engine are scripted; the port
 * registry is the real one on a temporary file with a probe that says every port is free.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ComposeModel } from '../compose/model.ts';
import { corruptRecordError } from '../core/corrupt.ts';
import type {
  BranchMerge,
  ComposeClient,
  ContainerSummary,
  Deps,
  Engine,
  GitClient,
  Locks,
  RecordStore,
  VolumeInfo,
  WorktreeEntry,
  WorktreeInspection,
} from '../core/deps.ts';
import type { CorruptRecord, EnvRecord } from '../core/record.ts';
import { EnvsError } from '../errors.ts';
import { PortRegistry } from '../ports/registry.ts';
import { SubnetRegistry } from '../subnets/registry.ts';

export interface Fakes {
  deps: Deps;
  calls: string[];
  /** Results for the next `compose up` calls, in order (default: success). */
  upResults: ({ ok: true } | { ok: false; stderr: string })[];
  files: Map<string, string>;
  records: Map<string, EnvRecord>;
  /** Record files that cannot be read (by env name). */
  corrupt: Map<string, CorruptRecord>;
  engineDown: boolean;
  engineId: string;
  /** How many times each engine method was called. */
  engineCalls: Record<string, number>;
  dir: string;
  /** What `inspectWorktree` adds for a path (hidden edits, lost commits, submodules…). */
  inspections: Map<string, Partial<WorktreeInspection>>;
  /** Committer times (ms) `commitTimes` knows, by sha. */
  commitTimes: Map<string, number>;
  /** What `mergeStatus` says of a branch (default: not merged, nothing missing). */
  merges: Map<string, Partial<BranchMerge>>;
  /** Runs just before a named lock is taken: another process's change between resolving and locking. */
  beforeLock?: (name: string) => Promise<void>;
  /** Extra containers the engine lists (beside those of the written compose files). */
  extraContainers: ContainerSummary[];
  cleanup(): Promise<void>;
}

export async function makeFakes(model: ComposeModel): Promise<Fakes> {
  const dir = await mkdtemp(join(tmpdir(), 'envs-fakes-'));
  const calls: string[] = [];
  const files = new Map<string, string>();
  const records = new Map<string, EnvRecord>();
  const corrupt = new Map<string, CorruptRecord>();
  const worktrees: WorktreeEntry[] = [{ path: join(dir, 'repo'), branch: 'main', head: 'c0ffee', bare: false, prunable: false }];
  const branches = new Map<string, string>([['main', 'c0ffee']]);
  const fakes: Fakes = {
    deps: undefined as never,
    calls,
    upResults: [],
    files,
    records,
    corrupt,
    engineDown: false,
    engineId: 'engine-1',
    engineCalls: {},
    dir,
    inspections: new Map(),
    commitTimes: new Map(),
    merges: new Map(),
    extraContainers: [],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };

  const git: GitClient = {
    repo: { root: join(dir, 'repo'), commonDir: join(dir, 'repo', '.git') },
    checkBranchName: async (b) => (/\s|\.\./.test(b) ? undefined : b),
    resolveCommit: async (ref) => branches.get(ref.replace(/^refs\/heads\//, '')) ?? (ref === 'c0ffee' ? ref : undefined),
    branchState: async (b) => (branches.has(b) ? { local: b } : {}),
    defaultBranch: async () => 'main',
    defaultBase: async () => ({ ref: 'main' }),
    worktrees: async () => worktrees,
    addWorktree: async (o) => {
      calls.push(`worktree add ${o.branch}`);
      await mkdir(o.path, { recursive: true });
      if (o.newBranchFrom) branches.set(o.branch, branches.get(o.newBranchFrom) ?? 'c0ffee');
      worktrees.push({ path: o.path, branch: o.branch, head: 'c0ffee', bare: false, prunable: false });
    },
    removeWorktree: async (path, force) => {
      calls.push(force ? 'worktree remove --force' : 'worktree remove');
      await rm(path, { recursive: true, force: true });
      worktrees.splice(
        worktrees.findIndex((w) => w.path === path),
        1,
      );
    },
    pruneWorktrees: async () => void calls.push('worktree prune'),
    deleteBranchIfAt: async (b, oid) => {
      calls.push(`branch delete ${b}@${oid}`);
      return branches.delete(b);
    },
    status: async () => [],
    readTree: async (_commit, paths) =>
      new Map(paths.filter((p) => p === 'compose.yaml').map((p) => [p, { kind: 'blob' as const, content: Buffer.from('services: {}') }])),
    listFiles: async () => ['compose.yaml'],
    ignored: async () => new Set<string>(),
    mergeStatus: async (_base, queries) =>
      new Map(
        queries.map(({ branch }) => [
          branch,
          { branch, tip: branches.get(branch), unchanged: false, upstreamGone: false, missing: [], ...fakes.merges.get(branch) },
        ]),
      ),
    commitTimes: async (shas) =>
      new Map(shas.filter((sha) => fakes.commitTimes.has(sha)).map((sha) => [sha, fakes.commitTimes.get(sha) ?? 0])),
    hiddenEdits: async (path) => fakes.inspections.get(path)?.hidden ?? [],
    inspectWorktree: async (path) => {
      const entry = worktrees.find((w) => w.path === path);
      const onDisk = await stat(path).then(
        (s) => s.isDirectory(),
        () => false,
      );
      return {
        registered: entry !== undefined,
        ours: entry !== undefined && onDisk,
        status: [],
        hidden: [],
        commits: [],
        tips: [],
        submodules: [],
        needsForce: false,
        ...fakes.inspections.get(path),
      };
    },
    keepCommits: async (prefix, tips) => {
      calls.push(`keep ${tips.map((t) => t.name).join(' ')}`);
      return tips.map((t) => ({ ref: `${prefix}/${t.name}`, commit: t.sha, from: t.from }));
    },
    forgetWorktree: async (path) => {
      calls.push('worktree forget');
      const at = worktrees.findIndex((w) => w.path === path);
      if (at !== -1) worktrees.splice(at, 1);
    },
  };

  const compose: ComposeClient = {
    render: async () => structuredClone(model),
    renderFiles: async () => structuredClone(model),
    write: async (file, m) => void files.set(file, JSON.stringify(m)),
    up: async (_run) => {
      calls.push('compose up');
      return fakes.upResults.shift() ?? { ok: true };
    },
    stop: async () => void calls.push('compose stop'),
    exec: async (run) => {
      calls.push(`compose exec ${run.service} ${run.argv[0] ?? ''}`);
      return { exitCode: 0, stdout: '', stderr: '' };
    },
    setVolumeOptions: async (_file, volume) => void calls.push(`compose setVolumeOptions ${volume}`),
    downVolumes: async (project) => void calls.push(`compose down ${project}`),
    version: async () => '2.26.1',
    ensureRunnable: async () => {},
    interpolate: async ({ texts }) => texts,
    pull: async () => ({ ok: true, stderr: '' }),
  };

  const volumes = new Map<string, VolumeInfo>();
  const engine: Engine = {
    info: async () => {
      if (fakes.engineDown) throw new EnvsError('DOCKER_UNAVAILABLE', 'engine down');
      return { id: fakes.engineId, version: '26.1.5', endpoint: 'unix:///fake.sock' };
    },
    // Containers publish what each env's last written compose file says; asked by project or by repository.
    containers: async (labels): Promise<ContainerSummary[]> => {
      fakes.engineCalls.containers = (fakes.engineCalls.containers ?? 0) + 1;
      const wanted = labels['com.docker.compose.project'];
      const extra = fakes.extraContainers.filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v));
      const written = [...files.values()]
        .map((text) => parse(text) as ComposeModel)
        .filter((written) => wanted === undefined || written.name === wanted)
        .flatMap((written) =>
          Object.entries(written.services).map(([service, s]) => ({
            id: `${written.name}-${service}`,
            project: written.name ?? '',
            service,
            state: 'running',
            labels: {
              ...(s.labels ?? {}),
              'com.docker.compose.project': written.name ?? '',
              'com.docker.compose.service': service,
            } as Record<string, string>,
            ports: (s.ports ?? []).map((p) => ({
              service,
              target: p.target,
              published: Number(p.published),
              host_ip: p.host_ip ?? '',
              protocol: p.protocol ?? 'tcp',
            })),
          })),
        );
      return [...written.filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)), ...extra];
    },
    prepare: () => {},
    labeled: async () => ({ containers: [], volumes: [], networks: [], images: [] }),
    inventory: async () => [],
    remove: async (resources) => {
      calls.push(`engine remove${resources.containers.length > 0 ? ` ${resources.containers.join(' ')}` : ''}`);
      fakes.extraContainers = fakes.extraContainers.filter((c) => !resources.containers.includes(c.id));
    },
    inspect: async (ids) =>
      ids.map((id) => ({
        id,
        service: id.split('-').pop() ?? '',
        status: 'running',
        exitCode: 0,
        restartCount: 0,
        startedAt: '2026-01-01T00:00:00Z',
        restartPolicy: 'no',
      })),
    logs: async () => '',
    imagesPresent: async (refs) => new Set(refs),
    networkSubnets: async () => [],
    removeAsRoot: async () => void calls.push('engine removeAsRoot'),
    volumes: async (labels) => {
      // A Compose data volume exists once its project is up; envs's own volumes once created.
      const project = labels['com.docker.compose.project'];
      const key = labels['com.docker.compose.volume'];
      if (project && key)
        return [
          { name: `${project}_${key}`, labels, dataDir: `/var/lib/docker/volumes/${project}_${key}/_data`, driver: 'local', options: {} },
        ];
      return [...volumes.values()].filter((v) =>
        Object.entries(labels).every(([k, value]) => k in v.labels && (value === '' || v.labels[k] === value)),
      );
    },
    createVolume: async (spec) => {
      calls.push(`engine createVolume ${spec.name}`);
      const volume = {
        name: spec.name,
        labels: spec.labels,
        dataDir: `/var/lib/docker/volumes/${spec.name}/_data`,
        driver: 'local',
        options: spec.options ?? {},
      };
      volumes.set(spec.name, volume);
      return volume;
    },
    startTask: async (task) => void calls.push(`engine startTask ${task.cmd.at(-1)}`),
    makeDirs: async (spec) => void calls.push(`engine makeDirs ${spec.dirs.map((d) => d.path).join(' ')}`),
    runTask: async (task) => {
      calls.push('engine runTask');
      // The measuring script answers with a size (KiB) and PG_VERSION; the clone script with its method.
      return { exitCode: 0, output: task.cmd[2]?.startsWith('set -e; du') ? '1024\n17\n' : 'overlay\n' };
    },
  };

  const store: RecordStore = {
    list: async () => [...records.values()],
    scan: async () => ({ records: [...records.values()], corrupt: [...corrupt.values()] }),
    get: async (name) => {
      const damaged = corrupt.get(name);
      if (damaged) throw corruptRecordError({ repoId: 'repo-1234', records: store }, damaged);
      return structuredClone(records.get(name));
    },
    put: async (r) => void records.set(r.name, structuredClone(r)),
    remove: async (name) => void records.delete(name),
    composeFile: (name) => join(dir, 'state', name, 'compose.yaml'),
    envDir: (name) => join(dir, 'state', name),
    worktreesRoot: join(dir, 'worktrees'),
  };

  const held = new Set<string>();
  const locks: Locks = {
    with: async (name, _options, fn) => {
      await fakes.beforeLock?.(name);
      if (held.has(name) && name.startsWith('env-')) throw new EnvsError('ENV_BUSY', `${name} busy`);
      held.add(name);
      try {
        return await fn();
      } finally {
        held.delete(name);
      }
    },
    isHeld: async (name) => held.has(name),
  };

  fakes.deps = {
    git,
    compose,
    engine,
    ports: new PortRegistry(join(dir, 'ports.json'), join(dir, 'ports'), { isFree: async () => true }),
    probes: { postgres: async () => true },
    app: {
      writeEnvFiles: async () => ({ plan: { files: [], changes: [], skipped: [], warnings: [] }, written: [], skipped: [], warnings: [] }),
      previewEnvFiles: async () => ({ files: [], changes: [], skipped: [], warnings: [] }),
      collectEnvFiles: async () => ({ sources: [], skipped: [] }),
      install: async () => {
        calls.push('app install');
        return { method: 'none', copied: [], durationMs: 0, env: {}, warnings: [] };
      },
      bootstrap: async (o) => {
        calls.push(`app bootstrap ${o.commands.length}`);
        return { steps: [], durationMs: 0 };
      },
      start: async (o) => {
        calls.push(`app start ${o.processes.map((p) => p.name).join(',')}`);
        return [];
      },
      stop: async () => void calls.push('app stop'),
      states: async () => [],
      agentsAvailable: async () => true,
      startAgent: async (o) => {
        calls.push(`agent start ${o.session}`);
        return { window: 'agent', running: true, pid: 1, command: String(o.command), startedAt: '', session: o.session };
      },
      agents: async () => [],
      stopAgents: async () => {},
    },
    subnets: new SubnetRegistry(join(dir, 'subnets.json'), join(dir, 'subnets'), async () => []),
    records: store,
    locks,
    repoId: 'repo-1234',
    home: { path: dir, host: 'test-host' },
    env: {},
    cwd: join(dir, 'repo'),
    now: () => new Date('2026-11-21T00:00:00Z'),
  };
  return fakes;
}
