/**
 * `envs init claude`: Claude Code's settings file with envs's WorktreeCreate and WorktreeRemove hooks added,
 * edited in place (jsonc-parser's modify: comments, key order and indentation stay), merged with what is
 * there. Pure: text in, text out.
 */
import { applyEdits, type FormattingOptions, modify, type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { EnvsError } from '../errors.ts';
import { printable } from './naming.ts';

export const HOOK_EVENTS = { WorktreeCreate: 'worktree-create', WorktreeRemove: 'worktree-remove' } as const;
type HookEvent = keyof typeof HOOK_EVENTS;

export interface SettingsEdit {
  text: string;
  changed: boolean;
  /** Events whose envs hook was added (absent ones already had it). */
  added: HookEvent[];
}

interface CommandHook {
  type?: unknown;
  command?: unknown;
}

/**
 * Adds `<base> hook worktree-create` / `… worktree-remove` under `hooks.WorktreeCreate` / `hooks.WorktreeRemove`
 * unless an envs hook is there already (any spelling of the command: `envs`, an absolute path). Another
 * WorktreeCreate command hook is refused (CLAUDE_HOOK_CONFLICT): Claude Code takes the worktree path from
 * the hook, and two creators would make two worktrees. Another WorktreeRemove hook stays beside ours.
 */
export function addEnvsHooks(text: string, base: string, file: string): SettingsEdit {
  const source = text.trim() === '' ? '{}\n' : text;
  const errors: ParseError[] = [];
  const settings: unknown = parse(source, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors[0]) {
    const line = source.slice(0, errors[0].offset).split('\n').length;
    throw new EnvsError('CLAUDE_SETTINGS_INVALID', `${file} cannot be read: ${printParseErrorCode(errors[0].error)} on line ${line}.`, {
      hint: 'Fix the file (Claude Code cannot read it either) and run `envs init claude` again. Nothing was changed.',
    });
  }
  if (!isObject(settings)) throw shapeError(file, 'it is not a JSON object');
  const hooks = settings.hooks;
  if (hooks !== undefined && !isObject(hooks)) throw shapeError(file, '"hooks" is not an object');

  const options = { formattingOptions: formatting(source) };
  let out = source;
  const added: HookEvent[] = [];
  for (const event of Object.keys(HOOK_EVENTS) as HookEvent[]) {
    const groups = hooks?.[event];
    if (groups !== undefined && !Array.isArray(groups)) throw shapeError(file, `"hooks.${event}" is not a list`);
    const commands = (groups ?? []).flatMap((g) => (isObject(g) && Array.isArray(g.hooks) ? (g.hooks as CommandHook[]) : []));
    if (commands.some((h) => isEnvsHook(h, HOOK_EVENTS[event]))) continue;
    const other = commands.find((h) => h.type === 'command' || typeof h.command === 'string');
    if (event === 'WorktreeCreate' && other) {
      throw new EnvsError(
        'CLAUDE_HOOK_CONFLICT',
        `${file} has a WorktreeCreate hook already (${printable(String(other.command ?? other.type))}): Claude Code takes the new worktree from one hook, and envs's would compete with it.`,
        { hint: 'Remove that hook (or call `envs hook worktree-create` from it) and run `envs init claude` again. Nothing was changed.' },
      );
    }
    const entry = { hooks: [{ type: 'command', command: `${base} hook ${HOOK_EVENTS[event]}` }] };
    const edits = groups
      ? modify(out, ['hooks', event, -1], entry, { ...options, isArrayInsertion: true })
      : modify(out, ['hooks', event], [entry], options);
    out = applyEdits(out, edits);
    added.push(event);
  }
  if (added.length > 0 && !out.endsWith('\n')) out += '\n';
  return { text: added.length > 0 ? out : text, changed: added.length > 0, added };
}

/** An envs hook for that subcommand, however envs was named (`envs`, a path to its bin, `node …/main.js`). */
function isEnvsHook(hook: CommandHook, sub: string): boolean {
  return typeof hook.command === 'string' && new RegExp(`(^|[\\s/'"])(envs|main\\.js)['"]?\\s+hook\\s+${sub}(\\s|$)`).test(hook.command);
}

/** The file's own indentation and line ends, so inserted lines look like their neighbours. */
function formatting(text: string): FormattingOptions {
  const indent = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  return {
    insertSpaces: !indent.startsWith('\t'),
    tabSize: indent.startsWith('\t') ? 1 : indent.length,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
  };
}

function shapeError(file: string, why: string): EnvsError {
  return new EnvsError('CLAUDE_SETTINGS_INVALID', `${file} is not a Claude Code settings file envs can add hooks to: ${why}.`, {
    hint: 'Fix the file and run `envs init claude` again. Nothing was changed.',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A unified diff of two small texts (3 lines of context), for showing an edit before or after it is made.
 * Line-based LCS: settings files are short.
 */
export function unifiedDiff(before: string, after: string, file: string): string {
  // By line, whatever the line ends (a CRLF file would show a \r on every line).
  const a = before === '' ? [] : before.replace(/\r?\n$/, '').split(/\r?\n/);
  const b = after.replace(/\r?\n$/, '').split(/\r?\n/);
  // lcs(i, j): length of the longest common subsequence of a[i..] and b[j..].
  const width = b.length + 1;
  const table = new Array<number>((a.length + 1) * width).fill(0);
  const lcs = (i: number, j: number) => table[i * width + j] ?? 0;
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] = a[i] === b[j] ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1));
    }
  }
  // Each op with the 1-based line numbers it has reached in a and b (for hunk headers).
  const ops: { kind: ' ' | '-' | '+'; line: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i] ?? '', ai: ++i, bi: ++j });
    } else if (j < b.length && (i >= a.length || lcs(i, j + 1) >= lcs(i + 1, j))) {
      ops.push({ kind: '+', line: b[j] ?? '', ai: i, bi: ++j });
    } else {
      ops.push({ kind: '-', line: a[i] ?? '', ai: ++i, bi: j });
    }
  }
  const changed = ops.map((op, k) => (op.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const last = hunks[hunks.length - 1];
    if (last && k - last[1] <= 6) last[1] = k;
    else hunks.push([k, k]);
  }
  const lines = [`--- ${before === '' ? '/dev/null' : `a/${file}`}`, `+++ b/${file}`];
  for (const [first, last] of hunks) {
    const from = Math.max(0, first - 3);
    const to = Math.min(ops.length - 1, last + 3);
    const slice = ops.slice(from, to + 1);
    const aCount = slice.filter((op) => op.kind !== '+').length;
    const bCount = slice.filter((op) => op.kind !== '-').length;
    const aStart = slice.find((op) => op.kind !== '+')?.ai ?? ops[from]?.ai ?? 0;
    const bStart = slice.find((op) => op.kind !== '-')?.bi ?? ops[from]?.bi ?? 0;
    lines.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const op of slice) lines.push(`${op.kind}${op.line}`);
  }
  return `${lines.join('\n')}\n`;
}
