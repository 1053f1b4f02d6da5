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
    // The bin and the --import preload are ESM only (top-level await).
    entry: ['src/cli.ts', 'src/preload.ts'],
    format: ['esm'],
    target: 'node20',
    banner: {},
  },
]);
