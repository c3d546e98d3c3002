import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandFrom, SPECS } from './specs.ts';

describe('command specs', () => {
  it('give commander the keys the MCP tools use, for every option and argument', () => {
    for (const spec of Object.values(SPECS)) {
      const command = commandFrom(new Command('envs'), spec);
      expect(command.options.map((o) => o.attributeName())).toEqual(spec.options.map((o) => o.key));
      expect(command.registeredArguments.map((a) => [a.name(), a.required, a.variadic])).toEqual(
        spec.args.map((a) => [a.name, a.required, Boolean('variadic' in a && a.variadic)]),
      );
    }
  });

  it('parse count and choice options as the CLI always did', async () => {
    const program = new Command('envs').exitOverride().configureOutput({ writeErr: () => {} });
    let seen: unknown;
    commandFrom(program, SPECS.logs).action((_env, _name, options) => {
      seen = options;
    });
    await program.parseAsync(['logs', 'feat/x', '-n', '5'], { from: 'user' });
    expect(seen).toEqual({ tail: 5 });
    await expect(program.parseAsync(['logs', 'feat/x', '-n', '-1'], { from: 'user' })).rejects.toThrow(/whole number/);

    const env = new Command('envs').exitOverride().configureOutput({ writeErr: () => {} });
    commandFrom(env, SPECS.env).action((_env, options) => {
      seen = options;
    });
    await env.parseAsync(['env', 'feat/x'], { from: 'user' });
    expect(seen).toEqual({ format: 'dotenv' });
    await expect(env.parseAsync(['env', 'feat/x', '--format', 'yaml'], { from: 'user' })).rejects.toThrow(/Allowed choices/);
  });
});
