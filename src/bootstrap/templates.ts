import { EnvsError } from '../errors.ts';

/**
 * `env:` in envs.yaml: variables of the env written as templates, resolved against the env's facts.
 *
 *   API_URL: "http://127.0.0.1:{{ ports.kong.8000 }}"
 *
 * The whole language is `{{ <namespace>.<path> }}` (spaces inside the braces optional) and `\{{` for a
 * literal `{{` (a lone `}}` is text, so JSON values need no escaping). Nothing is evaluated: a reference
 * is looked up, or it is an error that names what exists.
 *
 *   ports.<service>.<container port>  host port of a compose service's published port
 *   ports.<service>                   the same, when the service publishes exactly one port
 *   ports.<process>                   host port of a process from `processes:`
 *   ports.supabase.<name>             a Supabase CLI port: api, db, shadow, pooler, studio, inbucket,
 *                                     smtp, pop3, analytics, inspector
 *   env.name | env.branch | env.host | env.project | env.worktree
 *   db.url | db.host | db.port | db.user | db.password | db.name   the env's database (DATABASE_URL, PG*)
 */

export const ENV_FIELDS = ['name', 'branch', 'host', 'project', 'worktree'] as const;
export const DB_FIELDS = ['url', 'host', 'port', 'user', 'password', 'name'] as const;

/** Something that owns host ports, as templates see it. */
export interface PortOwner {
  kind: 'service' | 'process' | 'supabase';
  /** The port `ports.<owner>` means, when there is exactly one. */
  single?: number;
  /** `ports.<owner>.<key>`: container port (services) or port name (Supabase). */
  byKey: Record<string, number>;
}

export interface TemplateContext {
  env: Record<(typeof ENV_FIELDS)[number], string>;
  ports: Record<string, PortOwner>;
  /** Absent when the env has no database. */
  db?: Record<(typeof DB_FIELDS)[number], string>;
}

type Segment = { text: string } | { ref: string };

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REF = /^([a-z]+)\.([A-Za-z0-9_.-]+)$/;

/** Splits a template into text and references; every syntax problem is reported. */
export function parseTemplate(template: string): { segments: Segment[]; problems: string[] } {
  const segments: Segment[] = [];
  const problems: string[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('\\{{', i)) {
      text += '{{';
      i += 3;
    } else if (template.startsWith('{{', i)) {
      const end = template.indexOf('}}', i + 2);
      if (end === -1) {
        problems.push(`"{{" at position ${i + 1} is never closed with "}}" (write \\{{ for a literal "{{")`);
        break;
      }
      const ref = template.slice(i + 2, end).trim();
      if (!REF.test(ref)) problems.push(`{{${template.slice(i + 2, end)}}} is not a reference like {{ ports.db.5432 }}`);
      if (text) segments.push({ text });
      text = '';
      segments.push({ ref });
      i = end + 2;
    } else {
      text += template[i];
      i += 1;
    }
  }
  if (text) segments.push({ text });
  return { segments, problems };
}

/** Syntax problems of one `env:` entry, for the config schema (references are checked later, against the env). */
export function templateSyntaxProblems(name: string, template: string): string[] {
  const problems = VAR_NAME.test(name) ? [] : [`"${name}" is not a variable name (letters, digits, _; not starting with a digit)`];
  const { segments, problems: syntax } = parseTemplate(template);
  problems.push(...syntax);
  for (const segment of segments) {
    if ('ref' in segment && REF.test(segment.ref)) {
      const namespace = segment.ref.split('.')[0] as string;
      if (!['ports', 'env', 'db'].includes(namespace)) {
        problems.push(`{{ ${segment.ref} }}: unknown namespace "${namespace}" (known: ports, env, db)`);
      }
    }
  }
  return problems;
}

function resolveRef(ref: string, ctx: TemplateContext): { value?: string; problem?: string } {
  const [namespace, ...rest] = ref.split('.');
  const path = rest.join('.');
  if (namespace === 'env') {
    return (ENV_FIELDS as readonly string[]).includes(path)
      ? { value: ctx.env[path as (typeof ENV_FIELDS)[number]] }
      : { problem: `{{ ${ref} }}: unknown field (known: ${ENV_FIELDS.map((f) => `env.${f}`).join(', ')})` };
  }
  if (namespace === 'db') {
    if (!(DB_FIELDS as readonly string[]).includes(path)) {
      return { problem: `{{ ${ref} }}: unknown field (known: ${DB_FIELDS.map((f) => `db.${f}`).join(', ')})` };
    }
    if (!ctx.db) return { problem: `{{ ${ref} }}: this env has no database (no single Postgres service; set database.service)` };
    return { value: ctx.db[path as (typeof DB_FIELDS)[number]] };
  }
  if (namespace === 'ports') return resolvePort(ref, path, ctx);
  return { problem: `{{ ${ref} }}: unknown namespace "${namespace}" (known: ports, env, db)` };
}

function resolvePort(ref: string, path: string, ctx: TemplateContext): { value?: string; problem?: string } {
  const owners = Object.keys(ctx.ports).sort();
  const known = owners.length ? owners.join(', ') : 'none: this env publishes no port';
  // Service names may contain dots: the longest owner name that prefixes the path wins.
  const owner = owners.filter((o) => path === o || path.startsWith(`${o}.`)).sort((a, b) => b.length - a.length)[0];
  if (owner === undefined) return { problem: `{{ ${ref} }}: no service or process "${path.split('.')[0]}" with a port (known: ${known})` };
  const entry = ctx.ports[owner] as PortOwner;
  const keys = Object.keys(entry.byKey).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  if (path === owner) {
    if (entry.single !== undefined) return { value: String(entry.single) };
    return { problem: `{{ ${ref} }}: ${owner} has several ports; name one (${keys.map((k) => `ports.${owner}.${k}`).join(', ')})` };
  }
  const key = path.slice(owner.length + 1);
  const port = entry.byKey[key];
  if (port !== undefined) return { value: String(port) };
  if (keys.length === 0) return { problem: `{{ ${ref} }}: ${owner} has one port; write {{ ports.${owner} }}` };
  const what = entry.kind === 'service' ? `${owner} publishes no container port ${key}` : `${owner} has no port "${key}"`;
  return { problem: `{{ ${ref} }}: ${what} (known: ${keys.map((k) => `ports.${owner}.${k}`).join(', ')})` };
}

/** Resolves every template; collects every problem instead of stopping at the first. */
export function resolveTemplates(
  templates: Readonly<Record<string, string>>,
  ctx: TemplateContext,
): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, template] of Object.entries(templates)) {
    const parsed = parseTemplate(template);
    const own = [...templateSyntaxProblems(name, template)];
    let value = '';
    for (const segment of parsed.segments) {
      if ('text' in segment) {
        value += segment.text;
        continue;
      }
      if (!REF.test(segment.ref)) continue;
      const resolved = resolveRef(segment.ref, ctx);
      if (resolved.problem) own.push(resolved.problem);
      else value += resolved.value;
    }
    for (const problem of new Set(own)) problems.push(`env.${name}: ${problem}`);
    if (own.length === 0) values[name] = value;
  }
  return { values, problems };
}

/** `resolveTemplates`, throwing one CONFIG_INVALID that lists every problem (for plan time). */
export function renderTemplates(templates: Readonly<Record<string, string>>, ctx: TemplateContext): Record<string, string> {
  const { values, problems } = resolveTemplates(templates, ctx);
  if (problems.length > 0) {
    throw new EnvsError('CONFIG_INVALID', `envs.yaml is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'Fix the env: templates in envs.yaml; references look like {{ ports.<service>.<port> }}, {{ env.name }}, {{ db.url }}.',
      details: { problems },
    });
  }
  return values;
}

export interface PortFacts {
  compose?: ReadonlyArray<{ service: string; target: number; port: number }>;
  processes?: ReadonlyArray<{ name: string; port: number }>;
  /** Supabase CLI ports by name (api, db, …), when the adapter is on. */
  supabase?: Readonly<Record<string, number>>;
}

/** The `ports` namespace of a template context; a name used twice (a service and a process) is a problem. */
export function templatePorts(facts: PortFacts): { ports: Record<string, PortOwner>; problems: string[] } {
  const ports: Record<string, PortOwner> = {};
  const problems: string[] = [];
  for (const { service, target, port } of facts.compose ?? []) {
    const owner = ports[service] ?? { kind: 'service', byKey: {} };
    ports[service] = owner;
    owner.byKey[String(target)] ??= port;
  }
  for (const owner of Object.values(ports)) {
    const values = Object.values(owner.byKey);
    if (values.length === 1) owner.single = values[0] as number;
  }
  for (const { name, port } of facts.processes ?? []) {
    if (ports[name]) problems.push(`process "${name}" has the name of a compose service; ports.${name} would be ambiguous`);
    else ports[name] = { kind: 'process', single: port, byKey: {} };
  }
  if (facts.supabase) {
    if (ports.supabase) problems.push('a compose service or process is named "supabase"; ports.supabase.* would be ambiguous');
    else ports.supabase = { kind: 'supabase', byKey: { ...facts.supabase } };
  }
  return { ports, problems };
}
