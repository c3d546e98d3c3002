/** Values an env file must carry unchanged through dotenv and Docker Compose (shared by unit and integration tests). */
export const TRICKY_VALUES: Record<string, string> = {
  PLAIN: 'plain',
  EMPTY: '',
  DOLLAR_PASSWORD: 'p@$$w0rd$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the point
  BRACED: '${NOT_A_VAR}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the point
  DEFAULT_SYNTAX: '${X:-fallback}',
  HASH: 'a#b # not a comment',
  SPACES: '  leading and trailing  ',
  DOUBLE_QUOTES: 'say "hi"',
  BACKSLASHES: 'C:\\path\\n\\t',
  BACKTICK: 'run `this`',
  EQUALS: 'a=b=c',
  MULTILINE: '-----BEGIN KEY-----\nabc$def\n-----END KEY-----',
  APOSTROPHE: "it's fine",
  UNICODE: 'héllo ✓',
  URL: 'postgres://app:p%40ss$word@127.0.0.1:21437/app?sslmode=disable',
  JSON: '{"a":"$b","c":[1,2]}',
};
