/**
 * Rendering for people and for machines. The CLI is the only place that prints, and this file holds
 * how things look: JSON on stdout for --json, tables and summaries on stdout otherwise, progress on stderr.
 *
 * Names come from branches, compose files and file systems, so every one of them is shown through
 * `printable` (one line, no escape sequences, no bidi overrides): a name cannot forge a line or a colour.
 * Texts whose lines are ours (messages, the generated YAML) go through `printableLines`. Values were
 * redacted by core (views are built redacted); errors are redacted here, since they come from anywhere.
 */

import type { DestroyResult } from '../core/destroy.ts';
import type { Check } from '../core/doctor.ts';
import { printable as p, printableJson, printableLines } from '../core/naming.ts';
import type { PlanView } from '../core/preview.ts';
import type { PruneResult } from '../core/prune.ts';
import { createRedactor, redactText } from '../core/redact.ts';
import type { EnvView } from '../core/view.ts';
import { EnvsError } from '../errors.ts';

export interface Out {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processOut: Out = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exactly one JSON document; invisible characters escaped as `\uXXXX` (the parsed value is the same). */
export function json(out: Out, value: unknown): void {
  out.stdout(`${printableJson(JSON.stringify(value, null, 2))}\n`);
}

/** A progress line on stderr. */
export function progressLine(message: string): string {
  return `› ${p(redactText(message))}\n`;
}

/** A multi-line text of ours, safe for a terminal: continuation lines indented under the first. */
function block(text: string): string {
  return printableLines(text).replace(/\n/g, '\n  ');
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const MARK: Record<string, string> = { running: '●', stopped: '○', creating: '◐', destroying: '◐', partial: '◑', failed: '✗' };

export function envSummary(view: EnvView, headline?: string): string {
  const lines = [headline ?? `${MARK[view.status] ?? '?'} ${p(view.branch)} is ${p(view.status)}  (env ${p(view.name)})`];
  lines.push(`  worktree  ${p(view.worktree)}`);
  lines.push(`  project   ${p(view.project)}`);
  const preview = Object.values(view.urls)[0];
  if (preview) lines.push(`  url       ${p(preview)}`);
  if (view.ports.length > 0) {
    const rows = view.ports.map((port, i) => {
      const url = view.direct_urls[port.service];
      return [
        i === 0 ? '  ports   ' : '          ',
        p(port.service),
        `${port.target}${port.protocol === 'tcp' ? '' : `/${p(port.protocol)}`}`,
        '→',
        `${p(port.host_ip)}:${port.published}`,
        url?.endsWith(`:${port.published}/`) ? p(url) : '',
      ];
    });
    lines.push(table(rows));
  }
  const shown = Object.entries(view.env).filter(([k]) => !k.startsWith('ENVS_') && !k.startsWith('COMPOSE_') && !k.startsWith('PG'));
  for (const [i, [k, v]] of shown.entries()) lines.push(`${i === 0 ? '  env       ' : '            '}${p(k)}=${p(v)}`);
  for (const problem of view.problems) lines.push(`  ! ${p(problem)}`);
  for (const warning of view.warnings) lines.push(`  warning: ${p(warning)}`);
  return `${lines.join('\n')}\n`;
}

/** What `create` prints: the summary, and where to go. */
export function envCreated(view: EnvView): string {
  return `${envSummary(view, `✓ ${p(view.branch)} is running  (env ${p(view.name)})`)}\n  cd ${p(view.worktree)}\n`;
}

export function envList(views: EnvView[]): string {
  if (views.length === 0) return 'No envs in this repository. Make one with `envs create <branch>`.\n';
  const rows = [['NAME', 'BRANCH', 'STATUS', 'PORTS', 'URL', 'FLAGS', 'WORKTREE']];
  for (const v of views) {
    const flags = [
      v.dirty ? 'dirty' : '',
      v.merged ? `merged(${v.merged_by ?? '?'})` : '',
      v.idle ? 'idle' : '',
      v.worktree_exists === false ? 'no-worktree' : '',
      v.agents?.some((a) => a.running) ? 'agent' : '',
    ]
      .filter(Boolean)
      .join(',');
    rows.push([
      p(v.name),
      p(v.branch),
      p(v.status),
      v.ports.map((port) => `${p(port.service)}:${port.published}`).join(' ') || '-',
      p(Object.values(v.urls)[0] ?? '-'),
      flags || '-',
      p(v.worktree),
    ]);
  }
  return `${table(rows)}\n`;
}

export function envInfo(view: EnvView): string {
  const lines = [envSummary(view).trimEnd()];
  lines.push(`  branch    ${p(view.branch)} (from ${p(view.base.ref)} at ${p(view.base.commit.slice(0, 8))})`);
  lines.push(`  compose   ${p(view.compose_file)}`);
  const states = view.service_states?.map(
    (st) =>
      `${p(st.service)} ${p(st.state)}${st.exit_code !== undefined && st.state !== 'done' ? ` (${st.exit_code})` : ''}${st.health ? ` [${p(st.health)}]` : ''}`,
  );
  lines.push(`  services  ${(states ?? view.services.map(p)).join(', ') || '-'}`);
  if (view.processes?.length) {
    const shown = view.processes.map(
      (pr) => `${p(pr.name)} ${pr.state}${pr.exit_code !== undefined ? ` (${pr.exit_code})` : ''}${pr.port ? ` on ${pr.port}` : ''}`,
    );
    lines.push(`  processes ${shown.join(', ')}`);
  }
  if (view.agents?.length) {
    const shown = view.agents.map(
      (a) =>
        `${p(a.window)} ${a.running ? 'running' : `exited${a.exit_code !== undefined ? ` (${a.exit_code})` : ''}`}: ${p(a.command)} since ${p(a.started_at)}`,
    );
    lines.push(`  agents    ${shown.join(', ')}`);
  }
  if (view.image) lines.push(`  image     ${p(view.image)}`);
  if (view.dirty !== undefined) lines.push(`  dirty     ${view.dirty ? 'yes' : 'no'}`);
  if (view.merged !== undefined) lines.push(`  merged    ${view.merged ? `yes (${view.merged_by ?? '?'})` : 'no'}`);
  lines.push('  variables');
  for (const [k, v] of Object.entries(view.env)) lines.push(`    ${p(k)}=${p(v)}`);
  return `${lines.join('\n')}\n`;
}

export function planSummary(plan: PlanView): string {
  const lines = [
    `Plan for ${p(plan.branch)} (env ${p(plan.name)}${plan.resume ? ', resuming an interrupted create' : ''}) — nothing has been changed.`,
  ];
  lines.push('', 'Steps:');
  for (const step of plan.steps) lines.push(`  ${p(step)}`);
  if (plan.changes.length > 0) {
    lines.push('', 'Changes to the compose model:');
    lines.push(table(plan.changes.map((c) => [`  ${p(c.kind)}`, p(c.subject), p(c.from), '→', p(c.to)])));
  }
  if (plan.rewrites.length > 0) {
    lines.push('', "Values rewritten to the env's ports:");
    for (const rewrite of plan.rewrites) lines.push(`  ${p(rewrite)}`);
  }
  for (const warning of plan.warnings) lines.push(`warning: ${p(warning)}`);
  // The YAML library escapes control characters itself; this catches what it prints raw (bidi, zero-width).
  lines.push('', `Generated compose file (${p(plan.compose_file)}):`, '', printableLines(plan.compose_yaml.trimEnd()));
  return `${lines.join('\n')}\n`;
}

export function destroySummary(result: DestroyResult): string {
  const lines = [
    `✓ destroyed ${p(result.branch)} (env ${p(result.name)}): containers, volumes, networks, ports${result.worktree_removed ? ' and worktree' : ''} removed; branch ${p(result.branch)} kept.`,
  ];
  const few = (files: DestroyResult['forced_files']) =>
    `${files
      .slice(0, 5)
      .map((f) => p(f.path))
      .join(', ')}${files.length > 5 ? ', …' : ''}`;
  const modified = result.forced_files.filter((f) => f.kind === 'modified');
  const removed = result.forced_files.filter((f) => f.kind !== 'modified');
  if (modified.length > 0) lines.push(`  --force discarded the changes to ${modified.length} tracked file(s): ${few(modified)}`);
  if (removed.length > 0) lines.push(`  --force deleted ${removed.length} untracked or ignored file(s): ${few(removed)}`);
  return `${lines.join('\n')}\n`;
}

export function doctorSummary(result: { ok: boolean; checks: Check[] }): string {
  const lines = result.checks.map(
    (c) =>
      `${c.ok ? '✓' : '✗'} ${p(c.name).padEnd(16)} ${block(redactText(c.detail))}${c.fix && !c.ok ? `\n  fix: ${block(redactText(c.fix))}` : ''}`,
  );
  lines.push(result.ok ? '\nAll good.' : '\nSome checks failed; each says how to fix it.');
  return `${lines.join('\n')}\n`;
}

/**
 * An error for people: a user error verbatim with its hint; anything else is a bug, with its stack. Secrets
 * are redacted (also with --show-secrets: an error quotes tools' output, not what the user asked to see),
 * and only the `error:` and `hint:` lines start at the margin, so a name inside cannot forge one.
 */
export function errorText(error: unknown): string {
  if (EnvsError.is(error)) {
    return `error: ${block(redactText(error.message))}${error.hint ? `\nhint: ${block(redactText(error.hint))}` : ''}\n`;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `envs hit a bug (this is not your fault):\n${block(redactText(stack))}\nPlease report it with the command you ran.\n`;
}

export function errorJson(error: unknown): { error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } } {
  const redactor = createRedactor();
  if (EnvsError.is(error)) return { error: redactor.deep(error.toJSON()) };
  return {
    error: {
      code: 'INTERNAL',
      message: redactText(error instanceof Error ? error.message : String(error)),
      hint: 'This is a bug in envs; please report it.',
    },
  };
}

/** `envs prune --merged`: one line per env, its decision and why. */
export function pruneSummary(result: PruneResult): string {
  const lines: string[] = [];
  const verb = result.dry_run ? 'would prune' : 'pruned';
  for (const e of result.pruned) {
    const branch = e.branch_deleted === true ? '; branch deleted' : e.branch_note ? `; branch ${p(e.branch)} ${p(e.branch_note)}` : '';
    lines.push(`${result.dry_run ? '·' : '✓'} ${verb}  ${p(e.branch)} (env ${p(e.name)}): ${p(e.reason)}${branch}`);
  }
  for (const e of result.kept) lines.push(`· kept    ${p(e.branch)} (env ${p(e.name)}): ${p(e.reason)}`);
  for (const e of result.failed) lines.push(`✗ failed  ${p(e.branch)} (env ${p(e.name)}): ${block(redactText(e.error?.message ?? ''))}`);
  if (lines.length === 0) return `No envs in this repository.\n`;
  const counts = `${result.pruned.length} ${verb}, ${result.kept.length} kept${result.failed.length > 0 ? `, ${result.failed.length} failed` : ''} (base ${p(result.base)})`;
  lines.push('', result.dry_run ? `${counts} — dry run, nothing was changed.` : counts);
  return `${lines.join('\n')}\n`;
}
