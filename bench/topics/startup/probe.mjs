// @ts-check
// Runs in a fresh node process (started by startup/run.mjs, with the fixture project as its cwd)
// and prints one JSON line. A fresh process is the point: a config loader pays for loading its
// compiler once per process, and start-up is what a program pays once.
//
//   node probe.mjs load <loadlight | cosmiconfig> <config file>
//   node probe.mjs first-sample <search | none>
//
// `first-sample search` is what a program writes, `startProfiling()`: cosmiconfig searches the
// cwd for perf.config.*. `none` passes `configFile: false`. Set JITI_FS_CACHE=false for jiti's
// cold path (no transform cache: the first start after editing a typed config).
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

const [mode, arg, configFile] = process.argv.slice(2);
const require = createRequire(import.meta.url);

/** @param {unknown} config */
function describe(config) {
  const c = /** @type {{ sampleIntervalMs?: number, plugins?: unknown[] } | null} */ (config);
  return `sampleIntervalMs=${c?.sampleIntervalMs}, ${c?.plugins?.length ?? 0} plugins`;
}

/** How the config was read: jiti (and babel, when it transformed) or a plain native import. */
function loader() {
  const loaded = Object.keys(require.cache);
  if (loaded.some((file) => /[\\/]jiti[\\/]dist[\\/]babel\.cjs$/.test(file))) return 'jiti + babel transform';
  if (loaded.some((file) => /[\\/]jiti[\\/]dist[\\/]jiti\.cjs$/.test(file))) return 'jiti, cached transform';
  return 'native import (jiti not loaded)';
}

/** Whether ajv's compiler (not only its small run-time helpers) was loaded. */
function ajvCompiler() {
  return Object.keys(require.cache).some((file) => /[\\/]ajv[\\/]dist[\\/]core\.js$/.test(file));
}

async function main() {
  if (mode === 'load' && arg === 'loadlight' && configFile) {
    const t0 = performance.now();
    const core = await import('@loadlight/core');
    const t1 = performance.now();
    const loaded = await core.loadConfig({ configFile });
    const t2 = performance.now();
    return { importMs: t1 - t0, loadMs: t2 - t1, what: `${describe(loaded?.config)}; ${loader()}` };
  }
  if (mode === 'load' && arg === 'cosmiconfig' && configFile) {
    const t0 = performance.now();
    const { cosmiconfig } = await import('cosmiconfig');
    const t1 = performance.now();
    // cosmiconfig 9's default loaders: `.ts` goes through the TypeScript compiler.
    const loaded = await cosmiconfig('perf').load(configFile);
    const t2 = performance.now();
    return { importMs: t1 - t0, loadMs: t2 - t1, what: describe(loaded?.config) };
  }
  if (mode === 'first-sample' && (arg === 'search' || arg === 'none')) {
    const t0 = performance.now();
    const core = await import('@loadlight/core');
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const profiler = await core.startProfiling({ ...(arg === 'none' ? { configFile: false } : {}), reporters: [], handleExit: false });
    const resolvedMs = performance.now() - t1;
    // The first tick is started by start(); it may still be in flight when start() resolves.
    while (profiler.store.size === 0) {
      if (performance.now() - t1 > 10_000) throw new Error('no sample committed within 10 s of startProfiling()');
      await sleep(0);
    }
    const firstSampleMs = performance.now() - t1;
    // CPU time of the process over the same window: what start-up costs, whoever else runs.
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const what = `${profiler.config.configFile ? 'found a config' : 'no config'}, ${profiler.store.metricCount} metrics; ${arg === 'none' ? 'no config read' : loader()}; ajv compiler ${ajvCompiler() ? 'loaded' : 'not loaded'}`;
    await core.stopProfiling();
    return { importMs: t1 - t0, resolvedMs, firstSampleMs, cpuMs, what };
  }
  throw new Error(`usage: node probe.mjs load <loadlight | cosmiconfig> <config file> | first-sample <search | none> (got ${process.argv.slice(2).join(' ')})`);
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
