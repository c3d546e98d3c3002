// The `envs` bin as a few chunks instead of ~75 modules: every start of the CLI resolves, reads and links
// each module it loads, and on a 2-core machine that was ~40 ms of the ~180 ms before a command's first
// subprocess (measured, README "Benchmarks"). The small pure-JS dependencies every command loads (yaml, zod,
// commander, dotenv, …) are bundled too: from node_modules they were ~100 more modules and ~70 ms of CPU at
// each `create`; bundled, ~30 ms. dockerode (only for tcp/ssh engines and logs) and the MCP SDK (only `envs
// mcp`) stay in node_modules, loaded when used. Dynamic imports stay lazy as their own chunks. Their licence
// texts go to dist/bin/THIRD_PARTY_LICENSES. The library (dist/index.js) is tsc's output, unbundled.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const outdir = join(root, 'dist/bin');
const result = await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // jsonc-parser's "main" is a UMD build whose require() calls a bundle cannot follow; its "module" is ESM.
  mainFields: ['module', 'main'],
  external: ['dockerode', '@modelcontextprotocol/sdk', 'execa'],
  // yaml's "node" export is CommonJS, and CommonJS bundled into ESM calls require() for node's built-ins.
  banner: { js: "import { createRequire as __envsRequire } from 'node:module';\nconst require = __envsRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

/** The packages whose code went into the chunks (nested ones by their own directory), with their licence texts. */
const bundled = new Map<string, string>(); // package directory → name
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
  if (match?.[1] && match[2]) bundled.set(match[1], match[2]);
}
const notices = [...bundled]
  .sort(([, a], [, b]) => a.localeCompare(b))
  .map(([path, name]) => {
    const dir = join(root, path);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `License: ${pkg.license ?? 'see the package'}`;
    return `${name}@${pkg.version}\n\n${text}\n`;
  });
writeFileSync(join(outdir, 'THIRD_PARTY_LICENSES'), `${notices.join(`\n${'-'.repeat(72)}\n\n`)}`);
