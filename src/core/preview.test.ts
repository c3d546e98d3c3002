import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ComposeModel } from '../compose/model.ts';
import { type Fakes, makeFakes } from '../testing/fakes.ts';
import { planEnv } from './preview.ts';

const TOKEN = 'ghp_FAKEfake0123456789abcdefghijklmnopqr';
const FROM_SHELL = 'value-from-the-shell-42';

const model: ComposeModel = {
  name: 'x',
  services: {
    web: {
      image: 'nginx',
      container_name: `web-${TOKEN}`,
      environment: { API_TOKEN: TOKEN, GREETING: `hello ${FROM_SHELL}` },
      command: ['sh', '-c', `curl -H "Authorization: Bearer ${TOKEN}" http://api`],
      ports: [{ target: 80, published: '8080', protocol: 'tcp' }],
    },
  },
  'x-deploy': { note: FROM_SHELL },
};

let fakes: Fakes;
beforeEach(async () => {
  fakes = await makeFakes(model);
});
afterEach(async () => {
  await fakes.cleanup();
});

describe('planEnv', () => {
  it('redacts the whole plan: model, YAML, changes; and values registered as secret (from the shell)', async () => {
    const plan = await planEnv(fakes.deps, { branch: 'feat/x', secretValues: [FROM_SHELL] });
    const text = JSON.stringify(plan);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(FROM_SHELL);
    expect(plan.compose.services.web?.environment).toEqual({ API_TOKEN: '***', GREETING: 'hello ***' });
    expect(plan.changes).toContainEqual(expect.objectContaining({ kind: 'container_name', from: 'web-***' }));
    expect(parse(plan.compose_yaml)).toEqual(plan.compose);
  });

  it('shows everything with showSecrets', async () => {
    const plan = await planEnv(fakes.deps, { branch: 'feat/x', secretValues: [FROM_SHELL], showSecrets: true });
    expect(plan.compose.services.web?.environment).toEqual(model.services.web?.environment);
    expect(plan.compose_yaml).toContain(TOKEN);
    expect(plan.compose_yaml).toContain(FROM_SHELL);
  });
});
