import { describe, expect, it } from 'vitest';
import type { PlanView } from '../core/preview.ts';
import type { EnvView } from '../core/view.ts';
import { EnvsError } from '../errors.ts';
import {
  destroySummary,
  doctorSummary,
  envCreated,
  envInfo,
  envList,
  envSummary,
  errorJson,
  errorText,
  json,
  planSummary,
} from './output.ts';

/** Each tries to add a line, colour the rest, or reorder what follows. */
const FORGE = '\nerror: forged\r\x1b[31mred\u202Eevil\u200B\u2028';
const forged = (text: string) => `${text}${FORGE}`;

/** Only printable characters and our own newlines; no line that a name made. */
function expectNoForgery(text: string): void {
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/);
  expect(text).not.toMatch(/^error: forged/m);
}

function view(): EnvView {
  return {
    name: forged('feat-x-abc123'),
    branch: forged('feat/x'),
    repo: forged('/repo'),
    worktree: forged('/wt/feat-x'),
    project: forged('envs-app-feat-x'),
    status: 'running',
    ports: [{ service: forged('web'), target: 80, published: 21000, host_ip: '127.0.0.1', protocol: 'tcp' }],
    urls: { [forged('web')]: forged('http://feat-x-abc123.localhost:1355') },
    direct_urls: { [forged('web')]: forged('http://127.0.0.1:21000/') },
    env: { [forged('GREETING')]: forged('hello'), DATABASE_URL: 'postgres://app:***@127.0.0.1:21001/app' },
    services: [forged('web')],
    problems: [forged('a problem')],
    warnings: [forged('a warning')],
    dirty: false,
    merged: false,
    worktree_exists: true,
    base: { ref: forged('main'), commit: forged('0123456789abcdef') },
    compose_file: forged('/state/compose.yaml'),
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:00:00.000Z',
  };
}

function plan(): PlanView {
  return {
    name: forged('feat-x-abc123'),
    branch: forged('feat/x'),
    repo: '/repo',
    worktree: forged('/wt/feat-x'),
    project: 'envs-app-feat-x',
    checkout: { kind: 'new', ref: 'main', commit: '0123456789abcdef' },
    resume: false,
    source_files: [forged('compose.yaml')],
    ports: [],
    copies: [forged('docker/.env')],
    data_paths: [forged('volumes/db/data')],
    env_files: [forged('apps/web/.env')],
    rewrites: [forged('apps/web/.env DATABASE_URL: a → b')],
    processes: [{ name: forged('web'), port: 21000, command: forged('pnpm dev') }],
    changes: [{ kind: 'container_name', subject: forged('web'), from: forged('web-1'), to: forged('web') }],
    warnings: [forged('volume x: external')],
    steps: [forged('git worktree add /wt/feat-x feat/x')],
    compose_file: forged('/state/compose.yaml'),
    compose_yaml: 'services:\n  web:\n    container_name: "web\\nerror: forged"\n    labels:\n      note: evil\u202Etxt.exe\n',
    compose: { services: {} },
  };
}

describe('human output cannot be forged by names', () => {
  it('envSummary, envCreated and envInfo', () => {
    for (const text of [envSummary(view()), envCreated(view()), envInfo(view())]) {
      expectNoForgery(text);
      expect(text).toContain('feat/x\\x0aerror: forged\\x0d\\x1b[31mred\\u202eevil\\u200b\\u2028');
    }
  });

  it('envList keeps one line per env', () => {
    const text = envList([view(), view()]);
    expectNoForgery(text);
    expect(text.trimEnd().split('\n')).toHaveLength(3);
  });

  it('planSummary, the generated YAML included', () => {
    const text = planSummary(plan());
    expectNoForgery(text);
    expect(text).toContain('note: evil\\u202etxt.exe');
    expect(text.match(/^warning: /gm)).toHaveLength(1);
  });

  it('destroySummary and doctorSummary', () => {
    const destroyed = destroySummary({
      name: 'n',
      branch: forged('feat/x'),
      project: 'p',
      worktree: '/wt',
      worktree_removed: true,
      kept_refs: [],
      branch_kept: true,
      forced_files: [{ path: forged('notes.md'), kind: 'untracked' }],
      released_ports: [],
    });
    expectNoForgery(destroyed);
    expect(destroyed.trimEnd().split('\n')).toHaveLength(2);
    // A tracked file --force only reverted is not "deleted".
    const reverted = destroySummary({
      name: 'n',
      branch: 'feat/x',
      project: 'p',
      worktree: '/wt',
      worktree_removed: true,
      kept_refs: [],
      branch_kept: true,
      forced_files: [
        { path: 'www/index.html', kind: 'modified' },
        { path: 'untracked.txt', kind: 'untracked' },
      ],
      released_ports: [],
    });
    expect(reverted).toContain('--force discarded the changes to 1 tracked file(s): www/index.html');
    expect(reverted).toContain('--force deleted 1 untracked or ignored file(s): untracked.txt');
    const doctor = doctorSummary({
      ok: false,
      checks: [{ name: 'compose model', ok: false, detail: forged('bad'), fix: forged('fix it') }],
    });
    expectNoForgery(doctor);
  });

  it('errors: only envs writes the error: and hint: lines; the message keeps its own lines, indented', () => {
    const error = new EnvsError('DIRTY_WORKTREE', `${forged('feat/x')}'s worktree has work:\n  untracked  a.txt`, {
      hint: forged('Commit it'),
    });
    const text = errorText(error);
    expectNoForgery(text);
    expect(text.match(/^\S.*$/gm)).toEqual([expect.stringMatching(/^error: feat\/x/), expect.stringMatching(/^hint: Commit it/)]);
    expect(text).toContain('\n    untracked  a.txt');
  });

  it('a bug is shown with its stack, escaped', () => {
    expectNoForgery(errorText(new Error(forged('boom'))));
  });
});

describe('secrets in errors', () => {
  const error = new EnvsError(
    'COMPOSE_FAILED',
    'docker compose up failed:\nFATAL: password authentication for postgres://app:hunter2@db/app',
    {
      hint: 'PGPASSWORD=hunter2 psql',
      details: { token: 'ghp_FAKEfake0123456789abcdefghijklmnopqr', files: ['a'] },
    },
  );

  it('are redacted in text and JSON', () => {
    expect(errorText(error)).not.toContain('hunter2');
    const shown = JSON.stringify(errorJson(error));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('ghp_FAKE');
    expect(errorJson(error).error).toMatchObject({ code: 'COMPOSE_FAILED', details: { token: '***', files: ['a'] } });
    expect(JSON.stringify(errorJson(new Error('failed: redis://:hunter2@cache')))).not.toContain('hunter2');
  });
});

describe('json', () => {
  it('prints one document, with invisible characters escaped and the same value', () => {
    let stdout = '';
    const out = {
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: () => {},
    };
    json(out, view());
    expect(stdout).toMatch(/^[\x20-\x7e\n]*$/);
    expect(JSON.parse(stdout)).toEqual(view());
  });
});
