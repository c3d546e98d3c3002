// Writes schema/envs.schema.json from the zod schema (a unit test checks it is current).
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/schema.ts';

writeFileSync(new URL('../schema/envs.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
