import { defineConfig, type Options } from 'tsup';

/** How every package builds: ESM + CJS + .d.ts for Node 20, from `src/index.ts` unless told. */
export function packageOptions(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    shims: true,
    target: 'node20',
    sourcemap: false,
    ...overrides,
  };
}

export function packageConfig(overrides: Options = {}) {
  return defineConfig(packageOptions(overrides));
}
