// scripts/build-bench.mjs, the build `npm run bench` runs: tested here, beside the bench it serves.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBench, isStale, tsupPackages } from '../../scripts/build-bench.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const TSUP_CONFIG = "export default { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, clean: true, target: 'node20' };\n";

/**
 * A workspace like this repository's: packages/core, whose source imports a file its validator
 * generator writes, another package whose dist already holds declarations, a page and an old
 * chunk, and an example without a tsup config.
 */
function fixtureRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'loadlight-build-bench-'));
  dirs.push(root);
  write(path.join(root, 'package.json'), JSON.stringify({ private: true, workspaces: ['packages/core', 'packages/a', 'examples/*'] }));
  const core = path.join(root, 'packages/core');
  write(path.join(core, 'package.json'), JSON.stringify({ name: 'fixture-core', type: 'module' }));
  write(path.join(core, 'tsup.config.mjs'), TSUP_CONFIG);
  write(path.join(core, 'src/index.ts'), "import { GENERATED } from './generated';\nexport const core: string = GENERATED;\n");
  write(
    path.join(core, 'scripts/generate-validators.mjs'),
    "import { existsSync, writeFileSync } from 'node:fs';\nif (!existsSync('src/generated.ts')) writeFileSync('src/generated.ts', \"export const GENERATED = 'made by the generator';\\n\");\n",
  );
  const a = path.join(root, 'packages/a');
  write(path.join(a, 'package.json'), JSON.stringify({ name: 'fixture-a', type: 'module' }));
  write(path.join(a, 'tsup.config.mjs'), TSUP_CONFIG);
  write(path.join(a, 'src/index.ts'), 'export const a: number = 1;\n');
  write(path.join(a, 'dist/index.d.ts'), 'export declare const a: number;\n');
  write(path.join(a, 'dist/ui/index.html'), '<p>the page</p>\n');
  write(path.join(a, 'dist/chunk-OLD.js'), 'export const old = 1;\n');
  // an earlier build: older than the sources
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(path.join(a, 'dist/chunk-OLD.js'), hourAgo, hourAgo);
  write(path.join(root, 'examples/x/package.json'), JSON.stringify({ name: 'fixture-example' }));
  return root;
}

describe('tsupPackages', () => {
  it("lists this repository's packages that tsup builds, not rules/ or the examples", () => {
    const names = tsupPackages(ROOT).map((dir) => path.relative(ROOT, dir));
    expect(names).toContain('packages/core');
    expect(names).toContain('packages/reporter-dashboard');
    expect(names.every((name) => name.startsWith('packages/'))).toBe(true);
  });
});

describe('isStale', () => {
  it('is true without dist JS, false once it is newer than every input, true again when a source changes', () => {
    const root = fixtureRoot();
    const a = path.join(root, 'packages/a');
    rmSync(path.join(a, 'dist/chunk-OLD.js'));
    expect(isStale(a, root)).toBe(true); // declarations alone are not a build
    write(path.join(a, 'dist/index.js'), 'export const a = 1;\n');
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(a, 'dist/index.js'), later, later);
    expect(isStale(a, root)).toBe(false);
    const laterStill = new Date(Date.now() + 120_000);
    utimesSync(path.join(a, 'src/index.ts'), laterStill, laterStill);
    expect(isStale(a, root)).toBe(true);
  });
});

describe('buildBench', () => {
  it('builds JS only, core after its generator, keeps declarations and sub-folders, then skips what is up to date', { timeout: 60_000 }, async () => {
    const root = fixtureRoot();
    const core = path.join(root, 'packages/core');
    const a = path.join(root, 'packages/a');

    const first = await buildBench({ root, jobs: 2 });
    expect(first.built.sort()).toEqual([a, core].sort());
    for (const dir of [core, a]) {
      expect(existsSync(path.join(dir, 'dist/index.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'dist/index.cjs'))).toBe(true);
    }
    // built after the generator ran: its file was there to bundle
    expect(readFileSync(path.join(core, 'dist/index.js'), 'utf8')).toContain('made by the generator');
    // no declarations made; the ones there, the page and its folder kept; the old chunk gone
    expect(existsSync(path.join(core, 'dist/index.d.ts'))).toBe(false);
    expect(readFileSync(path.join(a, 'dist/index.d.ts'), 'utf8')).toContain('declare const a');
    expect(existsSync(path.join(a, 'dist/ui/index.html'))).toBe(true);
    expect(existsSync(path.join(a, 'dist/chunk-OLD.js'))).toBe(false);

    const again = await buildBench({ root, jobs: 2 });
    expect(again.built).toEqual([]);
    expect(again.current.sort()).toEqual([a, core].sort());

    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(a, 'src/index.ts'), later, later);
    expect((await buildBench({ root, jobs: 1 })).built).toEqual([a]);
  });
});

describe('buildBench, failing', () => {
  it('rejects naming the package and the error when a source does not compile', { timeout: 60_000 }, async () => {
    const root = fixtureRoot();
    write(path.join(root, 'packages/a/src/index.ts'), 'export const a = ;\n');
    await expect(buildBench({ root, jobs: 1 })).rejects.toThrow(/building packages\/a failed: .*Unexpected ";"/s);
  });
});
