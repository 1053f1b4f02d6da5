import { defineConfig } from 'tsup';
import { packageOptions } from '../../tsup.package.js';

export default defineConfig([
  packageOptions({ clean: false }),
  {
    // What the bin and the --import preload load (ESM only: top-level await).
    entry: ['src/main.ts', 'src/preload.ts'],
    format: ['esm'],
    target: 'node20',
  },
]);
