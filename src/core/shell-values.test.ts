import { describe, expect, it } from 'vitest';
import { shellInterpolatedValues } from './shell-values.ts';

describe('shellInterpolatedValues', () => {
  it('takes the shell values of the variables a compose file names, not escaped dollars nor envs’s own', () => {
    const files = new Map([
      [
        'compose.yaml',
        Buffer.from(
          'services:\n  app:\n    environment:\n      TOKEN: ${SHELL_SECRET}\n      PRICE: "$$5"\n      X: $PLAIN\n      IMG: ${ENVS_POSTGRES_IMAGE}\n',
        ),
      ],
    ]);
    const env = { SHELL_SECRET: 'sk-from-the-shell', PLAIN: 'plain-value', ENVS_POSTGRES_IMAGE: 'postgres:17', UNUSED: 'x' };
    expect(shellInterpolatedValues(files, ['compose.yaml'], env)).toEqual(['sk-from-the-shell', 'plain-value']);
  });
});
