import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * V8 drops a class's layout (map) once every instance of it is collected, and deoptimises the code
 * that embedded it ('weak objects'). Collect writers live for one tick: a full GC between ticks
 * must not take TapWriter.set's optimised code with them. Runs built core (dist) in a child with
 * V8's test natives (%OptimizeFunctionOnNextCall, %GetOptimizationStatus) and gc().
 */
describe('collect writers and V8 optimised code', () => {
  it("keeps TapWriter.set optimised across a full GC between ticks (no 'weak objects' deopt)", () => {
    const entry = pathToFileURL(path.resolve(__dirname, '../dist/index.js')).href;
    const script = `
      import { Profiler } from ${JSON.stringify(entry)};
      let set = null;
      const probe = {
        name: 'probe',
        metrics: { 'probe.value': { unit: 'count', kind: 'gauge', description: 'a value' } },
        apply(p) {
          p.hooks.collect.tap('probe', (w) => {
            set = w.set;
            w.set('probe.value', 1);
          });
        },
      };
      const profiler = new Profiler({ plugins: [probe], reporters: [], rules: [], sampleIntervalMs: 10 }, { handleExit: false });
      // Resolves after the next tick committed its row, once that tick is over.
      const nextTick = async () => {
        const size = profiler.store.size;
        while (profiler.store.size === size) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setImmediate(r));
      };
      await profiler.start();
      await nextTick();
      %PrepareFunctionForOptimization(set);
      await nextTick();
      %OptimizeFunctionOnNextCall(set);
      await nextTick();
      const OPTIMIZED = 16; // V8's OptimizationStatus::kOptimized
      const before = (%GetOptimizationStatus(set) & OPTIMIZED) !== 0;
      gc();
      const after = (%GetOptimizationStatus(set) & OPTIMIZED) !== 0;
      await profiler.stop();
      console.log(JSON.stringify({ before, after }));
    `;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({ before: true, after: true });
  });
});
