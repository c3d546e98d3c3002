/**
 * The one redactor every output path uses (plan, info, list, errors, debug traces). It masks, with `***`:
 *   - the values of secret-named keys (environment, labels, build args, `x-` fields, whole subtrees of
 *     secret-named keys, `NAME=value` / `--name=value` / `--name value` / `"name": "value"` inside strings);
 *   - secrets by shape wherever they occur (secret-shapes.ts: URLs with a password, vendor tokens, JWTs,
 *     private-key blocks);
 *   - every value registered as secret (the env's generated password, values interpolated from the shell).
 * It only ever replaces parts of string values, never keys or structure, so what it returns still
 * serialises to the same YAML/JSON shape. `show` (--show-secrets) turns it off.
 */
import { SECRET_SHAPES } from './secret-shapes.ts';

export const MASK = '***';

/** Words that make a name secret wherever they stand, also glued to others (`PGPASSWORD`, `clientSecret`). */
const STRONG = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|APIKEY|PRIVATEKEY|REQUIREPASS|MASTERAUTH)S?$/;
/** Words that make a name secret only as whole words (`DB_PASS`, `SMTP_PW`, `WORDPRESS_AUTH_SALT`). */
const WEAK = new Set(['PASS', 'PW', 'CREDS', 'SALT', 'PEPPER', 'DSN', 'CONNECTIONSTRING']);
/** `…_KEY` is secret unless it is one of the public or structural kinds of key. */
const PUBLIC_KEYS = new Set([
  'PUBLIC',
  'PUBLISHABLE',
  'PRIMARY',
  'PARTITION',
  'SORT',
  'CACHE',
  'ROUTING',
  'FOREIGN',
  'HASH',
  'LOOKUP',
  'IDEMPOTENCY',
]);
/** Secret word + one of these describes the secret without being it: `PASSWORD_FILE`, `TOKEN_TTL`, `JWT_SECRET_PATH`. */
const DESCRIPTORS = new Set([
  'FILE',
  'FILES',
  'FILENAME',
  'PATH',
  'DIR',
  'LOCATION',
  'STDIN',
  'ENABLED',
  'DISABLED',
  'EXPIRY',
  'EXPIRES',
  'EXP',
  'TTL',
  'TIMEOUT',
  'INTERVAL',
  'LENGTH',
  'ALGORITHM',
  'ALG',
]);
/** A leading word that talks about secrets rather than holding one: `SHOW_SECRETS`, `--no-password`. */
const ABOUT = new Set(['SHOW', 'HIDE', 'NO', 'REDACT', 'MASK']);

/** `POSTGRES_PASSWORD`, `dbPassword`, `--db-password`, `spring.datasource.password` → upper-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
}

/**
 * Whether a key names a secret: PASSWORD, SECRET, TOKEN, CREDENTIALS, API_KEY, PRIVATE_KEY, `*_KEY`,
 * MYSQL_PWD, DB_PASS, DSN… but not KEY_PREFIX, PUBLIC_KEY, PWD (the working directory), PASSWORD_FILE,
 * TOKEN_TTL, PASSPORT or SHOW_SECRETS.
 */
export function isSecretName(name: string): boolean {
  let secret = decided.get(name);
  if (secret === undefined) {
    if (decided.size >= 2000) decided.clear();
    secret = decide(name);
    decided.set(name, secret);
  }
  return secret;
}

/** Names repeat (every service's environment, every line of a text): decide each once. */
const decided = new Map<string, boolean>();

function decide(name: string): boolean {
  const w = words(name);
  const last = w[w.length - 1];
  if (last === undefined) return false;
  if (w.length > 1 && (DESCRIPTORS.has(last) || ABOUT.has(w[0] ?? ''))) return false;
  if (w.some((word) => STRONG.test(word) || WEAK.has(word))) return true;
  if (w.length > 1 && w.includes('PWD')) return true;
  if (last === 'KEY' || last === 'KEYS') return !PUBLIC_KEYS.has(w[w.length - 2] ?? '');
  // API_KEY_ID, PRIVATE_KEY_PEM, SECRET_KEY_BASE (SECRET already counts), CONNECTION_STRING
  for (let i = 0; i + 1 < w.length; i++) {
    const pair = `${w[i]}_${w[i + 1]}`;
    if (/^(API|PRIVATE|ACCESS|SIGNING|ENCRYPTION|MASTER|LICENSE)_KEYS?$|^CONNECTION_STRING$/.test(pair)) return true;
  }
  return false;
}

export interface RedactorOptions {
  /** --show-secrets: every method returns its input unchanged. */
  show?: boolean;
  /** Values masked wherever they appear (see `addSecretValues`). */
  secretValues?: Iterable<string | null | undefined>;
  /** Registered values shorter than this are ignored, so that `true` or `5432` are never masked. Default 6. */
  minSecretLength?: number;
}

export interface Redactor {
  readonly show: boolean;
  /**
   * Registers values to mask wherever they appear: as given, URL-encoded (as in DATABASE_URL), and with `$`
   * doubled (as Compose prints it). Values shorter than `minSecretLength` are ignored.
   */
  addSecretValues(values: Iterable<string | null | undefined>): Redactor;
  /** Free text: error messages, command lines, debug traces, any string value. */
  text(text: string): string;
  /** One variable: all of it when the key is secret-named (an empty value stays empty), else `text`. */
  value(key: string, value: string): string;
  /** A set of variables (null → ''). */
  env(env: Record<string, string | null | undefined>): Record<string, string>;
  /** An argument vector: each element as text, and the element after a secret-named `--flag` masked. */
  argv(args: readonly string[]): string[];
  /** A copy of any JSON-like value with every string redacted by its key and content; keys and shape kept. */
  deep<T>(value: T): T;
}

/** Keys under a secret-named key that describe rather than hold the secret (Compose's secrets, x- fields). */
const STRUCTURAL = new Set([
  'file',
  'environment',
  'external',
  'name',
  'source',
  'target',
  'uid',
  'gid',
  'mode',
  'driver',
  'template_driver',
]);
/** Compose's own `secrets:` (top level and per service) lists references, not values; only `content` is one. */
const COMPOSE_SECTIONS = new Set(['secrets', 'configs']);

/** `NAME=value` / `--name=value` with the value bare or quoted (bare ends at space, `&`, `;` or a quote). */
const ASSIGNMENT = /(?<![\w.-])(-{0,2})([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s&;'"]+)/g;
/** `--name value`: only long-ish flags; the value must not look like the next flag. */
const FLAG_VALUE = /(?<![\w-])(-{1,2}[A-Za-z][\w-]*)([ \t]+)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s'"-][^\s'"]*)/g;
const FLAG = /^-{1,2}([A-Za-z][\w-]*)$/;
/** `"name": "value"` (JSON inside a string). */
const JSON_MEMBER = /("([A-Za-z_][\w.-]*)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}\]]+)/g;
/** `name: value` on its own line of a multi-line string (a YAML or properties file held in a variable). */
const YAML_LINE = /^([ \t]*-?[ \t]*)(["']?)([A-Za-z_][\w-]*)\2([ \t]*[:=][ \t]*)(?![|>][ \t]*$)(\S.*)$/gm;

function maskQuoted(value: string): string {
  const quote = value[0];
  return (quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote) ? `${quote}${MASK}${quote}` : MASK;
}

/** Whether `args[i]` is the value of a secret-named flag before it (`--requirepass`, `pw`). */
function followsSecretFlag(args: readonly string[], i: number): boolean {
  const flag = i > 0 ? FLAG.exec(args[i - 1] ?? '') : null;
  return flag?.[1] !== undefined && isSecretName(flag[1]) && !(args[i] ?? '').startsWith('-');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

class SecretRedactor implements Redactor {
  readonly show: boolean;
  private readonly minLength: number;
  private readonly values = new Set<string>();
  private valuesPattern: RegExp | undefined;

  constructor(options: RedactorOptions) {
    this.show = Boolean(options.show);
    this.minLength = options.minSecretLength ?? 6;
    if (options.secretValues) this.addSecretValues(options.secretValues);
  }

  addSecretValues(values: Iterable<string | null | undefined>): Redactor {
    for (const value of values) {
      if (typeof value !== 'string' || value.length < this.minLength) continue;
      this.values.add(value);
      this.values.add(encodeURIComponent(value));
      this.values.add(value.replaceAll('$', () => '$$')); // a function: in a replacement string `$$` means `$`
    }
    this.valuesPattern = undefined;
    return this;
  }

  text(text: string): string {
    if (this.show || text.length < 4) return text;
    let out = text;
    if (this.values.size > 0) {
      // Longest first, so a value containing another is masked whole.
      this.valuesPattern ??= new RegExp(
        [...this.values]
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join('|'),
        'g',
      );
      out = out.replace(this.valuesPattern, MASK);
    }
    if (out.length >= 8) {
      for (const shape of SECRET_SHAPES) {
        if (shape.hints.some((hint) => out.includes(hint))) out = out.replace(shape.pattern, shape.replacement ?? MASK);
      }
    }
    if (out.includes('=')) {
      out = out.replace(ASSIGNMENT, (all, dashes: string, name: string, value: string) =>
        isSecretName(name) ? `${dashes}${name}=${maskQuoted(value)}` : all,
      );
    }
    if (out.includes('-')) {
      out = out.replace(FLAG_VALUE, (all, flag: string, space: string, value: string) =>
        isSecretName(flag.replace(/^-+/, '')) ? `${flag}${space}${maskQuoted(value)}` : all,
      );
    }
    if (out.includes('":')) {
      out = out.replace(JSON_MEMBER, (all, head: string, name: string) => (isSecretName(name) ? `${head}"${MASK}"` : all));
    }
    if (out.includes('\n')) {
      out = out.replace(YAML_LINE, (all, indent: string, quote: string, name: string, sep: string) =>
        isSecretName(name) ? `${indent}${quote}${name}${quote}${sep}${MASK}` : all,
      );
    }
    return out;
  }

  value(key: string, value: string): string {
    if (this.show) return value;
    if (isSecretName(key)) return value === '' ? '' : MASK;
    return this.text(value);
  }

  env(env: Record<string, string | null | undefined>): Record<string, string> {
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : this.value(k, v)]));
  }

  argv(args: readonly string[]): string[] {
    if (this.show) return [...args];
    return args.map((arg, i) => (followsSecretFlag(args, i) ? MASK : this.text(arg)));
  }

  deep<T>(value: T): T {
    if (this.show) return value;
    return this.walk(value, undefined, false, false) as T;
  }

  private walk(value: unknown, key: string | undefined, secret: boolean, inSecretsSection: boolean): unknown {
    const masked = secret && !(key !== undefined && STRUCTURAL.has(key));
    if (typeof value === 'string') {
      if (masked || (key !== undefined && isSecretName(key))) return value === '' ? '' : MASK;
      if (inSecretsSection && key === 'content') return MASK;
      return this.text(value);
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      return masked || (key !== undefined && isSecretName(key)) ? MASK : value;
    }
    if (Array.isArray(value)) {
      // A list of strings may be a command (command, entrypoint, healthcheck.test): `--password`, `pw`.
      const argv = value.every((item) => typeof item === 'string');
      return value.map((item, i) => (argv && followsSecretFlag(value, i) ? MASK : this.walk(item, key, secret, inSecretsSection)));
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(value)) {
        const section = COMPOSE_SECTIONS.has(k);
        const childSecret = secret || (!section && isSecretName(k));
        out[k] = this.walk(child, k, childSecret, inSecretsSection || k === 'secrets');
      }
      return out;
    }
    return value;
  }
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  return new SecretRedactor(options);
}

const shapesOnly = createRedactor();

/**
 * Redacts a text by names and shapes only (no registered values): for debug traces and messages that
 * have no redactor at hand.
 */
export function redactText(text: string): string {
  return shapesOnly.text(text);
}

/** Redacts an argument vector by names and shapes only: for debug traces of subprocesses. */
export function redactArgv(args: readonly string[]): string[] {
  return shapesOnly.argv(args);
}
