import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * Runs a program in the foreground with the terminal handed over (stdio inherited), for `envs exec`,
 * `envs attach` and `envs logs`: the user's command owns the terminal until it exits, and its exit code
 * becomes envs's. Argument arrays only, no shell.
 *
 * Signals: the child stays in envs's process group, so a Ctrl-C typed at a terminal reaches it directly
 * (forwarding it as well would deliver it twice). SIGTERM and SIGHUP sent to envs alone, and SIGINT when
 * envs has no terminal (an agent's pipes, `kill -INT <pid>`), are forwarded; envs itself keeps running
 * until the child exits.
 */
export interface InteractiveOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export type InteractiveResult = { exitCode: number; signal?: NodeJS.Signals } | { exitCode: undefined; spawnError: NodeJS.ErrnoException };

export function runInteractive(file: string, args: readonly string[], options: InteractiveOptions): Promise<InteractiveResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: 'inherit', shell: false });
    const forwarded: NodeJS.Signals[] = process.stdin.isTTY ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    const ignoreTerminalInterrupt = () => {};
    for (const signal of forwarded) process.on(signal, forward);
    if (process.stdin.isTTY) process.on('SIGINT', ignoreTerminalInterrupt); // the child got it; we wait for it
    const done = (result: InteractiveResult) => {
      for (const signal of forwarded) process.off(signal, forward);
      process.off('SIGINT', ignoreTerminalInterrupt);
      resolve(result);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) done({ exitCode: undefined, spawnError: error });
    });
    child.once('exit', (code, signal) => {
      // A child killed by a signal exits 128 + its number, as shells report it.
      if (signal) done({ exitCode: 128 + (constants.signals[signal] ?? 0), signal });
      else done({ exitCode: code ?? 0 });
    });
  });
}
