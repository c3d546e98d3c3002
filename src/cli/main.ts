#!/usr/bin/env node
// The `envs` bin. Caching compiled code makes every later start faster; it must be on before the rest loads.
import module from 'node:module';

// Ctrl-C before a command has started (while the code loads) still ends envs with 130, not a signal death;
// once a command runs, its runner reports the cancellation first (see cli/runner.ts).
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
module.enableCompileCache?.();
const { run } = await import('./program.ts');
process.exitCode = await run(process.argv);
