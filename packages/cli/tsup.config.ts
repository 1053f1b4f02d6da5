import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: false,
    shims: true,
    target: 'node20',
  },
  {
    // What the bin and the --import preload load (ESM only: top-level await).
    entry: ['src/main.ts', 'src/preload.ts'],
    format: ['esm'],
    target: 'node20',
  },
]);
