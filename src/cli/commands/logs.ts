import type { Command } from 'commander';
import { EnvsError } from '../../errors.ts';
import type { Define } from '../program.ts';
import { commandFrom, SPECS } from '../specs.ts';

export function defineLogs(program: Command, define: Define): void {
  commandFrom(program, SPECS.logs)
    .option('--json', 'errors as JSON on stdout (the output itself is the program’s)')
    .action(
      define<[string, string | undefined, { follow?: boolean; tail?: number; json?: boolean }]>(async (ctx, env, name, options) => {
        const opening = ctx.open();
        const [{ resolveEnv }, { processStates }, { showLog }, { runInteractive }, { composeLogsCommand }] = await Promise.all([
          import('../../core/resolve.ts'),
          import('../../bootstrap/processes.ts'),
          import('../../bootstrap/logs.ts'),
          import('../../process/interactive.ts'),
          import('../../compose/logs.ts'),
        ]);
        const deps = await opening;
        const record = await resolveEnv(deps, env, ctx.cwd);
        const stateDir = deps.records.envDir(record.name);
        const processes = await processStates(stateDir);
        const wantedProcesses = processes.filter((p) => name === undefined || p.name === name);
        const wantedServices = record.services.filter((s) => name === undefined || s === name);
        if (name !== undefined && wantedProcesses.length === 0 && wantedServices.length === 0) {
          const known = [...record.services, ...processes.map((p) => p.name)];
          throw new EnvsError('USAGE', `${record.branch} has no service or process named "${name}".`, {
            hint: known.length > 0 ? `Its services and processes: ${known.join(', ')}.` : 'It has neither services nor processes.',
          });
        }
        // Compose's own "Cannot connect to the Docker daemon" would be the only message: ask the engine first.
        if (wantedServices.length > 0) await deps.engine.info();
        const several = wantedProcesses.length + (wantedServices.length > 0 ? 1 : 0) > 1;
        if (options.follow) ctx.endOnSignal(); // Ctrl-C is how a follow ends
        const width = Math.max(0, ...wantedProcesses.map((p) => p.name.length));
        const shown = wantedProcesses.map((p) =>
          showLog(p.log, {
            write: (text) => ctx.out.stdout(text),
            ...(several ? { prefix: `${p.name.padEnd(width)} | ` } : {}),
            ...(options.tail !== undefined ? { tail: options.tail } : {}),
            follow: Boolean(options.follow),
            signal: ctx.signal,
          }),
        );
        if (!options.follow) await Promise.all(shown); // processes first, then the services

        let exitCode = 0;
        if (wantedServices.length > 0) {
          const compose = await composeLogsCommand(record, ctx.env, {
            follow: Boolean(options.follow),
            ...(options.tail !== undefined ? { tail: options.tail } : {}),
            ...(name !== undefined ? { name } : {}),
          });
          // Ctrl-C reaches Compose from the terminal; our followers stop on the same cancellation.
          const result = await runInteractive(compose.file, compose.args, { cwd: compose.cwd, env: compose.env });
          if (result.exitCode === undefined) {
            throw new EnvsError(
              'COMPOSE_MISSING',
              `Cannot run ${compose.file} for the services' logs (${result.spawnError.code ?? result.spawnError.message}).`,
              {
                hint: 'Install Docker Compose v2, or point ENVS_COMPOSE at it; `envs doctor` checks it.',
              },
            );
          }
          exitCode = result.exitCode;
        } else if (options.follow) {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        }
        await Promise.all(shown);
        // Ctrl-C is how a follow ends: not an error.
        ctx.exitCode = options.follow && ctx.signal.aborted ? 0 : exitCode === 130 ? 0 : exitCode;
      }),
    );
}
