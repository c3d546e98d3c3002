/**
 * The files of `envs demo`: a small monorepo as users have them — a web dev server that reads PORT and
 * DATABASE_URL, a Postgres in compose.yaml on the usual fixed port, a gitignored `.env` pointing at it, and
 * an envs.yaml naming the dev server. Nothing to install: the server is plain Node.js.
 */
export function demoFiles(): Record<string, string> {
  return {
    'README.md': `# envs demo

A web app (\`apps/web/server.mjs\`) and its Postgres (\`compose.yaml\`). The main checkout's \`.env\` points at
\`127.0.0.1:5432\`, as a second checkout's would — and collide. \`envs create <branch>\` gives each branch its own
worktree, database and port, with \`.env\` rewritten to them. Try:

    envs list
    envs create feat/another
    envs exec feat/another -- node -e "console.log(process.env.DATABASE_URL)"
    envs destroy feat/another
`,
    '.gitignore': '.env\nnode_modules/\n',
    'package.json': `${JSON.stringify({ name: 'envs-demo', private: true, type: 'module', scripts: { dev: 'node apps/web/server.mjs' } }, null, 2)}\n`,
    'compose.yaml': `services:
  db:
    image: \${ENVS_POSTGRES_IMAGE:-postgres:17-alpine}
    environment:
      POSTGRES_PASSWORD: demo
      POSTGRES_DB: demo
      POSTGRES_HOST_AUTH_METHOD: trust
    ports:
      - "5432:5432"
    volumes:
      - data:/var/lib/postgresql/data
volumes:
  data: {}
`,
    'envs.yaml': `# Each env starts the dev server on its own port, with the env's DATABASE_URL.
processes:
  web:
    command: node apps/web/server.mjs
    port: 3000
`,
    'apps/web/server.mjs': SERVER,
  };
}

/** The main checkout's own settings, gitignored (as a developer has them, copied from an example). */
export const DEMO_DOTENV = 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/demo\nGREETING=hello from the main checkout\n';

/**
 * A dev server with no dependencies: answers each request with the database it reaches — its address and
 * when its server started, which differs for every env's own Postgres (a clone of a snapshot shares the
 * cluster's system identifier, not its server), so two envs show two databases. Speaks just enough of the Postgres protocol (trust auth, one simple query).
 */
const SERVER = `import { createServer } from 'node:http';
import { connect } from 'node:net';

const port = Number(process.env.PORT ?? 3000);
const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/demo');

function query(sql) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 5432) });
    const params = Buffer.from(\`user\\0\${decodeURIComponent(url.username || 'postgres')}\\0database\\0\${url.pathname.slice(1) || 'postgres'}\\0\\0\`);
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);
    let buffer = Buffer.alloc(0);
    let value;
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(startup));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5) {
        const type = String.fromCharCode(buffer[0]);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type === 'E') return reject(new Error(body.toString('utf8').split('\\0').find((f) => f.startsWith('M'))?.slice(1)));
        if (type === 'Z' && value === undefined) {
          const text = Buffer.from(\`\${sql}\\0\`);
          const q = Buffer.alloc(5 + text.length);
          q.write('Q', 0);
          q.writeInt32BE(4 + text.length, 1);
          text.copy(q, 5);
          socket.write(q);
          value = null;
        } else if (type === 'D') {
          const size = body.readInt32BE(2);
          value = body.subarray(6, 6 + size).toString('utf8');
        } else if (type === 'Z' && value !== undefined) {
          socket.end();
          resolve(value);
        }
      }
    });
  });
}

createServer(async (request, response) => {
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  try {
    const started = await query('select pg_postmaster_start_time()::text');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(\`\${JSON.stringify({ env: process.env.ENVS_NAME ?? 'main checkout', port, database: shown.href, server_started: started })}\\n\`);
  } catch (error) {
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end(\`\${JSON.stringify({ env: process.env.ENVS_NAME ?? 'main checkout', port, database: shown.href, error: String(error.message) })}\\n\`);
  }
}).listen(port, '127.0.0.1', () => console.log(\`demo web on http://127.0.0.1:\${port}/ (database \${url.host})\`));
`;
