import { EnvsError, lastLines } from '../errors.ts';
import type { ComposeRun, Deps } from './deps.ts';

/** A Postgres server of a Compose project, reached with `psql` inside its container (its local socket). */
export type PsqlTarget = ComposeRun & { service: string; user: string };

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Runs SQL with the server's own `psql`: `statements` one `-c` each (CREATE/DROP DATABASE cannot run inside
 * the implicit transaction of a multi-statement string), `input` on stdin (values that must not appear in a
 * process list, such as a password).
 */
export async function psql(deps: Deps, target: PsqlTarget, sql: { statements?: string[]; input?: string }): Promise<string> {
  const argv = [
    'psql',
    '-v',
    'ON_ERROR_STOP=1',
    '-X',
    '-q',
    '-At',
    '-U',
    target.user,
    '-d',
    'postgres',
    ...(sql.statements ?? []).flatMap((s) => ['-c', s]),
    ...(sql.input !== undefined ? ['-f', '-'] : []),
  ];
  const result = await deps.compose.exec({ ...target, argv, ...(sql.input !== undefined ? { input: sql.input } : {}) });
  if (result.exitCode !== 0) {
    throw new EnvsError('DB_FAILED', `The database server of ${target.project} refused: ${lastLines(result.stderr || result.stdout, 3)}`, {
      hint: `See its log with \`docker compose -p ${target.project} logs ${target.service}\`.`,
    });
  }
  return result.stdout;
}

/**
 * A clone carries the role passwords of the env it was taken from; each env has its own (the embedded Postgres
 * generates one per env), so the env's role gets the env's password. Sent on stdin, never in argv.
 */
export async function setRolePassword(deps: Deps, target: PsqlTarget, password: string): Promise<void> {
  await psql(deps, target, { input: `ALTER ROLE ${quoteIdent(target.user)} PASSWORD ${quoteLiteral(password)};\n` });
}
