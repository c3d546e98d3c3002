import { access, constants, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, posix } from 'node:path';
import type { ComposeClient, ComposeRun, InterpolateOptions, PullOptions, RenderFilesOptions, RenderOptions } from '../core/deps.ts';
import { EnvsError, lastLines } from '../errors.ts';
import { type RunResult, run } from '../process/run.ts';
import { writeFileAtomic } from '../state/atomic.ts';
import { ensureTempDir, tempPrefix } from '../state/temp.ts';
import { stateError } from '../state/unusable.ts';
import { type ComposeCommand, locateCompose } from './locate.ts';
import type { ComposeModel } from './model.ts';
import { relocate } from './relocate.ts';
import { composeYaml, withVolumeOptions } from './write.ts';

/**
 * Variables that would let the user's shell redirect our Compose calls to another project or file set.
 * We always say `-p` and `-f` ourselves (COMPOSE_FILE is read by envs itself, see core/source.ts).
 * COMPOSE_PROFILES is kept: the profiles a user activates are part of what their stack is.
 */
const STRIPPED = ['COMPOSE_PROJECT_NAME', 'COMPOSE_FILE', 'COMPOSE_PATH_SEPARATOR', 'COMPOSE_ENV_FILES'];

/** `docker compose config` on a sane file takes well under a second; a pathological one is stopped. */
const RENDER_TIMEOUT_MS = 60_000;

export class CliComposeClient implements ComposeClient {
  private readonly env: NodeJS.ProcessEnv;
  /** Where scratch directories go (`$ENVS_HOME/tmp`): they hold a branch's env files, so never the system temp dir. */
  private readonly scratchDir: string;
  /** Looked up once, as soon as the client exists, so no call waits on the file system for it. */
  private readonly command: Promise<ComposeCommand>;

  /** `env`: the environment Compose runs with (and where ENVS_COMPOSE may say how to run it). */
  constructor(env: NodeJS.ProcessEnv, scratchDir: string) {
    this.scratchDir = scratchDir;
    this.env = Object.fromEntries(Object.entries(env).filter(([key]) => !STRIPPED.includes(key)));
    this.command = locateCompose(this.env);
  }

  private async compose(
    args: string[],
    options: { cwd?: string; env?: Record<string, string>; signal?: AbortSignal; input?: string } = {},
  ): Promise<RunResult> {
    const { file, prefix } = await this.command;
    return run(file, [...prefix, ...args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { ...this.env, ...options.env },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
  }

  async render(options: RenderOptions): Promise<ComposeModel> {
    const args = ['-p', options.project, '--project-directory', options.projectDir];
    for (const file of options.files) args.push('-f', file);
    args.push('config', '--format', 'json');
    const result = await this.compose(args, { cwd: options.projectDir, env: options.env, signal: AbortSignal.timeout(RENDER_TIMEOUT_MS) });
    if (result.cancelled) {
      throw new EnvsError(
        'COMPOSE_INVALID',
        `docker compose config did not finish within ${RENDER_TIMEOUT_MS / 1000} s on this compose file.`,
        {
          hint: 'A compose file renders in well under a second; check what this branch committed (huge or self-expanding files).',
        },
      );
    }
    if (result.exitCode !== 0) {
      missingCompose(result, this.env);
      throw new EnvsError('COMPOSE_INVALID', `Compose rejected the compose file: ${lastLines(result.stderr, 6)}`, {
        hint: 'Fix the compose file (`docker compose config` shows the same error), commit it on the branch, and run the command again.',
      });
    }
    return JSON.parse(result.stdout) as ComposeModel;
  }

  async renderFiles(options: RenderFilesOptions): Promise<ComposeModel> {
    // A scratch copy of just the files Compose reads, so a branch is validated before any worktree exists.
    return this.inScratch(options.files, async (scratch) => {
      const first = options.composeFiles[0] ?? '';
      const projectDir = join(
        scratch,
        ...posix
          .dirname(first)
          .split('/')
          .filter((p) => p !== '.'),
      );
      try {
        const model = await this.render({
          project: options.project,
          files: options.composeFiles.map((file) => join(scratch, ...file.split('/'))),
          projectDir,
          ...(options.env ? { env: options.env } : {}),
        });
        return relocate(model, scratch, options.mountAt);
      } catch (error) {
        // Compose names files by their scratch path; say where they will be instead.
        if (EnvsError.is(error))
          throw new EnvsError(error.code, relocate(error.message, scratch, options.mountAt), { hint: error.hint ?? '' });
        throw error;
      }
    });
  }

  async interpolate(options: InterpolateOptions): Promise<string[]> {
    if (options.texts.length === 0) return [];
    // Compose interpolates label values (and reads nothing else for them): a document of labels on stdin.
    const labels = Object.fromEntries(options.texts.map((text, i) => [`t${i}`, text]));
    const doc = await composeYaml({ services: { envs_interpolate: { image: 'scratch', labels } } });
    const run = async (projectDir: string) => {
      const result = await this.compose(
        ['-p', 'envs-interpolate', '--project-directory', projectDir, '-f', '-', 'config', '--format', 'json'],
        {
          cwd: projectDir,
          env: options.env,
          input: doc,
          signal: AbortSignal.timeout(RENDER_TIMEOUT_MS),
        },
      );
      if (result.exitCode !== 0) {
        missingCompose(result, this.env);
        throw new EnvsError('COMPOSE_INVALID', `Compose could not interpolate a path: ${lastLines(result.stderr, 4)}`, {
          hint: "Set the variable it names (in your environment or the project directory's .env), or write the path without interpolation.",
        });
      }
      const model = JSON.parse(result.stdout) as ComposeModel;
      const out = model.services.envs_interpolate?.labels ?? {};
      // Compose prints a literal `$` as `$$`.
      return options.texts.map((_, i) => (out[`t${i}`] ?? '').split('$$').join('$'));
    };
    if ('projectDir' in options) return run(options.projectDir);
    return this.inScratch(options.files, (scratch) => run(join(scratch, ...options.projectSubdir.split('/').filter((p) => p !== '.'))));
  }

  /** Lays files out in a private scratch directory, runs `fn` in it, and removes it. */
  private async inScratch<T>(files: ReadonlyMap<string, Buffer>, fn: (scratch: string) => Promise<T>): Promise<T> {
    const scratch = await realpath(
      await mkdtemp(join(await ensureTempDir(this.scratchDir), tempPrefix('render'))).catch((error) => {
        throw stateError(error, this.scratchDir); // a read-only ENVS_HOME whose tmp/ exists: the user's to fix
      }),
    );
    try {
      for (const [path, content] of files) {
        const target = join(scratch, ...path.split('/'));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content, { mode: 0o600 });
      }
      return await fn(scratch);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async write(file: string, model: ComposeModel): Promise<void> {
    await writeFileAtomic(file, await composeYaml(model), { tmpDir: this.scratchDir });
  }

  async exec(
    run: ComposeRun & { service: string; argv: string[]; input?: string },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const result = await this.compose([...target(run), 'exec', '-T', run.service, ...run.argv], {
      cwd: run.projectDir,
      signal: run.signal,
      ...(run.input !== undefined ? { input: run.input } : {}),
    });
    cancelled(result);
    missingCompose(result, this.env);
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  async setVolumeOptions(file: string, volume: string, options: Record<string, string>): Promise<void> {
    const text = await readFile(file, 'utf8');
    await writeFileAtomic(file, await withVolumeOptions(text, volume, options), { tmpDir: this.scratchDir });
  }

  async up(run: ComposeRun & { timeoutSeconds: number }): Promise<{ ok: true } | { ok: false; stderr: string }> {
    // No --wait: Compose 2.26's wait fails on one-shot services and disabled healthchecks; core/wait.ts waits.
    // No --remove-orphans: a container of the project that the file no longer names is not envs's to delete.
    const signal = withTimeout(run.signal, run.timeoutSeconds);
    const result = await this.compose([...target(run), 'up', '--detach', '--quiet-pull', ...(run.services ?? [])], {
      cwd: run.projectDir,
      signal,
    });
    if (result.cancelled && !run.signal?.aborted)
      return { ok: false, stderr: `docker compose up did not finish within ${run.timeoutSeconds} s` };
    cancelled(result);
    if (result.exitCode === 0) return { ok: true };
    missingCompose(result, this.env);
    return { ok: false, stderr: result.stderr };
  }

  async pull(options: PullOptions): Promise<{ ok: boolean; stderr: string }> {
    // The images as the compose files name them, before envs re-tags anything: a scratch file of the model.
    return this.inScratch(new Map([['compose.yaml', Buffer.from(await composeYaml(options.model))]]), async (scratch) => {
      const result = await this.compose(
        [
          '-p',
          options.project,
          '-f',
          join(scratch, 'compose.yaml'),
          '--project-directory',
          options.projectDir,
          'pull',
          '--quiet',
          '--ignore-pull-failures',
          ...options.services,
        ],
        { cwd: scratch, ...(options.signal ? { signal: options.signal } : {}) },
      );
      cancelled(result);
      missingCompose(result, this.env);
      return { ok: result.exitCode === 0, stderr: result.stderr };
    });
  }

  async stop(run: ComposeRun): Promise<void> {
    const result = await this.compose([...target(run), 'stop', ...(run.services ?? [])], { cwd: run.projectDir, signal: run.signal });
    cancelled(result);
    if (result.exitCode !== 0) {
      missingCompose(result, this.env);
      throw failed('stop', result);
    }
  }

  async downVolumes(project: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    // No -f: Compose rebuilds the project from its labels, so this works when the worktree is gone.
    const result = await this.compose(['-p', project, 'down', '--volumes', '--timeout', String(timeoutSeconds)], {
      signal,
    });
    cancelled(result);
    if (result.exitCode !== 0) {
      missingCompose(result, this.env);
      throw failed('down', result);
    }
  }

  async ensureRunnable(): Promise<void> {
    const { file } = await this.command;
    if (!(await executable(file, this.env.PATH))) throw composeNotFound(file, this.env);
  }

  async version(): Promise<string> {
    const result = await this.compose(['version', '--short']);
    if (result.exitCode !== 0) {
      missingCompose(result, this.env);
      throw failed('version', result);
    }
    return result.stdout.trim().replace(/^v/, '');
  }
}

/** The caller's signal, also fired after `seconds`. */
function withTimeout(signal: AbortSignal | undefined, seconds: number): AbortSignal {
  const timeout = AbortSignal.timeout(seconds * 1000);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

function target(run: ComposeRun): string[] {
  return ['-p', run.project, '-f', run.file, '--project-directory', run.projectDir];
}

/** A program name found on PATH, or a path, that may be executed. */
async function executable(file: string, path: string | undefined): Promise<boolean> {
  const candidates = file.includes('/')
    ? [file]
    : (path ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, file));
  for (const candidate of candidates) {
    if (
      await access(candidate, constants.X_OK).then(
        () => stat(candidate).then((s) => s.isFile()),
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** The program envs runs Compose as is missing (ENVS_COMPOSE, the plugin, or `docker`). */
function composeNotFound(file: string, env: NodeJS.ProcessEnv): EnvsError {
  return new EnvsError('COMPOSE_MISSING', `${file} (how envs runs Docker Compose) was not found or cannot be executed.`, {
    hint: env.ENVS_COMPOSE?.trim()
      ? 'ENVS_COMPOSE names it: point it at docker-compose or "docker compose", or unset it.'
      : 'Install Docker (Engine + the Compose v2 plugin, 2.24.4 or later) and make sure `docker` is on PATH.',
  });
}

function missingCompose(result: RunResult, env: NodeJS.ProcessEnv): void {
  const stderr = result.stderr;
  if (result.spawnError) throw composeNotFound(result.spawnError.path ?? 'docker', env);
  if (/is not a docker command|unknown command "compose"|unknown shorthand flag: 'p'/.test(stderr)) {
    throw new EnvsError('COMPOSE_MISSING', 'Docker Compose v2 (`docker compose`) is not installed.', {
      hint: 'Install the Compose v2 plugin, 2.24.4 or later (package docker-compose-plugin, or Docker Desktop).',
    });
  }
}

function cancelled(result: RunResult): void {
  if (result.cancelled) throw new EnvsError('CANCELLED', 'Cancelled.');
}

function failed(command: string, result: RunResult): EnvsError {
  if (result.stderr.trim() === '') {
    return new EnvsError(
      'COMPOSE_FAILED',
      `docker compose ${command} failed (exit code ${result.exitCode ?? 'none'}) and printed nothing.`,
      {
        hint: '`envs doctor` checks the engine and Compose; ENVS_DEBUG=1 shows the command envs ran.',
      },
    );
  }
  return new EnvsError('COMPOSE_FAILED', `docker compose ${command} failed: ${lastLines(result.stderr, 8)}`, {
    hint: "The message above is Compose's own. `envs doctor` checks the engine and Compose.",
  });
}
