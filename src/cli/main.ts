#!/usr/bin/env node
// The `envs` bin. Caching compiled code makes every later start faster; it must be on before the rest loads.
// node:module through getBuiltinModule: its ESM facade would evaluate every export (source maps and more).
import { installEarlySignals } from './early-signals.ts';

installEarlySignals();
process.getBuiltinModule('node:module').enableCompileCache?.();
const { run } = await import('./program.ts');
process.exitCode = await run(process.argv);
