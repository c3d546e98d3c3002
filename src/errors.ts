/**
 * The one error family of envs.
 *
 * An `EnvsError` is the user's to fix: it is shown verbatim with its hint and exits with its own code.
 * Anything else that escapes is a bug and is shown with its stack.
 */
const brand = Symbol.for('dev.envs.error');

export type ErrorCode =
  | 'USAGE'
  | 'INVALID_BRANCH'
  | 'NOT_A_GIT_REPO'
  | 'EMPTY_REPO'
  | 'UNKNOWN_REF'
  | 'BRANCH_CHECKED_OUT'
  | 'WORKTREE_PATH_TAKEN'
  | 'WORKTREE_LOCKED'
  | 'ENV_EXISTS'
  | 'ENV_NOT_FOUND'
  | 'AMBIGUOUS_ENV'
  | 'ENV_BUSY'
  | 'LOCK_TIMEOUT'
  | 'CONFIG_INVALID'
  | 'COMPOSE_INVALID'
  | 'COMPOSE_FAILED'
  | 'COMPOSE_MISSING'
  | 'DOCKER_UNAVAILABLE'
  | 'ENGINE_MISMATCH'
  | 'DOCKER_CONTEXT_UNKNOWN'
  | 'COMPOSITION_CHANGED'
  | 'GIT_FAILED'
  | 'PORTS_EXHAUSTED'
  | 'DIRTY_WORKTREE'
  | 'DESTROY_INCOMPLETE'
  | 'CANCELLED'
  | 'OUTSIDE_REPO'
  | 'COMPOSE_NOT_CHOSEN'
  | 'SUBNETS_EXHAUSTED'
  | 'NETWORK_FAILED'
  | 'STATE_CORRUPT'
  | 'DB_FAILED'
  | 'DB_NOT_FOUND'
  | 'SNAPSHOT_NOT_FOUND'
  | 'SNAPSHOT_IN_USE'
  | 'SNAPSHOT_EXISTS'
  | 'SNAPSHOT_INCOMPATIBLE'
  | 'STATE_UNUSABLE'
  | 'IMAGE_PULL_FAILED'
  | 'SERVICE_FAILED'
  | 'BRANCH_EXISTS'
  | 'ENV_FILE_TRACKED'

  // the compose policy (src/compose/policy.ts)
  | 'POLICY_REFUSED'

  // bootstrap (src/bootstrap): dependencies, bootstrap commands, host processes, exec/attach
  | 'INSTALL_FAILED'
  | 'BOOTSTRAP_FAILED'
  | 'PROCESS_FAILED'
  | 'EXEC_FAILED'
  | 'TMUX_MISSING'
  | 'NO_SESSION'

  // the preview router (src/proxy)
  | 'PROXY_FAILED'
  | 'NO_PREVIEW'

  // agents launched in their env (envs agent)
  | 'AGENT_NOT_CONFIGURED'
  | 'AGENT_RUNNING'
  | 'AGENT_FAILED'

  // the MCP server (src/mcp)
  | 'FORCE_NOT_ALLOWED'

  // Claude Code hooks, `envs init claude`, adopting worktrees (src/core/hooks.ts, claude-settings.ts, adopt.ts)
  | 'HOOK_PAYLOAD_INVALID'
  | 'NOT_A_WORKTREE'
  | 'CLAUDE_SETTINGS_INVALID'
  | 'CLAUDE_SETTINGS_READONLY'
  | 'CLAUDE_HOOK_CONFLICT';

export interface EnvsErrorOptions {
  hint?: string;
  exitCode?: number;
  cause?: unknown;
  /** Machine-readable facts for `--json` (e.g. the dirty files). */
  details?: Record<string, unknown>;
}

/** The last `count` non-empty lines of a program's output, for an error message. */
export function lastLines(text: string, count: number): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.slice(-count).join('\n') || '(no output)';
}

export class EnvsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: EnvsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (code === 'USAGE' ? 2 : code === 'CANCELLED' ? 130 : 1);
    this.details = options.details;
    Object.defineProperty(this, 'name', { value: 'EnvsError', enumerable: false });
    Object.defineProperty(this, brand, { value: true, enumerable: false });
  }

  static is(error: unknown): error is EnvsError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}
