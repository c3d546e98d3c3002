/**
 * The `yaml` package, for modules that load it only when they need it (`await import('../formats/yaml.ts')`).
 * Not `await import('yaml')`: the CLI's bundle (scripts/bundle-cli.ts) holds yaml's CommonJS build, and a
 * dynamic import of a bundled CommonJS chunk has only a default export; this module's static import does not.
 */
export { parse, parseDocument, stringify } from 'yaml';
