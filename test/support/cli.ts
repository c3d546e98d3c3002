import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { images } from './images.ts';

export const BIN = fileURLToPath(new URL('../../dist/bin/main.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Runs the built `envs` bin in `cwd` with the fixture's ENVS_HOME. */
export async function envs(cwd: string, home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await execa('node', [BIN, ...args], {
    cwd,
    reject: false,
    // No preview router unless a test asks for one (test/integration/proxy.test.ts): tests must not spawn daemons.
    env: { ENVS_HOME: home, ENVS_POSTGRES_IMAGE: images.postgres, ENVS_PROXY: 'off', ...env },
  });
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, json };
}

/** Like `envs`, but fails the test with the CLI's own output when the exit code is not 0. */
export async function envsOk(cwd: string, home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await envs(cwd, home, args, env);
  if (result.exitCode !== 0) {
    throw new Error(`envs ${args.join(' ')} exited ${result.exitCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}
