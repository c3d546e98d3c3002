import { readFile } from 'node:fs/promises';

/** The exit code a launcher wrote when its program ended, or undefined while it runs (or never wrote one). */
export async function readStatus(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const code = text === undefined ? Number.NaN : Number.parseInt(text, 10);
  return Number.isInteger(code) ? code : undefined;
}

/**
 * A version-1 state file (host processes, agents) with its entries under `key`; undefined when there is none.
 * Any other shape is a state this version of envs cannot read.
 */
export async function readState<T>(file: string, key: string, what: string): Promise<T | undefined> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  const data = JSON.parse(text) as { version?: unknown } & Record<string, unknown>;
  if (data?.version !== 1 || typeof data[key] !== 'object') throw new Error(`${file} is not ${what} this version of envs can read.`);
  return data as T;
}
