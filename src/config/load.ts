import { EnvsError } from '../errors.ts';
import type { Config } from './schema.ts';

/**
 * Parses and validates `envs.yaml`, reporting every problem at once (YAML syntax with line numbers,
 * then each schema issue as `path: message`). The parser and the schema load only when a repository
 * has an envs.yaml.
 */
export async function parseConfig(text: string, file = 'envs.yaml'): Promise<Config> {
  const [{ parseDocument }, { ConfigSchema }] = await configModules();
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw invalid(
      file,
      doc.errors.map((e) => e.message.split('\n')[0] ?? e.message),
    );
  }
  const data = doc.toJS() ?? {};
  const result = ConfigSchema.safeParse(data);
  if (!result.success) {
    throw invalid(
      file,
      result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`),
    );
  }
  return result.data;
}

function invalid(file: string, problems: string[]): EnvsError {
  return new EnvsError('CONFIG_INVALID', `${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
    hint: `Fix ${file} (its JSON Schema is schema/envs.schema.json in the envs package) and run the command again.`,
    details: { problems },
  });
}

/** The parser and the schema (building the schema alone is ~25 ms of CPU). */
function configModules() {
  return Promise.all([import('../formats/yaml.ts'), import('./schema.ts')]);
}

/**
 * Starts loading the parser and the schema without waiting for them: a command that will read envs.yaml
 * after a few git calls calls this first, so the loading fills the time the process waits on git.
 */
export function preloadConfig(): void {
  configModules().catch(() => {}); // a failure shows again where the modules are needed
}
