/**
 * The seams between core and the outside world. Core imports only these types; `src/wire.ts` builds the
 * real implementations (git and Compose as subprocesses, the engine via dockerode, files under ENVS_HOME)
 * and unit tests pass fakes of the same shape.
 */

import type { AgentState, StartAgentOptions, StopAgentsOptions } from '../bootstrap/agent.ts';
import type { BootstrapOptions, BootstrapResult } from '../bootstrap/bootstrap.ts';
import type { ApplyInput, ApplyResult, CollectedSources, EnvFilesOptions, EnvFilesPlan, PreviewInput } from '../bootstrap/env-files.ts';
import type { InstallOptions, InstallResult } from '../bootstrap/install.ts';
import type { ProcessState, StartOptions, StopOptions } from '../bootstrap/processes.ts';
import type { ComposeModel } from '../compose/model.ts';
import type { Lease, LeaseKind, LeaseRequest, PortRange } from '../ports/allocate.ts';
import type { SubnetLease } from '../subnets/allocate.ts';
import type { SubnetReserveOptions } from '../subnets/registry.ts';
import type { HomeMark } from './labels.ts';
import type { CorruptRecord, EnvRecord } from './record.ts';

// ---------------------------------------------------------------- git

export interface RepoInfo {
  /** The main checkout (the directory holding `.git`), absolute. */
  root: string;
  /** `git rev-parse --git-common-dir`, absolute: the same for every worktree of the repo. */
  commonDir: string;
}

export interface WorktreeEntry {
  path: string;
  head?: string;
  /** Short branch name (`feat/x`), when a branch is checked out. */
  branch?: string;
  bare: boolean;
  locked?: string;
  prunable: boolean;
}

/** One line of `git status --porcelain`: `xy` is the two-letter code (`??` untracked, `!!` ignored). */
export interface StatusEntry {
  xy: string;
  path: string;
}

/** One path of a commit as git reads it: a blob (symlinks inside the tree followed), or a link leaving the tree. */
export type TreeRead = { kind: 'blob'; content: Buffer } | { kind: 'outside'; target: string };

/** A file git status does not report — marked skip-worktree or assume-unchanged — that differs from the index. */
export interface HiddenEdit {
  path: string;
  flag: 'skip-worktree' | 'assume-unchanged';
}

export interface CommitInfo {
  sha: string;
  /** Abbreviated as git abbreviates it. */
  short: string;
  subject: string;
}

/** A ref whose commits would be lost with a worktree, and where `keepCommits` would keep it. */
export interface KeepTip {
  /** Name of the kept ref under the prefix: `HEAD`, `worktree/wip`, `modules/lib/heads/main`. */
  name: string;
  /** The ref in its own repository: `HEAD`, `refs/worktree/wip`, `refs/heads/main`. */
  source: string;
  sha: string;
  /** The submodule repository it lives in; absent: this repository. */
  gitDir?: string;
  /** For people: `HEAD`, `refs/worktree/wip`, `submodule lib: refs/heads/main`. */
  from: string;
}

export interface KeptRef {
  ref: string;
  commit: string;
  from: string;
}

/** A submodule repository inside a worktree (checked out, or only its git dir left after a deinit). */
export interface SubmoduleWork {
  /** Relative to the worktree's root (a module's name when it is not checked out). */
  path: string;
  gitDir: string;
  checkedOut: boolean;
  /** Its own `git status` entries, relative to the submodule. */
  status: StatusEntry[];
  hidden: HiddenEdit[];
  /** Reachable from its HEAD or branches, and from none of its remote-tracking branches. */
  commits: CommitInfo[];
  tips: KeepTip[];
}

/** What removing a worktree would lose, and whether the directory is that worktree at all. */
export interface WorktreeInspection {
  /** git has an entry for the path. */
  registered: boolean;
  /** The directory is that worktree: its `.git` points back at git's entry for it. */
  ours: boolean;
  /** The lock reason when the worktree is locked (`git worktree lock`). */
  locked?: string;
  /** `git status` of the worktree (empty unless `ours`). */
  status: StatusEntry[];
  hidden: HiddenEdit[];
  /** Commits only the worktree's HEAD or its per-worktree refs reach. */
  commits: CommitInfo[];
  tips: KeepTip[];
  submodules: SubmoduleWork[];
  /** `git worktree remove` refuses it without --force (it holds submodules). */
  needsForce: boolean;
}

export interface AddWorktree {
  path: string;
  branch: string;
  /** Create `branch` at this commit-ish; absent: check out the existing branch. */
  newBranchFrom?: string;
  /** With `newBranchFrom`: set it as upstream (a remote branch of the same name). */
  track?: boolean;
}

/** A branch to judge against a base; `since`: the commit its env was made at (a branch still there is `unchanged`). */
export interface MergeQuery {
  branch: string;
  since?: string;
}

/** How a base holds a branch's work (src/git/merged.ts): positive evidence, or the commits it lacks. */
export interface BranchMerge {
  branch: string;
  /** The branch's tip; absent: there is no such branch. */
  tip?: string;
  /** Still at `since`: nothing was committed, so nothing was merged. */
  unchanged: boolean;
  /** ancestor: fast-forward or merge commit; rebase: every commit's patch-id in base; squash: base has the whole change. */
  by?: 'ancestor' | 'rebase' | 'squash';
  /** It is the base under another name (`origin/main` for `main`) or the default branch: the full ref it matched. Never merged. */
  baseOf?: string;
  /** Its commits add up to no change since it left base (a revert pair, empty commits, only merges from base): never merged. */
  noChange?: boolean;
  /** The branch had an upstream that no longer exists (`[gone]` after a fetch --prune). */
  upstreamGone: boolean;
  /** Not merged: the branch's commits whose change base lacks (`git cherry` +). */
  missing: CommitInfo[];
}

export interface GitClient {
  readonly repo: RepoInfo;
  /** `git check-ref-format --branch`: the normalised name, or undefined when git refuses it. */
  checkBranchName(branch: string): Promise<string | undefined>;
  /** The commit a ref points to, or undefined. */
  resolveCommit(ref: string): Promise<string | undefined>;
  /** Whether `refs/heads/<branch>` exists, and the remote-tracking ref of the same name if one does. */
  branchState(branch: string): Promise<{ local?: string; remote?: string }>;
  /** The repository's default branch as a ref to start from (`main`, `origin/main`, …). */
  defaultBranch(): Promise<string>;
  /** The default branch with its commit when the same lookup tells it (else resolve the ref). */
  defaultBase(): Promise<{ ref: string; commit?: string }>;
  worktrees(): Promise<WorktreeEntry[]>;
  addWorktree(options: AddWorktree): Promise<void>;
  removeWorktree(path: string, force: boolean): Promise<void>;
  pruneWorktrees(): Promise<void>;
  /** Deletes `refs/heads/<branch>` only if it still points at `oid` (compare-and-swap). */
  deleteBranchIfAt(branch: string, oid: string): Promise<boolean>;
  /** Modified, untracked and ignored entries of a worktree. */
  status(worktree: string): Promise<StatusEntry[]>;
  /**
   * Reads files of a commit, following symlinks inside the tree; a link leaving the tree comes back as
   * `outside`. Paths missing there (or dangling links) are absent from the result.
   */
  readTree(commit: string, paths: string[]): Promise<Map<string, TreeRead>>;
  /** Every tracked path of a commit. */
  listFiles(commit: string): Promise<string[]>;
  /** Which of `paths` (relative to `dir`, a checkout of this repository) git ignores. */
  ignored(dir: string, paths: string[]): Promise<Set<string>>;
  /** Merge evidence of each branch against `base` (UNKNOWN_REF when base is no commit); batched, reads only. */
  mergeStatus(base: string, queries: MergeQuery[]): Promise<Map<string, BranchMerge>>;
  /** Committer time (ms since the epoch) of each commit that exists; one git call for all. */
  commitTimes(shas: string[]): Promise<Map<string, number>>;
  /** Files of a worktree git status hides (skip-worktree, assume-unchanged) that differ from the index. */
  hiddenEdits(worktree: string): Promise<HiddenEdit[]>;
  /** Everything removing the worktree at `path` would lose that `status` alone does not show; reads only. */
  inspectWorktree(path: string): Promise<WorktreeInspection>;
  /** Creates `<prefix>/<tip.name>` for each tip (fetching a submodule's commits into this repository). */
  keepCommits(prefix: string, tips: KeepTip[]): Promise<KeptRef[]>;
  /** Drops git's entry for a worktree whose directory is gone or no longer that worktree; never touches the directory. */
  forgetWorktree(path: string): Promise<void>;
}

// ---------------------------------------------------------------- compose

export interface RenderOptions {
  project: string;
  /** Compose files, absolute. */
  files: string[];
  projectDir: string;
  /** Extra variables for interpolation (never secrets on the command line). */
  env?: Record<string, string>;
}

export interface RenderFilesOptions {
  project: string;
  /** Repository files (POSIX paths relative to the root) to lay out in a scratch directory. */
  files: ReadonlyMap<string, Buffer>;
  /** Which of them are the compose files, in order. */
  composeFiles: string[];
  /** Where the repository will be (the worktree): paths in the model are rewritten to point there. */
  mountAt: string;
  env?: Record<string, string>;
}

/** Strings for Compose to interpolate, with the `.env` of a project directory on disk or laid out from files. */
export type InterpolateOptions = { texts: string[]; env?: Record<string, string> } & (
  | { projectDir: string }
  | { files: ReadonlyMap<string, Buffer>; projectSubdir: string }
);

export interface PullOptions {
  project: string;
  model: ComposeModel;
  projectDir: string;
  services: string[];
  signal?: AbortSignal;
}

export interface ComposeRun {
  project: string;
  file: string;
  projectDir: string;
  signal?: AbortSignal;
  /** Only these services (`up`, `stop`); default: all. */
  services?: string[];
}

export interface ComposeClient {
  /** `docker compose config --format json`: the effective model, or COMPOSE_INVALID. */
  render(options: RenderOptions): Promise<ComposeModel>;
  /** `render` for files that are not on disk yet (read from a commit), as if they were at `mountAt`. */
  renderFiles(options: RenderFilesOptions): Promise<ComposeModel>;
  /** Compose's own interpolation of strings (`${VAR:-x}`), reading no file but the project's `.env`. */
  interpolate(options: InterpolateOptions): Promise<string[]>;
  /** Writes a model as a compose file (mode 0600), escaped so Compose reads back the same values. */
  write(file: string, model: ComposeModel): Promise<void>;
  /** `exec -T <service> <argv…>` in a running service's container (`input` on its stdin): its exit code and output. */
  exec(
    run: ComposeRun & { service: string; argv: string[]; input?: string },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Replaces one volume's driver options in an env's compose file, leaving the rest of the file as it is. */
  setVolumeOptions(file: string, volume: string, options: Record<string, string>): Promise<void>;
  /** `up --detach` (no --wait, no --remove-orphans); a failure comes back with Compose's stderr (port conflicts, pools). */
  up(run: ComposeRun & { timeoutSeconds: number }): Promise<{ ok: true } | { ok: false; stderr: string }>;
  /** `pull --ignore-pull-failures` of some services of a model (as the compose files name their images). */
  pull(options: PullOptions): Promise<{ ok: boolean; stderr: string }>;
  /** `stop`: containers kept, data kept. */
  stop(run: ComposeRun): Promise<void>;
  /** `-p <project> down -v`: needs no compose file. */
  downVolumes(project: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void>;
  version(): Promise<string>;
  /** COMPOSE_MISSING unless the program Compose runs as exists and may be executed (no subprocess). */
  ensureRunnable(): Promise<void>;
}

// ---------------------------------------------------------------- engine

export interface EngineInfo {
  id: string;
  version: string;
  /** The endpoint we talked to (DOCKER_HOST or the socket). */
  endpoint: string;
}

export interface PublishedPort {
  service: string;
  target: number;
  published: number;
  host_ip: string;
  protocol: string;
}

export interface ContainerSummary {
  id: string;
  project: string;
  service: string;
  state: string;
  health?: string;
  labels: Record<string, string>;
  ports: PublishedPort[];
}

/** What one `inspect` of a container says about its life: enough to tell done, crashing and stopped apart. */
export interface ContainerDetail {
  id: string;
  service: string;
  /** created, running, restarting, exited, paused, dead, removing. */
  status: string;
  exitCode: number;
  restartCount: number;
  health?: 'starting' | 'healthy' | 'unhealthy';
  startedAt: string;
  /** The restart policy the engine applies (`no`, `always`, `unless-stopped`, `on-failure`). */
  restartPolicy: string;
}

/** One resource on the engine with its labels (what `envs gc` sorts by owner). */
export interface LabeledItem {
  kind: 'container' | 'volume' | 'network' | 'image';
  /** What removal takes: a container's, network's or image's id, a volume's name. */
  id: string;
  /** For people: the container's or network's name, the volume's name, the image's first tag (or its short id). */
  name: string;
  labels: Record<string, string>;
}

export interface LabeledResources {
  containers: string[];
  volumes: string[];
  networks: string[];
  images: string[];
}

/** A volume on the engine, with where its data is on the engine's host. */
export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
  /** The volume's directory on the engine's host (for a bind-type local volume: its device). */
  dataDir: string;
  driver: string;
  options: Record<string, string>;
}

/** A short-lived container envs runs itself (file work as root on volumes: snapshot copies, clone layers). */
export interface TaskSpec {
  image: string;
  /** The program and its arguments (the image's entrypoint is replaced). */
  cmd: string[];
  /** `volume`: a named volume; `bind`: a directory on the engine's host. */
  mounts: { kind: 'volume' | 'bind'; source: string; target: string; readOnly?: boolean }[];
  labels: Record<string, string>;
  /** How long the task may run (copies of big databases take a while). */
  timeoutMs: number;
}

/** Empty directories made under a mount without running anything (`Engine.makeDirs`). */
export interface DirsSpec {
  /** An image the engine has: the container holding the mount is created from it, never started. */
  image: string;
  mount: TaskSpec['mounts'][number];
  /** Paths relative to the mount, each with its owner and mode (missing parents are made root-owned, 0755). */
  dirs: { path: string; uid: number; gid: number; mode: number }[];
  labels: Record<string, string>;
}

export interface Engine {
  /** Pings the daemon; DOCKER_UNAVAILABLE with a fix when it does not answer. */
  info(): Promise<EngineInfo>;
  /** Starts loading what the calls after a long wait need; returns at once (a hint, may do nothing). */
  prepare(): void;
  /** Containers (running or not) carrying all of the given labels. */
  containers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Everything carrying the given labels. */
  labeled(labels: Record<string, string>): Promise<LabeledResources>;
  /** Everything carrying the given labels, each with its own labels. */
  inventory(labels: Record<string, string>): Promise<LabeledItem[]>;
  /** Removes what `labeled` found (containers forcibly, images by id, dangling ones included). */
  remove(resources: LabeledResources): Promise<void>;
  /** One inspect per container. */
  inspect(ids: string[]): Promise<ContainerDetail[]>;
  /** The last `tail` lines of a container's output (stdout and stderr). */
  logs(id: string, tail: number): Promise<string>;
  /** Which of these image references the engine has locally. */
  imagesPresent(refs: string[]): Promise<Set<string>>;
  /**
   * Removes `<parent>/<name>` as root through a short-lived container of `image` (files an env's container
   * wrote as root in a bind mount); the container carries the project's labels.
   */
  removeAsRoot(options: { parent: string; name: string; image: string; project: string }): Promise<void>;
  /** IPv4 subnets of the engine's networks, except those of the given Compose project. */
  networkSubnets(exceptProject?: string): Promise<string[]>;
  /** Volumes carrying all of the given labels. */
  volumes(labels: Record<string, string>): Promise<VolumeInfo[]>;
  /** Creates a volume (the local driver unless said otherwise). */
  createVolume(spec: {
    name: string;
    labels: Record<string, string>;
    driver?: string;
    options?: Record<string, string>;
  }): Promise<VolumeInfo>;
  /** Runs a task container as root with no network, waits for it, removes it: its exit code and output. */
  runTask(task: TaskSpec): Promise<{ exitCode: number; output: string }>;
  /**
   * Starts a task container that removes itself when it ends, and returns once it runs: work whose end nobody
   * waits for (it carries the labels, so destroy and gc find it if it outlives its purpose).
   */
  startTask(task: TaskSpec): Promise<void>;
  /**
   * Makes directories with given owners and modes in a volume or a host directory, through the engine's
   * archive upload into a container that is created and removed but never started: a tenth of a task's cost.
   */
  makeDirs(spec: DirsSpec): Promise<void>;
}

// ---------------------------------------------------------------- ports

export type Protocol = 'tcp' | 'udp';

export interface PortProbe {
  /** True when nobody listens on the port on 127.0.0.1 nor ::1. */
  isFree(port: number, protocol: Protocol): Promise<boolean>;
}

export interface ReserveRequest {
  owner: { project: string; repo: string; env: string };
  requests: LeaseRequest[];
  range: PortRange;
  /** Ports that just failed to bind: never hand them out again in this call. */
  avoid?: ReadonlySet<number>;
  /** The kind of lease this call manages (default compose); the env's leases of other kinds are kept. */
  kind?: LeaseKind;
}

export interface PortLeases {
  /** Leases ports for an env under the machine-wide lock, keeping those it holds; returns its leases. */
  reserve(request: ReserveRequest): Promise<Lease[]>;
  /** What reserve would give now, writing nothing. */
  preview(request: ReserveRequest): Promise<Lease[]>;
  release(project: string): Promise<void>;
  leases(project?: string): Promise<Lease[]>;
}

// ---------------------------------------------------------------- subnets

export interface SubnetLeases {
  /** Leases subnets for an env's networks under the machine-wide lock, keeping those it holds; returns its leases. */
  reserve(request: SubnetReserveOptions): Promise<SubnetLease[]>;
  /** What reserve would give now, writing nothing. */
  preview(request: SubnetReserveOptions): Promise<SubnetLease[]>;
  release(project: string): Promise<void>;
  leases(project?: string): Promise<SubnetLease[]>;
}

// ---------------------------------------------------------------- records, locks and files

export interface RecordStore {
  /** The readable records (a corrupt file is skipped here, so it never stops the other envs). */
  list(): Promise<EnvRecord[]>;
  /** The readable records and the record files that cannot be read. */
  scan(): Promise<{ records: EnvRecord[]; corrupt: CorruptRecord[] }>;
  /** The env's record; undefined when there is none; STATE_CORRUPT when its file cannot be read. */
  get(name: string): Promise<EnvRecord | undefined>;
  put(record: EnvRecord): Promise<void>;
  /** Removes the record and the env's generated files. */
  remove(name: string): Promise<void>;
  /** Where the env's generated compose file lives. */
  composeFile(name: string): string;
  /** The env's own directory of generated files (compose file, process state and logs). */
  envDir(name: string): string;
  /** Default directory for this repository's worktrees. */
  worktreesRoot: string;
}

export interface Locks {
  /** Runs fn under a named cross-process lock; waitMs 0 fails at once (ENV_BUSY). */
  with<T>(name: string, options: { what: string; waitMs: number }, fn: () => Promise<T>): Promise<T>;
  isHeld(name: string): Promise<boolean>;
}

/**
 * What runs on the host for an env's app (src/bootstrap): dependency installs, `bootstrap:` commands, host
 * processes. A seam so core's unit tests start nothing.
 */
export interface AppRunner {
  /** Env files from the main checkout into the worktree, rewritten to the env's ports (bootstrap/env-files.ts). */
  writeEnvFiles(input: ApplyInput): Promise<ApplyResult>;
  /** What writeEnvFiles would write, writing nothing (plan). */
  previewEnvFiles(input: PreviewInput): Promise<EnvFilesPlan>;
  /** The main checkout's env files those two copy, read (a plan reads them once, beside its other reads). */
  collectEnvFiles(input: EnvFilesOptions & { repo: string }): Promise<CollectedSources>;
  install(options: InstallOptions): Promise<InstallResult>;
  bootstrap(options: BootstrapOptions): Promise<BootstrapResult>;
  start(options: StartOptions): Promise<ProcessState[]>;
  stop(options: StopOptions): Promise<void>;
  states(stateDir: string): Promise<ProcessState[]>;
  /** Agents in the env's tmux session (bootstrap/agent.ts): whether tmux is there, start, states, stop. */
  agentsAvailable(baseEnv: NodeJS.ProcessEnv): Promise<boolean>;
  startAgent(options: StartAgentOptions): Promise<AgentState>;
  agents(stateDir: string): Promise<AgentState[]>;
  stopAgents(options: StopAgentsOptions): Promise<void>;
}

/** Network checks of what an env runs (seams, so unit tests need no server). */
export interface Probes {
  /** Polls until a Postgres server accepts connections; false at the deadline or on abort. */
  postgres(
    target: { host: string; port: number; user: string; database: string },
    deadline: number,
    signal?: AbortSignal,
  ): Promise<boolean>;
}

export interface Deps {
  git: GitClient;
  compose: ComposeClient;
  engine: Engine;
  ports: PortLeases;
  subnets: SubnetLeases;
  probes: Probes;
  app: AppRunner;
  records: RecordStore;
  locks: Locks;
  /** This repository's identity on the machine (see naming.repoIdFor). */
  repoId: string;
  /** The state directory and host, labelled on everything envs makes (core/labels.ts: what `envs gc` may remove). */
  home: HomeMark;
  /** The environment envs runs with (config knobs such as ENVS_PORT_RANGE, ENVS_FAILPOINT); never process.env below here. */
  env: NodeJS.ProcessEnv;
  /** The directory relative paths are resolved against (an `<env>` given as a path); never process.cwd() below here. */
  cwd: string;
  now(): Date;
}
