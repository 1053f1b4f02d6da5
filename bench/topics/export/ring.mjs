// @ts-check
// A full ring, shared by the export and memory topics: a real Profiler with every built-in
// source (plugin-system, -ocr, -frames, -io, -modules) and 100 profiled modules, its store then
// filled with 3,600 committed rows of synthetic values for every declared metric.
import { importOptional } from '../../lib/topic.mjs';
import { collectOnce } from '../hot-path/common.mjs';

export const RING_SAMPLES = 3600;
export const RING_MODULES = 100;
const PACKAGES = ['core', 'plugin-system', 'plugin-ocr', 'plugin-frames', 'plugin-io', 'plugin-modules'];

/**
 * Imports our packages (done before any baseline measurement: code loading is not the ring's
 * cost). Resolves `missing` instead when one is not built.
 * @returns {Promise<{ mods: Record<string, any>, missing: string | null }>}
 */
export async function loadPackages() {
  /** @type {Record<string, any>} */
  const mods = {};
  for (const name of PACKAGES) {
    const loaded = await importOptional(`@loadlight/${name}`);
    if (loaded.missing !== null) return { mods, missing: loaded.missing };
    mods[name] = loaded.module;
  }
  return { mods, missing: null };
}

/** A small deterministic generator (mulberry32): the same values in every run. */
function random(seed = 42) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the profiler (quiet: no reporters, no rules, no tick after the first), profiles 100
 * modules, calls each once and runs one collect so that plugin-modules declares their metrics,
 * then commits 3,600 rows. Counters get small whole numbers, gauges full-precision doubles (as a
 * division such as a CPU percentage yields); every column has a value in every row.
 * @param {Record<string, any>} mods from loadPackages()
 * @param {string[]} warnings
 */
export async function fillRing(mods, warnings) {
  const core = mods.core;
  const profiler = new core.Profiler(
    {
      reporters: [],
      rules: [],
      sampleIntervalMs: 3_600_000,
      maxSamples: RING_SAMPLES,
      plugins: [mods['plugin-system'].default(), mods['plugin-ocr'].default(), mods['plugin-frames'].default(), mods['plugin-io'].default(), mods['plugin-modules'].default()],
    },
    { handleExit: false, warn: (/** @type {string} */ message) => warnings.length < 5 && warnings.push(`loadlight warned: ${message}`) },
  );
  await profiler.start();
  // Functions of distinct source text, as a program's modules are (plugin-modules cannot tell
  // closures of one source apart, and would warn).
  const wrapped = Array.from({ length: RING_MODULES }, (_, i) =>
    mods['plugin-modules'].profileModule(`bench.m${String(i).padStart(3, '0')}`, /** @type {(x: number) => number} */ (new Function('x', `return x + ${i};`))),
  );
  for (const fn of wrapped) fn(1);
  await collectOnce(profiler);
  const store = profiler.store;
  const catalogue = store.catalogue();
  const moduleMetrics = catalogue.filter((/** @type {any} */ m) => m.module).length;
  const next = random();
  const row = new Float64Array(store.metricCount);
  const t0 = Date.now();
  for (let s = 0; s < RING_SAMPLES; s++) {
    for (let i = 0; i < catalogue.length; i++) {
      row[i] = catalogue[i].kind === 'counter' ? Math.floor(next() * 50) : next() * 100;
    }
    store.commit(t0 + s * 1000, row);
  }
  return { profiler, metrics: store.metricCount, moduleMetrics, derived: catalogue.filter((/** @type {any} */ m) => m.derivedFrom).length };
}
