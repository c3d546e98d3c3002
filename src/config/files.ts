/** Where envs looks for its configuration, at the repository root (kept apart from the schema, which loads zod). */
export const CONFIG_FILES = ['envs.yaml', 'envs.yml'];
