import type { ComposeModel } from '../compose/model.ts';
import { envVarName } from './naming.ts';
import type { Binding } from './record.ts';

export interface EnvVarsInput {
  name: string;
  branch: string;
  project: string;
  worktree: string;
  composeFile: string;
  /** The model as rendered (before ports were remapped): service environments live here. */
  model: ComposeModel;
  bindings: Binding[];
  databaseService?: string;
}

export const POSTGRES_IMAGE = /(^|\/)(postgres|postgis|pgvector|timescaledb[a-z-]*|supabase\/postgres)(:|@|$)|(^|\/)postgres[:@]/;

/**
 * The variables an env injects into what runs in it (`envs exec`, `envs env`):
 * its identity, Compose's project and file (so `docker compose ps` inside targets the env),
 * each published port (`ENVS_<SERVICE>_PORT`, `ENVS_<SERVICE>_PORT_<TARGET>`), and for a Postgres
 * service `DATABASE_URL` plus the libpq `PG*` variables pointing at its remapped port.
 */
export interface EnvVars {
  env: Record<string, string>;
  warnings: string[];
  /** The Postgres behind DATABASE_URL, when there is one. */
  database?: { service: string; host: string; port: number; user: string; database: string };
}

export function envVarsFor(input: EnvVarsInput): EnvVars {
  const env: Record<string, string> = {
    ENVS_NAME: input.name,
    ENVS_BRANCH: input.branch,
    ENVS_PROJECT: input.project,
    ENVS_WORKTREE: input.worktree,
    COMPOSE_PROJECT_NAME: input.project,
    COMPOSE_FILE: input.composeFile,
  };
  const warnings: string[] = [];
  for (const binding of input.bindings) {
    const service = envVarName(binding.service);
    env[`ENVS_${service}_PORT`] ??= String(binding.published);
    env[`ENVS_${service}_PORT_${binding.target}`] = String(binding.published);
  }

  const database = pickDatabase(input, warnings);
  if (database) {
    const environment = input.model.services[database.service]?.environment ?? {};
    const read = (key: string) => unescapeDollars(environment[key] ?? undefined);
    const user = read('POSTGRES_USER') || 'postgres';
    const password = read('POSTGRES_PASSWORD') ?? '';
    const db = read('POSTGRES_DB') || user;
    const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
    env.DATABASE_URL = `postgres://${auth}@${database.host}:${database.port}/${encodeURIComponent(db)}`;
    Object.assign(env, { PGHOST: database.host, PGPORT: String(database.port), PGUSER: user, PGDATABASE: db });
    if (password) env.PGPASSWORD = password;
    return { env, warnings, database: { service: database.service, host: database.host, port: database.port, user, database: db } };
  }
  return { env, warnings };
}

function pickDatabase(input: EnvVarsInput, warnings: string[]): { service: string; host: string; port: number } | undefined {
  const binding = (service: string) =>
    input.bindings.find((b) => b.service === service && b.target === 5432) ?? input.bindings.find((b) => b.service === service);
  if (input.databaseService) {
    const found = binding(input.databaseService);
    if (!found) warnings.push(`database.service "${input.databaseService}" publishes no port; no DATABASE_URL.`);
    return found && { service: found.service, host: found.host_ip, port: found.published };
  }
  const candidates = Object.entries(input.model.services)
    .filter(([, s]) => typeof s.image === 'string' && POSTGRES_IMAGE.test(s.image))
    .map(([name]) => binding(name))
    .filter((b): b is Binding => b !== undefined && b.target === 5432);
  if (candidates.length > 1) {
    warnings.push(
      `Several Postgres services (${candidates.map((c) => c.service).join(', ')}); set database.service in envs.yaml to get a DATABASE_URL.`,
    );
    return undefined;
  }
  const [only] = candidates;
  return only && { service: only.service, host: only.host_ip, port: only.published };
}

/** Values from the rendered model keep Compose's `$$` escapes. */
function unescapeDollars(value: string | undefined): string | undefined {
  return value?.split('$$').join('$');
}
