// `npm run build` starts from an empty dist/, so files deleted from src/ never linger in the package.
import { rm } from 'node:fs/promises';

await rm(new URL('../dist/', import.meta.url), { recursive: true, force: true });
