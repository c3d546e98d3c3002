import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '../state/atomic.ts';

/**
 * The router's files, one set per ENVS_HOME (so one router per user):
 *
 *   <home>/proxy/router.pid   JSON: pid, its start time (identity), port, home (0600)
 *   <home>/proxy/router.log   what the router says (0600)
 *   <home>/proxy/token        the per-user token: the router's status endpoint and the dashboard's actions require it (0600)
 */
export interface ProxyFiles {
  dir: string;
  pid: string;
  log: string;
  token: string;
}

export function proxyFiles(home: string): ProxyFiles {
  const dir = join(home, 'proxy');
  return { dir, pid: join(dir, 'router.pid'), log: join(dir, 'router.log'), token: join(dir, 'token') };
}

export interface PidFile {
  pid: number;
  /** The process's start time (process/group.ts processIdentity): a reused pid is not our router. */
  identity: string;
  port: number;
  home: string;
  started_at: string;
}

export async function readPidFile(file: string): Promise<PidFile | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<PidFile>;
    if (!Number.isInteger(data.pid) || !Number.isInteger(data.port) || typeof data.identity !== 'string') return undefined;
    return data as PidFile;
  } catch {
    return undefined;
  }
}

export async function writePidFile(file: string, data: PidFile): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(data)}\n`);
}

/** The per-user token, made on first use (random, 0600; made with O_EXCL so two starters agree on one). */
export async function ensureToken(files: ProxyFiles): Promise<string> {
  await ensurePrivateDir(files.dir);
  const existing = await readFile(files.token, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const token = randomBytes(32).toString('base64url');
  try {
    await writeFile(files.token, `${token}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(files.token, 0o600);
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(files.token, 'utf8')).trim();
  }
}
