import { createServer, type Server } from 'node:net';
import pg from 'pg';

/** GET http://127.0.0.1:<port>/ and return the body. */
export async function httpGet(port: number, path = '/'): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  return (await response.text()).trim();
}

/** Runs SQL against a connection string and returns the rows. */
export async function sql(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** Holds a TCP port on 127.0.0.1 the way another program would. */
export function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

export function release(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** True when the port can be bound on 127.0.0.1 right now. */
export async function canBind(port: number): Promise<boolean> {
  try {
    await release(await holdPort(port));
    return true;
  } catch {
    return false;
  }
}
