/** Labels envs puts on every container, volume, network and built image it creates. */
export const LABEL = {
  managed: 'dev.envs.managed',
  repo: 'dev.envs.repo',
  env: 'dev.envs.env',
  project: 'dev.envs.project',
  branch: 'dev.envs.branch',
  /**
   * The state directory (ENVS_HOME, absolute) whose records own the resource, and the host it is on: `envs gc`
   * removes a resource without a record only when it is its own state directory's, or that directory is gone
   * from this host. Another state directory's (another user, a test's ENVS_HOME) is never touched.
   */
  home: 'dev.envs.home',
  host: 'dev.envs.host',
} as const;

/** Which state directory (and host) made a resource: see LABEL.home. */
export interface HomeMark {
  path: string;
  host: string;
}

export function homeLabels(home: HomeMark): Record<string, string> {
  return { [LABEL.home]: home.path, [LABEL.host]: home.host };
}

export function labelsFor(env: { repoId: string; name: string; project: string; branch: string }, home: HomeMark): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.repo]: env.repoId,
    [LABEL.env]: env.name,
    [LABEL.project]: env.project,
    [LABEL.branch]: env.branch,
    ...homeLabels(home),
  };
}
