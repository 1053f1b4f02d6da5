import { cpSync } from 'node:fs';
import { packageConfig } from '../../tsup.package.js';

export default packageConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  // The precompiled validators (scripts/generate-validators.mjs) are required at run time from
  // `./generated/` beside the bundle, as from src/validate.ts in the sources.
  onSuccess: async () => {
    cpSync('src/generated', 'dist/generated', { recursive: true, filter: (file) => !file.endsWith('.ts') });
  },
});
