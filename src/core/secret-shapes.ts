/**
 * Secrets recognised by how they look, wherever they occur in a string: credentials in URLs and DSNs,
 * vendors' token formats, JWTs, private-key blocks. Data, so that adding a vendor is one entry plus its
 * example (redact.test.ts masks every example and checks near-misses stay). Patterns are global, and
 * guarded by a lookbehind so that `xsk_live_…` inside a longer word is not taken for a Stripe key.
 */
export interface SecretShape {
  name: string;
  pattern: RegExp;
  /** Substrings every match contains: the pattern runs only on texts holding one (most strings hold none). */
  hints: string[];
  /** Replacement in `String.replace` syntax; `***` stands for the mask. Default: the whole match masked. */
  replacement?: string;
  /** Fake but well-formed examples; the part that must disappear is all of it unless `keeps` says otherwise. */
  examples: string[];
  /** Per example, what must survive masking (e.g. the URL's user and host). */
  keeps?: string[][];
}

/** Not preceded by a letter or digit: the start of a token, not the middle of a word. */
const B = '(?<![A-Za-z0-9])';
const re = (source: string, flags = 'g') => new RegExp(source, flags);

export const SECRET_SHAPES: readonly SecretShape[] = [
  {
    name: 'private key block',
    hints: ['PRIVATE KEY'],
    pattern: re('(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)[\\s\\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)'),
    replacement: '$1***$2',
    examples: [
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefake\nZmFrZWZha2VmYWtl\n-----END RSA PRIVATE KEY-----',
      '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAAfake\\n-----END OPENSSH PRIVATE KEY-----',
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCfake (truncated)',
    ],
    keeps: [
      ['-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----'],
      ['-----BEGIN OPENSSH PRIVATE KEY-----', '-----END OPENSSH PRIVATE KEY-----'],
      ['-----BEGIN PRIVATE KEY-----'],
    ],
  },
  {
    name: 'URL with a password',
    hints: ['://'],
    // Greedy up to the last `@` before the host, so a password holding a raw `@` is masked whole. The
    // lookbehind starts a scheme only at the start of a word: without it a long word is scanned from every
    // letter (quadratic time).
    pattern: re('(?<![a-zA-Z0-9+.-])([a-zA-Z][a-zA-Z0-9+.-]*://[^\\s:/?#@"\'<>]*):([^\\s/?#"\'<>]+)@'),
    replacement: '$1:***@',
    examples: ['postgres://app:hunter2@db:5432/app', 'redis://:s3cr3t-pw@cache:6379/0', 'amqp://guest:p@ss@rabbit/'],
    keeps: [['postgres://app:***@db:5432/app'], ['redis://:***@cache:6379/0'], ['amqp://guest:***@rabbit/']],
  },
  {
    name: 'Go/MySQL DSN with a password',
    hints: ['@tcp(', '@unix('],
    pattern: re('(?<![\\w.-])([\\w.-]+):([^\\s@/:"\']+)@(tcp|unix)\\('),
    replacement: '$1:***@$3(',
    examples: ['app:hunter2@tcp(db:3306)/app?parseTime=true'],
    keeps: [['app:***@tcp(db:3306)/app?parseTime=true']],
  },
  {
    name: 'HTTP Authorization credentials',
    hints: ['earer', 'asic'],
    // A token has a digit or a symbol: `Bearer authentication failed` is prose.
    pattern: re(`${B}((?:[Bb]earer|[Bb]asic)\\s+)(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}`),
    replacement: '$1***',
    examples: ['Authorization: Bearer abcDEF123456ghiJKL', 'Authorization: Basic YWRtaW46aHVudGVyMg=='],
    keeps: [['Authorization: Bearer ***'], ['Authorization: Basic ***']],
  },
  {
    name: 'Stripe secret or restricted key',
    hints: ['_live_', '_test_'],
    pattern: re(`${B}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}`),
    examples: ['sk_live_FAKEfake0123456789abcdefXYZ', 'sk_test_FAKE0123456789', 'rk_live_FAKEfake0123456789'],
  },
  {
    name: 'Stripe webhook secret',
    hints: ['whsec_'],
    pattern: re(`${B}whsec_[A-Za-z0-9]{20,}`),
    examples: ['whsec_FAKEfake0123456789abcdefXYZ'],
  },
  {
    name: 'GitHub token',
    hints: ['gh', 'github_pat_'],
    pattern: re(`${B}(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`),
    examples: [
      'ghp_FAKEfake0123456789abcdefghijklmnopqr',
      'gho_FAKEfake0123456789abcdefghijklmnopqr',
      'ghu_FAKEfake0123456789abcdefghijklmnopqr',
      'ghs_FAKEfake0123456789abcdefghijklmnopqr',
      'ghr_FAKEfake0123456789abcdefghijklmnopqr',
      'github_pat_11FAKEFAKE0123456789_abcdefghijklmnopqrstuvwxyz0123456789',
    ],
  },
  {
    name: 'Slack token',
    hints: ['xox', 'xapp-'],
    pattern: re(`${B}(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-\\d-[A-Za-z0-9-]{10,})`),
    examples: ['xoxb-1234567890-0987654321-FAKEfakeFAKEfake', 'xoxp-FAKE-0123456789', 'xapp-1-A0FAKE-0123456789-abcdef'],
  },
  {
    name: 'Slack webhook URL',
    hints: ['hooks.slack.com'],
    pattern: re('(hooks\\.slack\\.com/services/)[A-Za-z0-9/_-]+'),
    replacement: '$1***',
    examples: ['https://hooks.slack.com/services/T00000000/B00000000/FAKEfakeFAKEfakeFAKE'],
    keeps: [['https://hooks.slack.com/services/***']],
  },
  {
    name: 'AWS access key id',
    hints: ['AKIA', 'ASIA'],
    pattern: re(`${B}(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])`),
    examples: ['AKIAIOSFODNN7EXAMPLE', 'ASIAFAKEFAKEFAKE1234'],
  },
  {
    name: 'JSON Web Token',
    hints: ['eyJ'],
    pattern: re(`${B}eyJ[A-Za-z0-9_-]{4,}\\.eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*`),
    examples: [
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIn0.ZmFrZS1zaWduYXR1cmU',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjMifQ.',
    ],
  },
  {
    name: 'GitLab token',
    hints: ['gl'],
    pattern: re(`${B}gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}`),
    examples: ['glpat-FAKEfake0123456789abcd'],
  },
  { name: 'npm token', hints: ['npm_'], pattern: re(`${B}npm_[A-Za-z0-9]{30,}`), examples: ['npm_FAKEfake0123456789abcdefghijklmnopqr'] },
  {
    name: 'Google API key',
    hints: ['AIza'],
    pattern: re(`${B}AIza[0-9A-Za-z_-]{35}`),
    examples: ['AIzaSyFAKEfake0123456789abcdefghijklmno'],
  },
  {
    name: 'OpenAI or Anthropic API key',
    hints: ['sk-'],
    pattern: re(`${B}sk-(?:(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})`),
    examples: [
      'sk-proj-FAKEfake0123456789abcdefghijkl',
      'sk-ant-api03-FAKEfake0123456789abcdef',
      'sk-FAKEfake0123456789abcdefghijklmnopqrstuv',
    ],
  },
  {
    name: 'SendGrid API key',
    hints: ['SG.'],
    pattern: re(`${B}SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}`),
    examples: ['SG.FAKEfake0123456789ab.FAKEfake0123456789abcdefghijklmnopqrstuvwxyz0'],
  },
  {
    name: 'Hugging Face token',
    hints: ['hf_'],
    pattern: re(`${B}hf_[A-Za-z0-9]{30,}`),
    examples: ['hf_FAKEfake0123456789abcdefghijklmnop'],
  },
  {
    name: 'Docker Hub token',
    hints: ['dckr_pat_'],
    pattern: re(`${B}dckr_pat_[A-Za-z0-9_-]{20,}`),
    examples: ['dckr_pat_FAKEfake0123456789abcdef'],
  },
  {
    name: 'Supabase access or secret key',
    hints: ['sbp_', 'sb_secret_'],
    pattern: re(`${B}(?:sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,})`),
    examples: ['sbp_0123456789abcdef0123456789abcdef01234567', 'sb_secret_FAKEfake0123456789abcdef'],
  },
];

/** Strings that look a little like the shapes above and must stay as they are. */
export const NOT_SECRETS: readonly string[] = [
  'http://127.0.0.1:8080/path?next=/a@b',
  'redis://user@cache:6379',
  'https://example.com/@scope/package',
  'sk_live_short',
  'task_live_FAKEfake0123456789abcdef',
  'ghp_short',
  'AKIA-not-a-key',
  'eyJ-not-a-jwt',
  'npm_config_cache',
  'sk-learn-feature-extraction',
  'postgres:15-alpine',
  'user@example.com',
  'bearer',
  'Bearer authentication failed',
];
