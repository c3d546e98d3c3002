import { describe, expect, it } from 'vitest';
import { redactEnv, redactUrlPassword, scrub } from './redact.ts';

describe('redaction', () => {
  it('masks secret-looking names and URL passwords, keeps the rest', () => {
    expect(
      redactEnv({
        POSTGRES_PASSWORD: 'hunter2',
        PGPASSWORD: 'hunter2',
        STRIPE_SECRET_KEY: 'sk',
        JWT_SECRET: 'x',
        GITHUB_TOKEN: 't',
        DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:21437/app',
        PORT: '3000',
        KEYBOARD: 'qwerty',
      }),
    ).toEqual({
      POSTGRES_PASSWORD: '***',
      PGPASSWORD: '***',
      STRIPE_SECRET_KEY: '***',
      JWT_SECRET: '***',
      GITHUB_TOKEN: '***',
      DATABASE_URL: 'postgres://app:***@127.0.0.1:21437/app',
      PORT: '3000',
      KEYBOARD: 'qwerty',
    });
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrlPassword('http://127.0.0.1:8080/x')).toBe('http://127.0.0.1:8080/x');
    expect(redactUrlPassword('redis://user@h:1')).toBe('redis://user@h:1');
  });

  it('scrubs known secret values out of free text', () => {
    expect(scrub('password authentication failed for s3cr3tpw', ['s3cr3tpw'])).toBe('password authentication failed for ***');
  });
});
