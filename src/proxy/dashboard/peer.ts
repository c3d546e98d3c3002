import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';

/**
 * Which local user opened a loopback connection, from the kernel's socket tables (Linux): the line of
 * /proc/net/tcp(6) whose local address is the client's end holds its owner's uid. The router is one user's,
 * and another user on the same machine may reach 127.0.0.1 too: the dashboard (its page carries the per-user
 * token) answers only its own user. Elsewhere (no /proc) the answer is undefined and the token rules alone.
 */
export async function peerUid(socket: Socket): Promise<number | undefined> {
  const port = socket.remotePort;
  const address = socket.remoteAddress;
  if (!port || !address) return undefined;
  const v6 = address.includes(':');
  const table = await readFile(v6 ? '/proc/net/tcp6' : '/proc/net/tcp', 'utf8').catch(() => undefined);
  if (table === undefined) return undefined;
  const wanted = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const serverPort = `:${(socket.localPort ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid …
    const [, local, remote, , , , , uid] = fields;
    if (local?.endsWith(wanted) && remote?.endsWith(serverPort) && uid !== undefined) return Number(uid);
  }
  return undefined;
}

/** Whether a connection comes from this process's user (cached per connection: keep-alive asks once). */
export function sameUser(): (socket: Socket) => Promise<boolean> {
  const seen = new WeakMap<Socket, Promise<boolean>>();
  const me = process.getuid?.();
  return (socket) => {
    if (me === undefined) return Promise.resolve(true);
    let verdict = seen.get(socket);
    if (!verdict) {
      verdict = peerUid(socket).then((uid) => uid === undefined || uid === me);
      seen.set(socket, verdict);
    }
    return verdict;
  };
}
