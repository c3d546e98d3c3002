import type { Socket } from 'node:net';

/** An answer of the engine other than 2xx: its status and its own message. */
export class EngineApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'EngineApiError';
    this.statusCode = statusCode;
  }
}

export interface ApiRequest {
  method?: 'GET' | 'DELETE' | 'POST' | 'PUT';
  /** A JSON body (POST), or bytes sent as they are (an archive upload: `tar`). */
  body?: unknown;
  tar?: Buffer;
  /** The answer's bytes as they are (container logs), not parsed as JSON. */
  raw?: boolean;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal: AbortSignal;
  /** Called with the connection once it exists (the early ping unrefs it until it is waited for). */
  onSocket?: (socket: Socket) => void;
}

/**
 * One Engine API call on a unix socket with node:http, its JSON answer parsed (undefined for 204). `signal`
 * ends the request (a timeout, Ctrl-C): an engine that accepts the connection and never answers is no hang.
 *
 * Why not dockerode here: its import loads ~290 modules (gRPC, protobuf, ssh2 — for BuildKit sessions and
 * ssh:// hosts, which envs does not use) and costs 150–300 ms of CPU at every command that asks the engine,
 * on a 2-core machine competing with Compose itself (README, "Benchmarks"). dockerode stays the client
 * for tcp/ssh endpoints, container logs and the containers envs runs itself.
 */
export function apiRequest<T>(socketPath: string, request: ApiRequest): Promise<T> {
  // Not `import … from 'node:http'`: an ESM import fills in every export, and its WebSocket getter loads
  // undici (~30 ms). The CommonJS module, loaded on the first call, has no such cost.
  const http = process.getBuiltinModule('node:http');
  const query = Object.entries(request.query ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const path = query ? `${request.path}?${query}` : request.path;
  // servername: said, so node does not work it out from the Host header (its IPv6 check costs ~7 ms once).
  const options = {
    socketPath,
    path,
    method: request.method ?? 'GET',
    headers: {
      Host: 'docker',
      ...(request.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(request.tar ? { 'Content-Type': 'application/x-tar' } : {}),
    },
    servername: 'docker',
    signal: request.signal,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300)
          return reject(new EngineApiError(status, engineMessage(text) ?? `HTTP ${status} from the engine`));
        if (request.raw) return resolve(bytes as T);
        if (status === 204 || text === '') return resolve(undefined as T);
        try {
          resolve(JSON.parse(text) as T);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    if (request.onSocket) req.on('socket', request.onSocket);
    req.end(request.tar ?? (request.body !== undefined ? JSON.stringify(request.body) : undefined));
  });
}

/** `{"message": "..."}`, the engine's error body. */
function engineMessage(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return text.trim() || undefined;
  }
}

/** A path segment of the API (`/containers/{id}/json`): ids and names as they are, the rest escaped. */
export function segment(value: string): string {
  return encodeURIComponent(value).replaceAll('%2F', '/').replaceAll('%3A', ':').replaceAll('%40', '@');
}
