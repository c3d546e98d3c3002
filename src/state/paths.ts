import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where envs keeps its machine-wide state: `ENVS_HOME`, else `$XDG_STATE_HOME/envs`, else `~/.local/state/envs`.
 *
 *   <home>/ports.json                       the machine-wide port registry
 *   <home>/subnets.json                     the machine-wide subnet registry (env networks)
 *   <home>/locks/                           cross-process locks (+ owner files)
 *   <home>/tmp/                             temporary files and scratch directories (cleared of a killed run's)
 *   <home>/repos/<repoId>/envs/<name>.json  env records of one repository
 *   <home>/repos/<repoId>/envs/<name>/      generated files of one env (its compose file)
 *   <home>/worktrees/<repoId>/<name>/       default home of the worktrees
 */
export function envsHome(env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.ENVS_HOME) return resolve(cwd, env.ENVS_HOME);
  const xdg = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(xdg, 'envs');
}

export class StatePaths {
  readonly home: string;

  constructor(home: string) {
    this.home = home;
  }

  get registry(): string {
    return join(this.home, 'ports.json');
  }

  get subnets(): string {
    return join(this.home, 'subnets.json');
  }

  get tmp(): string {
    return join(this.home, 'tmp');
  }

  get locks(): string {
    return join(this.home, 'locks');
  }

  lock(name: string): string {
    return join(this.locks, `${name}.lock`);
  }

  repoDir(repoId: string): string {
    return join(this.home, 'repos', repoId);
  }

  envsDir(repoId: string): string {
    return join(this.repoDir(repoId), 'envs');
  }

  envRecord(repoId: string, name: string): string {
    return join(this.envsDir(repoId), `${name}.json`);
  }

  envFiles(repoId: string, name: string): string {
    return join(this.envsDir(repoId), name);
  }

  composeFile(repoId: string, name: string): string {
    return join(this.envFiles(repoId, name), 'compose.yaml');
  }

  worktreesRoot(repoId: string): string {
    return join(this.home, 'worktrees', repoId);
  }
}
