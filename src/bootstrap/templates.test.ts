import { describe, expect, it } from 'vitest';
import { EnvsError } from '../errors.ts';
import {
  parseTemplate,
  renderTemplates,
  resolveTemplates,
  type TemplateContext,
  templatePorts,
  templateSyntaxProblems,
} from './templates.ts';

const { ports } = templatePorts({
  compose: [
    { service: 'db', target: 5432, port: 21437 },
    { service: 'kong', target: 8000, port: 22800 },
    { service: 'kong', target: 8443, port: 22843 },
    { service: 'api.v2', target: 80, port: 23080 },
  ],
  processes: [{ name: 'web', port: 24300 }],
  supabase: { api: 25321, db: 25322, studio: 25323 },
});
const ctx: TemplateContext = {
  env: { name: 'feat-x-3f9a2c', branch: 'feat/x', host: 'feat-x-3f9a2c', project: 'envs-app-1c2d-feat-x-3f9a2c', worktree: '/w/feat-x' },
  ports,
  db: {
    url: 'postgres://postgres:pw@127.0.0.1:21437/app',
    host: '127.0.0.1',
    port: '21437',
    user: 'postgres',
    password: 'pw',
    name: 'app',
  },
};

describe('templates', () => {
  it('resolves ports, env facts and the database', () => {
    expect(
      renderTemplates(
        {
          API_URL: 'http://127.0.0.1:{{ports.kong.8000}}',
          DB_PORT: '{{ ports.db }}',
          WEB: 'http://{{ env.host }}.localhost:{{ports.web}}/',
          SUPABASE_URL: 'http://127.0.0.1:{{ ports.supabase.api }}',
          DOTTED: '{{ports.api.v2.80}}',
          DOTTED_SINGLE: '{{ports.api.v2}}',
          DATABASE_URL: '{{db.url}}',
          LABEL: '{{env.branch}} in {{env.worktree}}',
          LITERAL: 'a \\{{ b }} c',
          PLAIN: 'no templates',
        },
        ctx,
      ),
    ).toEqual({
      API_URL: 'http://127.0.0.1:22800',
      DB_PORT: '21437',
      WEB: 'http://feat-x-3f9a2c.localhost:24300/',
      SUPABASE_URL: 'http://127.0.0.1:25321',
      DOTTED: '23080',
      DOTTED_SINGLE: '23080',
      DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:21437/app',
      LABEL: 'feat/x in /w/feat-x',
      LITERAL: 'a {{ b }} c',
      PLAIN: 'no templates',
    });
  });

  it('reports every unknown reference at once, naming what exists', () => {
    const { values, problems } = resolveTemplates(
      {
        A: '{{ports.redis.6379}}',
        B: '{{ports.db.5433}}',
        C: '{{ports.kong}}',
        D: '{{env.nope}}',
        E: '{{secrets.x}}',
        F: '{{ports.supabase.pop3}}',
        G: '{{ports.web.3000}}',
        OK: '{{ports.db.5432}}',
      },
      ctx,
    );
    expect(values).toEqual({ OK: '21437' });
    expect(problems).toEqual([
      'env.A: {{ ports.redis.6379 }}: no service or process "redis" with a port (known: api.v2, db, kong, supabase, web)',
      'env.B: {{ ports.db.5433 }}: db publishes no container port 5433 (known: ports.db.5432)',
      'env.C: {{ ports.kong }}: kong has several ports; name one (ports.kong.8000, ports.kong.8443)',
      'env.D: {{ env.nope }}: unknown field (known: env.name, env.branch, env.host, env.project, env.worktree)',
      'env.E: {{ secrets.x }}: unknown namespace "secrets" (known: ports, env, db)',
      'env.F: {{ ports.supabase.pop3 }}: supabase has no port "pop3" (known: ports.supabase.api, ports.supabase.db, ports.supabase.studio)',
      'env.G: {{ ports.web.3000 }}: web has one port; write {{ ports.web }}',
    ]);
  });

  it('throws one CONFIG_INVALID listing them, for plan time', () => {
    let error: unknown;
    try {
      renderTemplates({ A: '{{ports.nope}}', B: '{{db.url}}' }, { ...ctx, db: undefined as never });
    } catch (e) {
      error = e;
    }
    expect(EnvsError.is(error)).toBe(true);
    expect((error as EnvsError).code).toBe('CONFIG_INVALID');
    expect((error as EnvsError).details?.problems).toEqual([
      'env.A: {{ ports.nope }}: no service or process "nope" with a port (known: api.v2, db, kong, supabase, web)',
      'env.B: {{ db.url }}: this env has no database (no single Postgres service; set database.service)',
    ]);
  });

  it('rejects broken syntax and bad variable names without evaluating anything', () => {
    expect(templateSyntaxProblems('X', 'a {{ ports.db')).toEqual([
      '"{{" at position 3 is never closed with "}}" (write \\{{ for a literal "{{")',
    ]);
    expect(templateSyntaxProblems('X', '{"a":{"b":1}}')).toEqual([]);
    expect(templateSyntaxProblems('X', '{{ process.env.HOME }}')).toEqual([
      '{{ process.env.HOME }}: unknown namespace "process" (known: ports, env, db)',
    ]);
    expect(templateSyntaxProblems('X', '{{ ports.db + 1 }}')).toEqual(['{{ ports.db + 1 }} is not a reference like {{ ports.db.5432 }}']);
    expect(templateSyntaxProblems('X', '{{ `rm -rf /` }}')).toEqual(['{{ `rm -rf /` }} is not a reference like {{ ports.db.5432 }}']);
    expect(templateSyntaxProblems('9X', 'v')).toEqual(['"9X" is not a variable name (letters, digits, _; not starting with a digit)']);
    expect(parseTemplate('{{ports.db}}x').segments).toEqual([{ ref: 'ports.db' }, { text: 'x' }]);
  });

  it('refuses a process named like a service, and a service named supabase next to the adapter', () => {
    expect(
      templatePorts({ compose: [{ service: 'web', target: 80, port: 1 }], processes: [{ name: 'web', port: 2 }], supabase: {} }).problems,
    ).toEqual(['process "web" has the name of a compose service; ports.web would be ambiguous']);
    expect(templatePorts({ processes: [{ name: 'supabase', port: 2 }], supabase: { api: 1 } }).problems).toEqual([
      'a compose service or process is named "supabase"; ports.supabase.* would be ambiguous',
    ]);
  });
});
