import { posix } from 'node:path';

/**
 * Next.js apps of a workspace and the port their `dev` script serves on. `next dev` takes its port from
 * `-p/--port` or the PORT variable, and walks 3000→3001→… only when neither is given (never relied on:
 * auth redirect URLs need a known port). `PORT` in an env file is not honoured: the server binds before
 * env files load, so the port comes from the process environment envs starts it with.
 */

export const NEXT_DEFAULT_PORT = 3000;

export type PortSource =
  /** No port given: PORT is honoured, 3000 otherwise. */
  | { kind: 'default' }
  /** `-p ${PORT:-3001}` / `--port=$PORT`: honours PORT (or another variable: `${STUDIO_PORT:-8082}`). */
  | { kind: 'variable'; variable: string; fallback?: number }
  /** `-p 3001`, `--port 3001`, `--port=3001`, `-p3001`: overrides PORT. */
  | { kind: 'flag'; value: number; token: string }
  /** `PORT=3001 next dev`: overrides the PORT envs sets. */
  | { kind: 'env-prefix'; value: number; token: string };

export interface DevScript {
  /** The package.json script name (`dev`). */
  script: string;
  text: string;
  port: PortSource;
  /** The port the main checkout serves on: the address map's original for this app. */
  original: number;
  /** The script ignores the PORT envs sets. */
  hardCoded: boolean;
  /** For a hard-coded port: the script as it should read, honouring PORT with the old port as fallback. */
  fix?: string;
}

export interface NextApp {
  /** Repository-relative directory ('' for the root). */
  dir: string;
  name?: string;
  /** The `next` version range it depends on. */
  version: string;
  /** Its `dev` script running `next dev`, when it has one. */
  dev?: DevScript;
}

interface PackageJson {
  name?: unknown;
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

/** The Next.js apps among a workspace's package.json files (`dir` + text). */
export function detectNextApps(packages: ReadonlyArray<{ path: string; text: string }>): { apps: NextApp[]; warnings: string[] } {
  const apps: NextApp[] = [];
  const warnings: string[] = [];
  for (const { path, text } of packages) {
    let pkg: PackageJson;
    try {
      pkg = JSON.parse(text) as PackageJson;
    } catch {
      warnings.push(`${path} is not valid JSON; envs cannot tell whether it is a Next.js app.`);
      continue;
    }
    const version = pkg.dependencies?.next ?? pkg.devDependencies?.next;
    if (typeof version !== 'string') continue;
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    const script = typeof pkg.scripts?.dev === 'string' ? analyseDevScript('dev', pkg.scripts.dev) : undefined;
    apps.push({ dir, ...(typeof pkg.name === 'string' ? { name: pkg.name } : {}), version, ...(script ? { dev: script } : {}) });
  }
  return { apps: apps.sort((a, b) => a.dir.localeCompare(b.dir)), warnings };
}

const NEXT_DEV = /\bnext\s+dev\b/;
const VARIABLE = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-(\d{1,5}))?\}?$/;

/** How a script's `next dev` gets its port; undefined when the script runs no `next dev`. */
export function analyseDevScript(script: string, text: string): DevScript | undefined {
  const at = NEXT_DEV.exec(text);
  if (!at) return undefined;
  // Arguments of this `next dev`: up to a shell operator or a quote (`concurrently "next dev -p 1" …`).
  const rest = text.slice(at.index + at[0].length);
  const args =
    rest
      .split(/&&|\|\||[;|&)"']/)[0]
      ?.trim()
      .split(/\s+/)
      .filter(Boolean) ?? [];
  let port: PortSource = { kind: 'default' };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    let value: string | undefined;
    let token: string | undefined;
    if ((arg === '-p' || arg === '--port') && args[i + 1] !== undefined) {
      value = args[i + 1] as string;
      token = `${arg} ${value}`;
    } else if (arg.startsWith('--port=')) {
      value = arg.slice('--port='.length);
      token = arg;
    } else if (/^-p\d+$/.test(arg)) {
      value = arg.slice(2);
      token = arg;
    }
    if (value === undefined || token === undefined) continue;
    const variable = VARIABLE.exec(value);
    if (/^\d{1,5}$/.test(value)) port = { kind: 'flag', value: Number(value), token };
    else if (variable)
      port = { kind: 'variable', variable: variable[1] as string, ...(variable[2] ? { fallback: Number(variable[2]) } : {}) };
  }
  // `PORT=3001 next dev` (the assignment right before it) beats the PORT envs sets.
  const prefix = /(?:^|[\s;&|(])(PORT=(\d{1,5}))\s+(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*$/.exec(text.slice(0, at.index));
  if (port.kind === 'default' && prefix) port = { kind: 'env-prefix', value: Number(prefix[2]), token: prefix[1] as string };

  const original =
    port.kind === 'flag' || port.kind === 'env-prefix'
      ? port.value
      : port.kind === 'variable'
        ? (port.fallback ?? NEXT_DEFAULT_PORT)
        : NEXT_DEFAULT_PORT;
  const hardCoded = port.kind === 'flag' || port.kind === 'env-prefix';
  let fix: string | undefined;
  if (port.kind === 'flag') fix = replaceToken(text, at.index, port.token, port.token.replace(/\d+$/, `\${PORT:-${port.value}}`));
  if (port.kind === 'env-prefix') fix = text.replace(port.token, `PORT=\${PORT:-${port.value}}`);
  return { script, text, port, original, hardCoded, ...(fix ? { fix } : {}) };
}

function replaceToken(text: string, from: number, token: string, replacement: string): string {
  const index = text.indexOf(token, from);
  return index === -1 ? text : text.slice(0, index) + replacement + text.slice(index + token.length);
}

/** What envs reports about an app whose dev script ignores PORT. */
export function hardCodedPortAdvice(app: NextApp): string | undefined {
  const dev = app.dev;
  if (!dev?.hardCoded || !dev.fix) return undefined;
  const where = app.dir ? `${app.dir}/package.json` : 'package.json';
  return `${where}: scripts.${dev.script} fixes the port (${dev.text}); envs runs it with the env's port, and \`${dev.script}\` outside envs keeps ${dev.original}. To let PORT through everywhere, write: "${dev.fix}"`;
}

export interface DevCommand {
  /** Repository-relative directory to run it in. */
  cwd: string;
  /** A shell command line: the script's own text, with the env's port where it had a literal one. */
  command: string;
  /** Variables the port must reach it through (PORT, or the variable its script reads). */
  env: Record<string, string>;
}

/**
 * How envs starts an app's dev server on a leased port. Run `command` with `sh -c` in `cwd`, with the
 * package's and the root's `node_modules/.bin` on PATH (as `npm run` does) and `env` added.
 */
export function nextDevCommand(app: NextApp, port: number): DevCommand {
  const env: Record<string, string> = { PORT: String(port) };
  const dev = app.dev;
  if (!dev) return { cwd: app.dir, command: 'next dev', env };
  if (dev.port.kind === 'variable') env[dev.port.variable] = String(port);
  let command = dev.text;
  const at = NEXT_DEV.exec(dev.text)?.index ?? 0;
  if (dev.port.kind === 'flag') command = replaceToken(dev.text, at, dev.port.token, dev.port.token.replace(/\d+$/, String(port)));
  if (dev.port.kind === 'env-prefix') command = dev.text.replace(dev.port.token, `PORT=${port}`);
  return { cwd: app.dir, command, env };
}
