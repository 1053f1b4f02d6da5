// Core's source as the generator's plugins see it (a jiti alias of `@loadlight/core`), except
// that validateOptions records the schema it is given instead of checking the options.
import type { JsonSchema } from '../src/validate.js';

export * from '../src/index.js';

export const captured: Array<{ plugin: string; schema: JsonSchema }> = [];

export function validateOptions(plugin: string, schema: JsonSchema): void {
  captured.push({ plugin, schema });
}
