import * as z from 'zod';
import type { CommandSpec } from '../cli/specs.ts';

/**
 * A tool's input schema from the command's spec (cli/specs.ts), the one commander reads too: arguments by
 * name, options by the key commander gives them. Options marked `mcp: false` (a follow, the events stream)
 * are the CLI's only.
 */
export function inputShape(spec: CommandSpec): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const arg of spec.args) {
    const value = arg.variadic ? z.array(z.string()).min(1) : z.string().min(1);
    shape[arg.name] = (arg.required ? value : value.optional()).describe(arg.description);
  }
  for (const option of spec.options) {
    if (option.mcp === false) continue;
    const value =
      option.type === 'flag'
        ? z.boolean().optional()
        : option.type === 'string'
          ? z.string().optional()
          : option.type === 'count'
            ? z.number().int().min(0).optional()
            : option.default === undefined
              ? z.enum(option.choices as [string, ...string[]]).optional()
              : z.enum(option.choices as [string, ...string[]]).default(option.default);
    shape[option.key] = value.describe(option.description);
  }
  return shape;
}
