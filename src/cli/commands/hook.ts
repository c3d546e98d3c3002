import type { Command } from 'commander';
import { printable } from '../../core/naming.ts';
import { redactText } from '../../core/redact.ts';
import { EnvsError } from '../../errors.ts';
import type { Define } from '../program.ts';
import { BUG_EXIT, type CommandContext } from '../runner.ts';

/**
 * `envs hook worktree-create|worktree-remove`: Claude Code's WorktreeCreate/WorktreeRemove hooks (wired by
 * `envs init claude`). The payload is JSON on stdin. worktree-create prints the worktree's absolute path and
 * nothing else on stdout (Claude Code reads it as the path); progress goes to stderr. A failure is one line
 * on stderr and a non-zero exit, which makes Claude Code give up on the worktree.
 */
export function defineHook(program: Command, define: Define): void {
  const hook = program.command('hook').description("Claude Code's worktree hooks: JSON payload on stdin (see `envs init claude`).");
  hook
    .command('worktree-create')
    .description('WorktreeCreate: make (or reuse) the env of branch worktree-<name>; print only its worktree path.')
    .option('--branch-prefix <prefix>', "prefix of the branch made from the payload's name (Claude Code's own: worktree-)")
    .action(
      define<[{ branchPrefix?: string }]>(async (ctx, options) =>
        asHook(ctx, async () => {
          const payloadText = await readStdin(ctx.signal);
          const { parseCreatePayload, worktreeCreateHook } = await import('../../core/hooks.ts');
          const payload = parseCreatePayload(payloadText);
          const deps = await openAt(ctx, payload.cwd);
          const made = await worktreeCreateHook(deps, payload, {
            signal: ctx.signal,
            onProgress: ctx.progress,
            ...(options.branchPrefix !== undefined ? { prefix: options.branchPrefix } : {}),
          });
          if (made.view) {
            const { afterStart } = await import('../../proxy/auto.ts');
            await afterStart({ env: ctx.env, cwd: made.path, signal: ctx.signal, progress: ctx.progress }, made.view);
          }
          ctx.out.stderr(`envs: ${printable(made.branch)}'s env is ready in ${printable(made.path)}\n`);
          return `${made.path}\n`;
        }),
      ),
    );
  hook
    .command('worktree-remove')
    .description("WorktreeRemove: destroy the env of worktree_path with destroy's safety rules (or git worktree remove one without env).")
    .action(
      define<[Record<string, never>]>(async (ctx) =>
        asHook(ctx, async () => {
          const payloadText = await readStdin(ctx.signal);
          const { parseRemovePayload, worktreeRemoveHook } = await import('../../core/hooks.ts');
          const payload = parseRemovePayload(payloadText);
          const deps = await openAt(ctx, payload.cwd ?? payload.worktreePath);
          const outcome = await worktreeRemoveHook(deps, payload, { signal: ctx.signal, onProgress: ctx.progress });
          const said =
            outcome.removed === 'env'
              ? `env ${outcome.result.name} (${printable(outcome.result.branch)}) destroyed, worktree ${outcome.result.worktree_removed ? 'removed' : 'left'}; the branch is kept`
              : outcome.removed === 'worktree'
                ? `${printable(outcome.path)} removed (git worktree remove; it had no env)`
                : printable(outcome.note);
          ctx.out.stderr(`envs: ${said}\n`);
          return '';
        }),
      ),
    );
}

/**
 * Runs a hook body: anything written to process.stdout meanwhile goes to stderr (stdout is the hook's answer
 * and must hold nothing else), then the answer is printed. An error becomes one line (message and hint):
 * Claude Code shows stderr of a failed hook as it is.
 */
async function asHook(ctx: CommandContext, body: () => Promise<string>): Promise<void> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  let answer: string;
  try {
    answer = await body();
  } catch (error) {
    if (EnvsError.is(error)) {
      throw new EnvsError(error.code, oneLine(`${error.message}${error.hint ? ` (${error.hint})` : ''}`), { exitCode: error.exitCode });
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.out.stderr(`envs hit a bug (please report it with the payload): ${printable(redactText(message))}\n`);
    ctx.exitCode = BUG_EXIT;
    return;
  } finally {
    process.stdout.write = write;
  }
  if (answer) ctx.out.stdout(answer);
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .reduce((joined, line) => (joined === '' ? line : `${joined}${joined.endsWith(':') ? ' ' : '; '}${line}`), '');
}

/** The repository the payload's `cwd` is in (Claude Code's project), else CLAUDE_PROJECT_DIR, else -C / the cwd. */
async function openAt(ctx: CommandContext, cwd: string | undefined) {
  const { openEnvs } = await import('../../wire.ts');
  return openEnvs({ cwd: cwd ?? ctx.env.CLAUDE_PROJECT_DIR ?? ctx.cwd, env: ctx.env, signal: ctx.signal, pingEarly: true });
}

/**
 * The payload: stdin up to its end, or up to the first complete JSON document (a caller that keeps the pipe
 * open must not hang the hook). A terminal on stdin is a person running the hook by hand: say what it wants.
 */
async function readStdin(signal: AbortSignal): Promise<string> {
  if (process.stdin.isTTY) {
    throw new EnvsError('HOOK_PAYLOAD_INVALID', "envs hook reads Claude Code's JSON payload on stdin, and stdin is a terminal.", {
      hint: `Claude Code runs it (\`envs init claude\` sets that up); by hand: echo '{"name":"x","cwd":"'$PWD'"}' | envs hook worktree-create`,
    });
  }
  process.stdin.setEncoding('utf8');
  const text = await readPayload(process.stdin, signal);
  process.stdin.pause();
  return text;
}

/**
 * Chunks up to the end of the stream or of the first complete JSON document. A parse is tried only when a
 * chunk ends with `}` (where an object can end): trying after every chunk re-parsed the whole text each time,
 * quadratic in a payload with a large field.
 */
export async function readPayload(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of stream) {
    if (signal.aborted) break;
    const piece = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    chunks.push(piece);
    if (!piece.trimEnd().endsWith('}')) continue;
    const text = chunks.join('');
    try {
      JSON.parse(text);
      return text;
    } catch {
      // not complete yet
    }
  }
  return chunks.join('');
}
