/**
 * The seams between core and the outside world. Core imports only these types; `src/wire.ts` builds the
 * real implementations (git and Compose as subprocesses, the engine via dockerode, files under ENVS_HOME)
 * and unit tests pass fakes of the same shape.
 */
import type { ComposeModel } from '../compose/model.ts';
import type { Lease, LeaseKind, LeaseRequest, PortRange } from '../ports/allocate.ts';
import type { EnvRecord } from './record.ts';

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

export interface AddWorktree {
  path: string;
  branch: string;
  /** Create `branch` at this commit-ish; absent: check out the existing branch. */
  newBranchFrom?: string;
  /** With `newBranchFrom`: set it as upstream (a remote branch of the same name). */
  track?: boolean;
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
  worktrees(): Promise<WorktreeEntry[]>;
  addWorktree(options: AddWorktree): Promise<void>;
  removeWorktree(path: string, force: boolean): Promise<void>;
  pruneWorktrees(): Promise<void>;
  /** Deletes `refs/heads/<branch>` only if it still points at `oid` (compare-and-swap). */
  deleteBranchIfAt(branch: string, oid: string): Promise<boolean>;
  /** Modified, untracked and ignored entries of a worktree. */
  status(worktree: string): Promise<StatusEntry[]>;
  /** Reads files from a commit; paths missing there are absent from the result. */
  readFiles(commit: string, paths: string[]): Promise<Map<string, Buffer>>;
  /** The branches (short names) whose tips are reachable from `base`. */
  mergedInto(base: string): Promise<Set<string>>;
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

export interface ComposeRun {
  project: string;
  file: string;
  projectDir: string;
  signal?: AbortSignal;
}

export interface ComposeClient {
  /** `docker compose config --format json`: the effective model, or COMPOSE_INVALID. */
  render(options: RenderOptions): Promise<ComposeModel>;
  /** `render` for files that are not on disk yet (read from a commit), as if they were at `mountAt`. */
  renderFiles(options: RenderFilesOptions): Promise<ComposeModel>;
  /** Writes a model as a compose file (mode 0600), escaped so Compose reads back the same values. */
  write(file: string, model: ComposeModel): Promise<void>;
  /** `up -d --wait --remove-orphans`; a failure comes back with Compose's stderr (to look for port conflicts). */
  up(run: ComposeRun & { waitTimeoutSeconds: number }): Promise<{ ok: true } | { ok: false; stderr: string }>;
  /** `stop`: containers kept, data kept. */
  stop(run: ComposeRun): Promise<void>;
  /** `-p <project> down -v --remove-orphans`: needs no compose file. */
  downVolumes(project: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void>;
  version(): Promise<string>;
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

export interface LabeledResources {
  containers: string[];
  volumes: string[];
  networks: string[];
  images: string[];
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
  /** Removes what `labeled` found (containers forcibly, images by tag). */
  remove(resources: LabeledResources): Promise<void>;
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

// ---------------------------------------------------------------- records, locks and files

export interface RecordStore {
  list(): Promise<EnvRecord[]>;
  get(name: string): Promise<EnvRecord | undefined>;
  put(record: EnvRecord): Promise<void>;
  /** Removes the record and the env's generated files. */
  remove(name: string): Promise<void>;
  /** Where the env's generated compose file lives. */
  composeFile(name: string): string;
  /** Default directory for this repository's worktrees. */
  worktreesRoot: string;
}

export interface Locks {
  /** Runs fn under a named cross-process lock; waitMs 0 fails at once (ENV_BUSY). */
  with<T>(name: string, options: { what: string; waitMs: number }, fn: () => Promise<T>): Promise<T>;
  isHeld(name: string): Promise<boolean>;
}

export interface Deps {
  git: GitClient;
  compose: ComposeClient;
  engine: Engine;
  ports: PortLeases;
  records: RecordStore;
  locks: Locks;
  /** This repository's identity on the machine (see naming.repoIdFor). */
  repoId: string;
  /** Environment of this process (config knobs such as ENVS_PORT_RANGE, ENVS_FAILPOINT). */
  env: NodeJS.ProcessEnv;
  now(): Date;
}
