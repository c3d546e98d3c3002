/** Labels envs puts on every container, volume, network and built image it creates. */
export const LABEL = {
  managed: 'dev.envs.managed',
  repo: 'dev.envs.repo',
  env: 'dev.envs.env',
  project: 'dev.envs.project',
  branch: 'dev.envs.branch',
} as const;

export function labelsFor(env: { repoId: string; name: string; project: string; branch: string }): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.repo]: env.repoId,
    [LABEL.env]: env.name,
    [LABEL.project]: env.project,
    [LABEL.branch]: env.branch,
  };
}
