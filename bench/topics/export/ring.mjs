// @ts-check
// A full ring, shared by the export and memory topics: a real Profiler with every built-in
// source (plugin-system, -ocr, -frames, -io, -modules) and 100 profiled modules, its store then
// filled with 3,600 committed rows (an hour at 1 Hz) of a modelled program (see `workload`).
import { importOptional } from '../../lib/topic.mjs';
import { collectOnce } from '../hot-path/common.mjs';

export const RING_SAMPLES = 3600;
export const RING_MODULES = 100;
const PACKAGES = ['core', 'plugin-system', 'plugin-ocr', 'plugin-frames', 'plugin-io', 'plugin-modules'];
/** The plugins of the ring's profiler, in its order (plugin-modules last: its metrics per module). */
const PLUGINS = PACKAGES.slice(1);

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

/**
 * Draws of the distributions the model needs, from one seeded generator; `reset()` starts the
 * same sequence again (the same closures: code compiled for them stays valid).
 * @param {number} seed
 */
function draws(seed) {
  let a = seed >>> 0;
  // mulberry32
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return {
    u,
    normal,
    /** @param {number} lambda */
    poisson(lambda) {
      if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
      const limit = Math.exp(-lambda);
      let n = 0;
      for (let p = u(); p > limit; p *= u()) n++;
      return n;
    },
    /** @param {number} lo @param {number} hi log-uniform */
    logUniform(lo, hi) {
      return lo * (hi / lo) ** u();
    },
    reset() {
      a = seed >>> 0;
    },
  };
}

// The latency buckets of @loadlight/plugin-modules (src/latency.ts): a quantile is the midpoint
// of the bucket its nearest-rank call falls in (16 buckets per power of two, whole ns below 32).
/** @param {number} ns */
function bucketMidpointNs(ns) {
  if (ns < 32) return Math.max(0, Math.floor(ns));
  const e = Math.floor(Math.log2(ns));
  const width = 2 ** (e - 4);
  return (16 + Math.floor(ns / width - 16)) * width + width / 2;
}

/** A native perf_hooks histogram's reading (plugin-ocr, -frames, the event-loop monitor): ~3 significant digits, in ms. @param {number} ms */
function hdrMs(ms) {
  const ns = Math.round(ms * 1e6);
  const step = 2 ** Math.max(0, Math.floor(Math.log2(ns)) - 10);
  return (Math.ceil(ns / step) * step) / 1e6;
}

/**
 * Calls of one tick: count, errors, summed latency, extremes and quantiles as the wrappers and
 * plugin-modules compute them (durations in ns from the clock, as `performance.now()` gives).
 * @param {ReturnType<typeof draws>} d
 * @param {number} n calls
 * @param {number} medianMs
 * @param {number} sigma spread of the log-normal durations
 * @param {number} failRate
 */
function callsOfTick(d, n, medianMs, sigma, failRate) {
  if (durations.length < n) durations = new Float64Array(n * 2);
  let total = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const ms = Math.round(medianMs * Math.exp(sigma * d.normal()) * 1e6) / 1e6;
    durations[i] = ms;
    total += ms;
    if (failRate > 0 && d.u() < failRate) errors++;
  }
  const sorted = durations.subarray(0, n).sort();
  const q = (/** @type {number} */ p) => Math.min(sorted[n - 1], Math.max(sorted[0], bucketMidpointNs(sorted[Math.max(1, Math.ceil(p * n)) - 1] * 1e6) / 1e6));
  tick.n = n;
  tick.errors = errors;
  tick.total = total;
  tick.min = sorted[0];
  tick.max = sorted[n - 1];
  tick.p50 = q(0.5);
  tick.p95 = q(0.95);
  tick.p99 = q(0.99);
  return tick;
}
/** Reused by callsOfTick (the model makes no garbage of its own: RSS is the profiler's). */
let durations = new Float64Array(256);
const tick = new (class TickCalls {
  n = 0;
  errors = 0;
  total = 0;
  min = 0;
  max = 0;
  p50 = 0;
  p95 = 0;
  p99 = 0;
})();

/**
 * @typedef {'realistic' | 'worst'} Workload
 * - `realistic`: a program with 100 profiled modules called at Zipf-like rates (the module of
 *   rank k about 40 / k^1.5 times a second: the top few every tick, the tail now and then), each
 *   with its own typical latency (log-uniform, 0.02-50 ms) and log-normal spread; 30% of modules
 *   async (CPU from V8's sampler: 100 ms samples), the rest sync (CPU about their own time); 30%
 *   hold memory, read every 30 s; host and process gauges that drift; OCR at about 2 reads a
 *   second, frames at 10 fps, I/O waits.
 * - `worst`: the same program with every module called 20 times every tick, wider latency spread.
 */

// The model's state is held in class instances: an object literal or Object.fromEntries would
// share V8's hidden classes (maps) with objects of the same field names in the profiler, and the
// profiler's objects would then invalidate the model's compiled code (after the baseline).
class ModelModule {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
    this.rate = 0;
    this.medianMs = 0;
    this.sigma = 0;
    this.failRate = 0;
    this.async = false;
    this.ownShare = 0;
    this.memoryBytes = 0;
    this.called = false;
  }
}

class ModelHost {
  load = 0;
  usedKb = 0;
  rssPages = 0;
  heapBytes = 0;
  procLoad = 0;
  avg1 = 0;
  avg5 = 0;
  avg15 = 0;
}

/** A module's column of each field written (-1: not in the catalogue). */
class ModuleColumns {
  calls = -1;
  errors = -1;
  total_ms = -1;
  latency_mean_ms = -1;
  latency_min_ms = -1;
  latency_max_ms = -1;
  latency_p50_ms = -1;
  latency_p95_ms = -1;
  latency_p99_ms = -1;
  cpu_ms = -1;
  calls_per_minute = -1;
  errors_per_minute = -1;
  cpu_percent = -1;
  memory_mb = -1;
}

/**
 * The modelled program: `tick(s, intervalMs)` writes every built-in metric's value for tick `s`
 * into `row` (by catalogue index; the rest stays NaN, as when a module was not called) and marks
 * it in `written`. `bind(catalogue, row, written)` points it at a catalogue and starts it over
 * (the same values from tick 0 on): one model can be warmed on one catalogue, then fill a ring
 * with the code V8 compiled for it (its closures stay the same).
 * @param {Workload} workload
 * @param {string[]} moduleNames
 */
function programModel(workload, moduleNames) {
  const d = draws(workload === 'worst' ? 7 : 42);
  const worst = workload === 'worst';
  const modules = moduleNames.map((name) => new ModelModule(name));
  const host = new ModelHost();
  const TOTAL_KB = 16_384_000;
  /** @type {Map<string, number>} */
  const indexOf = new Map();
  /** @type {Float64Array} */
  let row = new Float64Array(0);
  /** @type {Uint8Array} */
  let written = new Uint8Array(0);
  /** @param {string} name */
  const at = (name) => indexOf.get(name) ?? -1;
  /** @param {number} i @param {number} value */
  const put = (i, value) => {
    if (i < 0) return;
    row[i] = value;
    written[i] = 1;
  };
  /** @param {string} name @param {number} value */
  const set = (name, value) => put(at(name), value);
  const fields = Object.keys(new ModuleColumns());
  const slots = modules.map(() => new ModuleColumns());
  /** @type {Record<string, number[]>} */
  const latencyOf = { ocr: [-1, -1, -1, -1, -1], frames: [-1, -1, -1, -1, -1] };
  const walk = (/** @type {number} */ x, /** @type {number} */ step, /** @type {number} */ lo, /** @type {number} */ hi) => Math.min(hi, Math.max(lo, x + step * d.normal()));
  /** @param {string} prefix @param {number} n @param {number} medianMs @param {number} sigma */
  const histogramMetrics = (prefix, n, medianMs, sigma) => {
    const [mean, p50, p95, p99, max] = latencyOf[prefix];
    if (n === 0) return 0;
    const c = callsOfTick(d, n, medianMs, sigma, 0);
    put(mean, c.total / n);
    put(p50, hdrMs(c.p50));
    put(p95, hdrMs(c.p95));
    put(p99, hdrMs(c.p99));
    put(max, hdrMs(c.max));
    return c.total;
  };

  return {
    workload,
    modules,
    /** @param {string[]} catalogue metric names, by index @param {Float64Array} rowOut @param {Uint8Array} writtenOut */
    bind(catalogue, rowOut, writtenOut) {
      d.reset();
      // In place, in the order (and with the draws) the model always had: the same ring.
      for (let i = 0; i < modules.length; i++) {
        const m = modules[i];
        m.rate = worst ? 20 : 40 / (i + 1) ** 1.5;
        m.medianMs = d.logUniform(0.02, 50);
        m.sigma = worst ? 0.6 : 0.2 + 0.3 * d.u();
        m.failRate = d.u() < 0.1 ? 0.02 : 0;
        m.async = d.u() < 0.3;
        m.ownShare = 0.8 + 0.2 * d.u();
        m.memoryBytes = d.u() < 0.3 ? Math.round(d.logUniform(0.05, 40) * 2 ** 20) : 0;
        m.called = false;
      }
      host.load = 30;
      host.usedKb = 6_000_000;
      host.rssPages = 20_000;
      host.heapBytes = 30 * 2 ** 20;
      host.procLoad = 20;
      host.avg1 = 0.6;
      host.avg5 = 0.6;
      host.avg15 = 0.6;
      indexOf.clear();
      catalogue.forEach((name, i) => indexOf.set(name, i));
      modules.forEach((m, i) => {
        for (const f of fields) /** @type {Record<string, number>} */ (/** @type {unknown} */ (slots[i]))[f] = at(`module.${m.name}.${f}`);
      });
      for (const p of ['ocr', 'frames']) ['mean_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms'].forEach((q, k) => (latencyOf[p][k] = at(`${p}.latency.${q}`)));
      row = rowOut;
      written = writtenOut;
    },
    /** @param {number} s @param {number} intervalMs */
    tick(s, intervalMs) {
      row.fill(NaN);
      const perMinute = 60_000 / intervalMs;
      // Host: /proc/stat jiffies (100 per second per core, 2 cores), /proc/meminfo in KB, load averages every 5 s.
      host.load = walk(host.load, 1.5, 3, 97);
      const jiffies = Math.round((200 * intervalMs) / 1000);
      const busy = Math.min(jiffies, Math.max(0, Math.round((jiffies * host.load) / 100 + 2 * d.normal())));
      set('system.cpu.percent', (busy / jiffies) * 100);
      host.usedKb = Math.round(walk(host.usedKb, 800, 2_000_000, 14_000_000));
      set('system.memory.used_mb', host.usedKb / 1024);
      set('system.memory.used_percent', (host.usedKb / TOTAL_KB) * 100);
      if (s % 5 === 0) {
        const runnable = (2 * host.load) / 100 + Math.max(0, d.normal() * 0.3);
        host.avg1 = host.avg1 * Math.exp(-5 / 60) + runnable * (1 - Math.exp(-5 / 60));
        host.avg5 = host.avg5 * Math.exp(-5 / 300) + runnable * (1 - Math.exp(-5 / 300));
        host.avg15 = host.avg15 * Math.exp(-5 / 900) + runnable * (1 - Math.exp(-5 / 900));
      }
      set('system.load.avg1', Math.round(host.avg1 * 100) / 100);
      set('system.load.avg5', Math.round(host.avg5 * 100) / 100);
      set('system.load.avg15', Math.round(host.avg15 * 100) / 100);
      // Process: cpuUsage() in us over the interval, RSS in pages, a heap that grows until a GC.
      host.procLoad = walk(host.procLoad, 1, 2, 90);
      const cpuUs = Math.max(0, Math.round(intervalMs * 1000 * (host.procLoad / 100) * (1 + 0.05 * d.normal())));
      set('process.cpu.percent', (cpuUs / (intervalMs * 1000)) * 100);
      host.rssPages = Math.round(walk(host.rssPages, 40, 15_000, 40_000));
      set('process.memory.rss_mb', (host.rssPages * 4096) / 2 ** 20);
      host.heapBytes += Math.round(2 * 2 ** 20 * (1 + 0.3 * d.normal()));
      let gcs = d.poisson(2);
      let pauseMs = 0;
      for (let i = 0; i < gcs; i++) pauseMs += Math.round(d.logUniform(0.3, 3) * 1e6) / 1e6;
      if (host.heapBytes > 48 * 2 ** 20) {
        host.heapBytes = Math.round(30 * 2 ** 20 + 2 ** 20 * d.u());
        gcs++;
        pauseMs += Math.round(d.logUniform(4, 15) * 1e6) / 1e6;
      }
      set('process.heap.used_mb', host.heapBytes / 2 ** 20);
      set('process.event_loop.delay_p50_ms', hdrMs(10.05 + Math.abs(0.02 * d.normal())));
      const p99 = hdrMs(10.3 + Math.abs(d.normal()) + (d.u() < 0.05 ? 20 * d.u() : 0));
      set('process.event_loop.delay_p99_ms', p99);
      set('process.event_loop.delay_max_ms', hdrMs(p99 + Math.abs(2 * d.normal())));
      set('process.event_loop.utilization', Math.min(1, Math.max(0, host.procLoad / 100 + 0.02 * d.normal())));
      set('process.gc.pause_ms_per_minute', pauseMs * perMinute);
      set('process.gc.count_per_minute', gcs * perMinute);
      // OCR about twice a second (250 ms reads), frames at 10 fps (8 ms each), I/O waits.
      const reads = d.poisson(2);
      const failed = reads > 0 && d.u() < 0.02 ? 1 : 0;
      set('ocr.calls.count', reads);
      set('ocr.calls.per_minute', reads * perMinute);
      set('ocr.errors.per_minute', failed * perMinute);
      histogramMetrics('ocr', reads, 250, 0.3);
      const unchanged = reads > 0 ? Math.round(reads * 0.6 * d.u()) : 0;
      set('ocr.confidence.mean', reads > 0 ? 80 + 15 * d.u() : NaN);
      set('ocr.chars.per_minute', reads * Math.round(120 + 40 * d.u()) * perMinute);
      set('ocr.unchanged.percent', reads > 0 ? (unchanged / reads) * 100 : NaN);
      const frames = Math.max(0, Math.round(10 + 0.7 * d.normal()));
      set('frames.analysed.count', frames);
      set('frames.analysed.per_minute', frames * perMinute);
      set('frames.fps', (frames * perMinute) / 60);
      set('frames.target_fps', 10);
      set('frames.budget_ms', 100);
      histogramMetrics('frames', frames, 8, 0.3);
      const late = d.u() < 0.02 ? 1 : 0;
      set('frames.late.per_minute', late * perMinute);
      set('frames.late.percent', frames > 0 ? (late / frames) * 100 : NaN);
      set('frames.dropped.per_minute', (d.u() < 0.01 ? 1 : 0) * perMinute);
      const waits = d.poisson(20);
      let waitMs = 0;
      let waitMax = 0;
      for (let i = 0; i < waits; i++) {
        const w = Math.round(2 * Math.exp(0.5 * d.normal()) * 1e6) / 1e6;
        waitMs += w;
        waitMax = Math.max(waitMax, w);
      }
      set('io.wait.ms_per_minute', waitMs * perMinute);
      set('io.wait.share_percent', (waitMs / intervalMs) * 100);
      set('io.waits.per_minute', waits * perMinute);
      set('io.wait.p95_ms', waits > 0 ? hdrMs(waitMax * 0.9) : NaN);
      const perSecond = 1000 / intervalMs;
      set('io.disk.read_bytes_per_second', (d.u() < 0.1 ? 4096 * d.poisson(8) : 0) * perSecond);
      set('io.disk.write_bytes_per_second', (d.u() < 0.3 ? 4096 * d.poisson(4) : 0) * perSecond);
      set('io.net.rx_bytes_per_second', Math.max(0, Math.round(2000 + 500 * d.normal())) * perSecond);
      set('io.net.tx_bytes_per_second', Math.max(0, Math.round(800 + 200 * d.normal())) * perSecond);
      const iowait = d.u() < 0.1 ? 1 : 0;
      set('io.cpu.iowait_percent', (iowait / jiffies) * 100);
      // Modules: what plugin-modules writes for each at a tick.
      for (let i = 0; i < modules.length; i++) {
        const m = modules[i];
        const f = slots[i];
        const n = d.poisson(m.rate * (intervalMs / 1000));
        m.called = n > 0;
        let errors = 0;
        let cpu = 0;
        if (n === 0) {
          put(f.calls, 0);
          put(f.errors, 0);
          put(f.total_ms, 0);
          put(f.cpu_ms, 0);
        } else {
          const c = callsOfTick(d, n, m.medianMs, m.sigma, m.failRate);
          errors = c.errors;
          put(f.calls, n);
          put(f.errors, errors);
          put(f.total_ms, c.total);
          put(f.latency_mean_ms, c.total / n);
          put(f.latency_min_ms, c.min);
          put(f.latency_max_ms, c.max);
          put(f.latency_p50_ms, c.p50);
          put(f.latency_p95_ms, c.p95);
          put(f.latency_p99_ms, c.p99);
          // Sync code: its own time (less its profiled callees'); async: V8's 100 ms CPU samples.
          cpu = m.async ? (Math.min(10, d.poisson((c.total * 0.3) / 100)) * Math.round((100 + 3 * d.normal()) * 1000)) / 1000 : c.total * m.ownShare;
          put(f.cpu_ms, cpu);
        }
        // What the plugin wrote before these became computed (the store ignores writes to them).
        put(f.calls_per_minute, n * perMinute);
        put(f.errors_per_minute, errors * perMinute);
        put(f.cpu_percent, (cpu / intervalMs) * 100);
        // The heap sampler is read every 30 s (the first read after 5 s); between reads the last reading stands.
        if (s >= 5 && s % 30 === 5 && m.memoryBytes > 0) m.memoryBytes = Math.max(0, Math.round(m.memoryBytes * (1 + 0.05 * d.normal())));
        put(f.memory_mb, s < 5 ? NaN : m.memoryBytes / 2 ** 20);
      }
    },
  };
}

/** The names of the profiled modules. */
const MODULE_NAMES = Array.from({ length: RING_MODULES }, (_, i) => `bench.m${String(i).padStart(3, '0')}`);

/**
 * Runs the modelled program for a while with no profiler (its rows go nowhere), over the metric
 * names a full ring has (from the plugins' declarations), so that V8 has compiled the model
 * before a measurement starts: the model stands for the profiled program, whose code is not the
 * profiler's cost. Returns the model, for `fillRing({ model })`: a new model's code would be
 * compiled again, after the baseline (TurboFan compiles on background threads, whose malloc
 * arenas keep megabytes resident, which the memory topic would count as the profiler's).
 * @param {Workload} workload
 * @param {Record<string, any>} mods from loadPackages()
 */
export function warmModel(workload, mods) {
  const plugins = PLUGINS.filter((name) => name !== 'plugin-modules').flatMap((name) => Object.keys(mods[name].default().metrics ?? {}));
  const fields = Object.keys(mods['plugin-modules'].MODULE_METRICS);
  const catalogue = [...plugins, ...MODULE_NAMES.flatMap((name) => fields.map((field) => `module.${name}.${field}`))];
  const model = programModel(workload, MODULE_NAMES);
  // Bound twice, as fillRing binds it again: V8 compiles the model for good only once its
  // fields have changed (code it compiled for fields never written before would be dropped).
  for (let pass = 0; pass < 2; pass++) {
    model.bind(catalogue, new Float64Array(catalogue.length), new Uint8Array(catalogue.length));
    // Intervals as fillRing makes them: differences of wall-clock times (doubles, not small integers).
    let previous = Date.now();
    for (let s = 0; s < 600; s++) {
      const t = previous + 1000 + (s % 4);
      model.tick(s, t - previous);
      previous = t;
    }
  }
  return model;
}

/**
 * Starts the profiler (quiet: no reporters, no rules, no tick after the first), profiles 100
 * modules, calls each once and runs one collect so that plugin-modules declares their metrics,
 * then commits 3,600 rows of the modelled program (`workload`, default `realistic`), one second
 * apart with the jitter of a timer (0-3 ms late).
 * @param {Record<string, any>} mods from loadPackages()
 * @param {string[]} warnings
 * @param {{ workload?: Workload, model?: ReturnType<typeof warmModel>, beforeRows?: () => void }} [options]
 *   `model`: one from `warmModel` (of the same workload), else a new one; `beforeRows` runs once
 *   the metrics are declared, before the rows are committed (the memory topic measures there).
 */
export async function fillRing(mods, warnings, options = {}) {
  const workload = options.model?.workload ?? options.workload ?? 'realistic';
  const core = mods.core;
  const profiler = new core.Profiler(
    {
      reporters: [],
      rules: [],
      sampleIntervalMs: 3_600_000,
      maxSamples: RING_SAMPLES,
      plugins: PLUGINS.map((name) => mods[name].default()),
    },
    { handleExit: false, warn: (/** @type {string} */ message) => warnings.length < 5 && warnings.push(`loadlight warned: ${message}`) },
  );
  await profiler.start();
  // Functions of distinct source text, as a program's modules are (plugin-modules cannot tell
  // closures of one source apart, and would warn).
  const wrapped = MODULE_NAMES.map((name, i) => mods['plugin-modules'].profileModule(name, /** @type {(x: number) => number} */ (new Function('x', `return x + ${i};`))));
  for (const fn of wrapped) fn(1);
  await collectOnce(profiler);
  options.beforeRows?.();
  const store = profiler.store;
  const catalogue = store.catalogue();
  const row = new Float64Array(store.metricCount);
  const written = new Uint8Array(catalogue.length);
  const model = options.model ?? programModel(workload, MODULE_NAMES);
  model.bind(catalogue.map((/** @type {any} */ m) => m.name), row, written);
  const jitter = draws(1).u;
  const t0 = store.latestTime() ?? Date.now();
  let previous = t0;
  let calledModuleTicks = 0;
  for (let s = 0; s < RING_SAMPLES; s++) {
    const t = t0 + (s + 1) * 1000 + Math.floor(jitter() * 4);
    model.tick(s, t - previous);
    previous = t;
    for (const m of model.modules) if (m.called) calledModuleTicks++;
    store.commit(t, row);
  }
  const unwritten = catalogue.filter((/** @type {any} */ m, /** @type {number} */ i) => !m.derivedFrom && !m.formula && !written[i]).map((/** @type {any} */ m) => m.name);
  if (unwritten.length > 0) warnings.push(`CHECK: the ring model writes no value for ${unwritten.length} metrics (${unwritten.slice(0, 3).join(', ')}...): they are missing in every row`);
  return {
    profiler,
    workload,
    metrics: store.metricCount,
    moduleMetrics: catalogue.filter((/** @type {any} */ m) => m.module).length,
    derived: catalogue.filter((/** @type {any} */ m) => m.derivedFrom || m.formula).length,
    /** Mean number of modules called in a tick. */
    modulesCalledPerTick: calledModuleTicks / RING_SAMPLES,
  };
}
