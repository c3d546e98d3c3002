#!/usr/bin/env node
// The `envs` bin. Caching compiled code makes every later start faster; it must be on before the rest loads.
import module from 'node:module';
import { installEarlySignals } from './early-signals.ts';

installEarlySignals();
module.enableCompileCache?.();
const { run } = await import('./program.ts');
process.exitCode = await run(process.argv);
