// The `envs` bin as a few chunks instead of ~75 modules: every start of the CLI resolves, reads and links
// each module it loads, and on a 2-core machine that was ~40 ms of the ~180 ms before a command's first
// subprocess (measured, README "Benchmarks"). Dependencies stay in node_modules (dockerode loads lazily);
// dynamic imports stay lazy as their own chunks. The library (dist/index.js) is tsc's output, unbundled.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../src/cli/main.ts', import.meta.url).pathname],
  outdir: new URL('../dist/bin/', import.meta.url).pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
