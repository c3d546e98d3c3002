// Not `import … from 'node:http'`: an ESM import of node:http fills in every export, and its WebSocket
// getter loads undici (~30 ms at every start of the CLI). The CommonJS module, loaded on the first ping,
// has no such cost; commands that never ask the engine never load it.

/**
 * `GET /info` on the engine's unix socket with node:http. Every command that changes anything asks
 * this first, before its first side effect; dockerode's import (~55 ms) would sit on that critical path,
 * so it is loaded later, while Compose works (see Engine.prepare). `signal` ends the request (a timeout,
 * Ctrl-C); an engine that accepts the connection and never answers is thereby no hang.
 */
export function infoOverSocket(
  socketPath: string,
  signal: AbortSignal,
  onSocket?: (socket: import('node:net').Socket) => void,
): Promise<{ ID?: string; ServerVersion?: string }> {
  const { request } = process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/info', method: 'GET', headers: { Host: 'docker' }, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from the engine`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    if (onSocket) req.on('socket', onSocket);
    req.end();
  });
}
