import { images } from './images.ts';

/**
 * A pnpm workspace as users have them: a web dev server (reading PORT and DATABASE_URL, importing a
 * workspace package), a Postgres on the usual fixed port, a gateway that hands out its public URL, a
 * gitignored `.env` pointing at the main checkout's database, files copied through .worktreeinclude and
 * `copy:`.
 */
export const appFiles = {
  'package.json': `${JSON.stringify({ name: 'shop', private: true }, null, 2)}\n`,
  'pnpm-workspace.yaml': 'packages:\n  - apps/*\n  - packages/*\n',
  'apps/web/package.json': `${JSON.stringify({ name: 'web', private: true, type: 'module', scripts: { dev: 'node server.mjs' }, dependencies: { shared: 'workspace:*' } }, null, 2)}\n`,
  'apps/web/server.mjs': `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { greet } from 'shared';
const fromFile = parseEnv(readFileSync(new URL('../../.env', import.meta.url), 'utf8'));
createServer((req, res) => {
  res.end(JSON.stringify({ port: Number(process.env.PORT), database: process.env.DATABASE_URL, fileDatabase: fromFile.DATABASE_URL, fileApi: fromFile.API_URL, greeting: greet() }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`,
  'packages/shared/package.json': `${JSON.stringify({ name: 'shared', version: '1.0.0', type: 'module', main: 'index.js' }, null, 2)}\n`,
  'packages/shared/index.js': "export const greet = () => 'hello from shared';\n",
  'compose.yaml': `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: secret
      POSTGRES_DB: app
    ports: ["5432:5432"]
  gateway:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo gateway > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["8000:80"]
  auth:
    image: ${images.busybox}
    init: true
    command: ["sleep", "3600"]
    environment:
      API_EXTERNAL_URL: http://localhost:8000
`,
  'envs.yaml': 'processes:\n  web:\n    command: pnpm --filter web dev\n    port: 3000\ncopy: [config/local.json]\n',
  '.worktreeinclude': 'certs/*.pem\n',
  '.gitignore': '.env\nnode_modules/\ncerts/\nconfig/local.json\n',
};

export const MAIN_DOTENV = 'DATABASE_URL=postgres://postgres:secret@127.0.0.1:5432/app\nAPI_URL=http://localhost:8000\n';
