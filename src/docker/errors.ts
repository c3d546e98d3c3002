import { EnvsError } from '../errors.ts';

export function unavailable(endpoint: string, error: unknown): EnvsError {
  const reason = error instanceof Error ? error.message : String(error);
  const start =
    process.platform === 'darwin' || process.platform === 'win32'
      ? 'Start Docker Desktop (or Colima, OrbStack, Rancher Desktop)'
      : 'Start the engine (`sudo systemctl start docker`, or `dockerd` yourself)';
  return new EnvsError('DOCKER_UNAVAILABLE', `The Docker engine at ${endpoint} does not answer (${reason}).`, {
    hint: `${start}, or point DOCKER_HOST at one that runs. Nothing was changed. \`envs doctor\` checks again.`,
    cause: error,
  });
}
