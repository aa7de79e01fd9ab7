// Emit the JSON Schema of evogit.yml for editors, from the one zod schema (after the build).
import { mkdirSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../dist/config/index.js';

mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/evogit.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
