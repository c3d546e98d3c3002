/**
 * Rendering for people and for machines. The CLI is the only place that prints, and this file holds
 * how things look: JSON on stdout for --json, tables and summaries on stdout otherwise, progress on stderr.
 */

import type { DestroyResult } from '../core/destroy.ts';
import type { Check } from '../core/doctor.ts';
import type { PlanView } from '../core/preview.ts';
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

export function json(out: Out, value: unknown): void {
  out.stdout(`${JSON.stringify(value, null, 2)}\n`);
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
  const lines = [headline ?? `${MARK[view.status] ?? '?'} ${view.branch} is ${view.status}  (env ${view.name})`];
  lines.push(`  worktree  ${view.worktree}`);
  lines.push(`  project   ${view.project}`);
  if (view.ports.length > 0) {
    const rows = view.ports.map((p, i) => [
      i === 0 ? '  ports   ' : '          ',
      p.service,
      `${p.target}${p.protocol === 'tcp' ? '' : `/${p.protocol}`}`,
      '→',
      `${p.host_ip}:${p.published}`,
      view.urls[p.service] && view.urls[p.service]?.endsWith(`:${p.published}/`) ? (view.urls[p.service] ?? '') : '',
    ]);
    lines.push(table(rows));
  }
  const shown = Object.entries(view.env).filter(([k]) => !k.startsWith('ENVS_') && !k.startsWith('COMPOSE_') && !k.startsWith('PG'));
  for (const [i, [k, v]] of shown.entries()) lines.push(`${i === 0 ? '  env       ' : '            '}${k}=${v}`);
  for (const problem of view.problems) lines.push(`  ! ${problem}`);
  for (const warning of view.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

export function envList(views: EnvView[]): string {
  if (views.length === 0) return 'No envs in this repository. Make one with `envs create <branch>`.\n';
  const rows = [['NAME', 'BRANCH', 'STATUS', 'PORTS', 'URL', 'FLAGS', 'WORKTREE']];
  for (const v of views) {
    const flags = [v.dirty ? 'dirty' : '', v.merged ? 'merged' : '', v.worktree_exists === false ? 'no-worktree' : '']
      .filter(Boolean)
      .join(',');
    rows.push([
      v.name,
      v.branch,
      v.status,
      v.ports.map((p) => `${p.service}:${p.published}`).join(' ') || '-',
      Object.values(v.urls)[0] ?? '-',
      flags || '-',
      v.worktree,
    ]);
  }
  return `${table(rows)}\n`;
}

export function envInfo(view: EnvView): string {
  const lines = [envSummary(view).trimEnd()];
  lines.push(`  branch    ${view.branch} (from ${view.base.ref} at ${view.base.commit.slice(0, 8)})`);
  lines.push(`  compose   ${view.compose_file}`);
  lines.push(`  services  ${view.services.join(', ') || '-'}`);
  if (view.dirty !== undefined) lines.push(`  dirty     ${view.dirty ? 'yes' : 'no'}`);
  if (view.merged !== undefined) lines.push(`  merged    ${view.merged ? 'yes' : 'no'}`);
  lines.push('  variables');
  for (const [k, v] of Object.entries(view.env)) lines.push(`    ${k}=${v}`);
  return `${lines.join('\n')}\n`;
}

export function planSummary(plan: PlanView): string {
  const lines = [
    `Plan for ${plan.branch} (env ${plan.name}${plan.resume ? ', resuming an interrupted create' : ''}) — nothing has been changed.`,
  ];
  lines.push('', 'Steps:');
  for (const step of plan.steps) lines.push(`  ${step}`);
  if (plan.changes.length > 0) {
    lines.push('', 'Changes to the compose model:');
    lines.push(table(plan.changes.map((c) => [`  ${c.kind}`, c.subject, c.from, '→', c.to])));
  }
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  lines.push('', `Generated compose file (${plan.compose_file}):`, '', plan.compose_yaml.trimEnd());
  return `${lines.join('\n')}\n`;
}

export function destroySummary(result: DestroyResult): string {
  const lines = [
    `✓ destroyed ${result.branch} (env ${result.name}): containers, volumes, networks, ports${result.worktree_removed ? ' and worktree' : ''} removed; branch ${result.branch} kept.`,
  ];
  if (result.forced_files.length > 0)
    lines.push(
      `  --force deleted ${result.forced_files.length} file(s): ${result.forced_files
        .slice(0, 5)
        .map((f) => f.path)
        .join(', ')}${result.forced_files.length > 5 ? ', …' : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

export function doctorSummary(result: { ok: boolean; checks: Check[] }): string {
  const lines = result.checks.map(
    (c) => `${c.ok ? '✓' : '✗'} ${c.name.padEnd(16)} ${c.detail}${c.fix && !c.ok ? `\n  fix: ${c.fix}` : ''}`,
  );
  lines.push(result.ok ? '\nAll good.' : '\nSome checks failed; each says how to fix it.');
  return `${lines.join('\n')}\n`;
}

/** An error for people: a user error verbatim with its hint; anything else is a bug, with its stack. */
export function errorText(error: unknown): string {
  if (EnvsError.is(error)) return `error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}\n`;
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `envs hit a bug (this is not your fault):\n${stack}\nPlease report it with the command you ran.\n`;
}

export function errorJson(error: unknown): { error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } } {
  if (EnvsError.is(error)) return { error: error.toJSON() };
  return {
    error: {
      code: 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      hint: 'This is a bug in envs; please report it.',
    },
  };
}
