/** Variables envs itself sets or that name no secret: never masked as "from the shell". */
const OURS = /^(ENVS_(?!DB_PASSWORD)|COMPOSE_|DOCKER_)/;

/**
 * The values a compose file takes from the invoking shell's environment (`${SHELL_SECRET}`): whatever a
 * user exports may be a secret, and `plan` prints the model, so these are masked wherever they appear.
 * The variable names are found in the compose files' own text (over-inclusive is harmless: only values
 * the shell really has are taken).
 */
export function shellInterpolatedValues(
  files: ReadonlyMap<string, Buffer>,
  composeFiles: readonly string[],
  env: Record<string, string | undefined>,
): string[] {
  const names = new Set<string>();
  for (const path of composeFiles) {
    const text = files.get(path)?.toString('utf8') ?? '';
    for (const match of text.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1] as string);
  }
  return [...names].filter((name) => !OURS.test(name)).flatMap((name) => (env[name] ? [env[name] as string] : []));
}
