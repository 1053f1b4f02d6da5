// @ts-check
// Runs in a fresh node process (started by startup/run.mjs) and prints one JSON line:
// `node probe.mjs <loadlight | cosmiconfig | first-sample | first-sample-no-config> <config file>`.
// A fresh process is the point: a config loader pays for loading its compiler once per process.
import { setTimeout as sleep } from 'node:timers/promises';

const [mode, configFile] = process.argv.slice(2);
if (!configFile) throw new Error('usage: node probe.mjs <loadlight | cosmiconfig | first-sample | first-sample-no-config> <config file>');

/** @param {unknown} config */
function describe(config) {
  const c = /** @type {{ sampleIntervalMs?: number, plugins?: unknown[] } | null} */ (config);
  return `sampleIntervalMs=${c?.sampleIntervalMs}, ${c?.plugins?.length ?? 0} plugins`;
}

async function main() {
  if (mode === 'loadlight') {
    const t0 = performance.now();
    const core = await import('@loadlight/core');
    const t1 = performance.now();
    const loaded = await core.loadConfig({ configFile });
    const t2 = performance.now();
    return { importMs: t1 - t0, loadMs: t2 - t1, config: describe(loaded?.config) };
  }
  if (mode === 'cosmiconfig') {
    const t0 = performance.now();
    const { cosmiconfig } = await import('cosmiconfig');
    const t1 = performance.now();
    // cosmiconfig 9's default loaders: `.ts` goes through the TypeScript compiler.
    const loaded = await cosmiconfig('perf').load(configFile);
    const t2 = performance.now();
    return { importMs: t1 - t0, loadMs: t2 - t1, config: describe(loaded?.config) };
  }
  if (mode === 'first-sample' || mode === 'first-sample-no-config') {
    const core = await import('@loadlight/core');
    const t0 = performance.now();
    const profiler = await core.startProfiling({ configFile: mode === 'first-sample' ? configFile : false, reporters: [], handleExit: false });
    const resolvedMs = performance.now() - t0;
    // The first tick is started by start(); it may still be in flight when start() resolves.
    while (profiler.store.size === 0) {
      if (performance.now() - t0 > 10_000) throw new Error('no sample committed within 10 s of startProfiling()');
      await sleep(0);
    }
    const firstSampleMs = performance.now() - t0;
    await core.stopProfiling();
    return { resolvedMs, firstSampleMs, config: `${profiler.store.metricCount} metrics` };
  }
  throw new Error(`unknown mode "${mode}"`);
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
