// @ts-check
// Tick cost as metrics are added (issue 4, item 6): a real Profiler with the default rules, the
// console reporter drawing its full view, and first a custom plugin declaring 10, 100 or 1,000
// metrics, then plugin-modules with 1, 10 or 100 profiled modules (14 metrics each). Every tick
// is timed whole: collect, commit, the sample hook, the rules and the report.
import { count, loadPackages, measuredRow, nullTerminal, RING, timeTicks, unavailableRow, until } from './common.mjs';

export const METRIC_COUNTS = Object.freeze([10, 100, 1000]);
export const MODULE_COUNTS = Object.freeze([1, 10, 100]);
/**
 * "The cost of a tick must grow at most linearly with metrics": the cost per metric with the most
 * metrics may be at most this factor of the cost per metric with the fewest.
 */
export const PER_METRIC_BOUND = 1.25;
/** Ticks 10 ms apart (the least the config allows): many ticks in little time. */
const SAMPLE_INTERVAL_MS = 10;
/** Ticks before the timing (the JIT settles); the ring is filled before them (see fillRing). */
const WARMUP_TICKS = { quick: 10, full: 20 };
const WARN_LIMIT = 5;

/** What the custom plugin's metrics are: counters, gauges, and gauges read as p95 and as max. */
const KINDS = Object.freeze([
  { unit: 'count', kind: 'counter', description: 'bench counter' },
  { unit: 'ms', kind: 'gauge', description: 'bench gauge' },
  { unit: 'ms', kind: 'gauge', aggregate: 'p95', description: 'bench gauge read as its p95' },
  { unit: 'mb', kind: 'gauge', aggregate: 'max', description: 'bench gauge read as its max' },
]);

/**
 * A plugin declaring `n` metrics (`bench.m0000`...) and writing a varying value to each at every
 * collect: counters small whole numbers, gauges doubles.
 * @param {number} n
 */
export function metricsPlugin(n) {
  /** @type {Record<string, object>} */
  const metrics = {};
  /** @type {string[]} */
  const names = [];
  for (let i = 0; i < n; i++) {
    const name = `bench.m${String(i).padStart(4, '0')}`;
    metrics[name] = KINDS[i % KINDS.length];
    names.push(name);
  }
  let k = 0;
  return {
    name: 'bench-metrics',
    metrics,
    /** @param {any} profiler */
    apply(profiler) {
      profiler.hooks.collect.tap('bench-metrics', (/** @type {{ set(name: string, value: number): void }} */ w) => {
        k++;
        for (let i = 0; i < names.length; i++) {
          const v = (i * 7919 + k * 104729) % 1000;
          w.set(names[i], i % KINDS.length === 0 ? v % 50 : v / 7);
        }
      });
    },
  };
}

/**
 * @param {any} core
 * @param {any} consoleReporter
 * @param {unknown[]} plugins
 * @param {string[]} warnings
 */
function newProfiler(core, consoleReporter, plugins, warnings) {
  return new core.Profiler(
    // `rules` left out: the default rules. Rule files are not re-read (watchRules: false) so that
    // no tick waits on a file stat: the timed tick is computation only.
    { plugins, reporters: [consoleReporter({ stream: nullTerminal() })], sampleIntervalMs: SAMPLE_INTERVAL_MS, ...RING, watchRules: false },
    {
      handleExit: false,
      warn: (/** @type {string} */ message) => {
        if (warnings.length < WARN_LIMIT) warnings.push(`loadlight warned: ${message}`);
      },
    },
  );
}

/**
 * Fills the rest of a running profiler's ring at once, between two ticks: rows holding each
 * metric's latest value, dated between the last tick and now (so times stay in order). Every
 * window the rules read then holds as many samples from the first timed tick on as after a
 * minute at 1 Hz, without waiting for 60 ticks.
 * @param {any} profiler
 */
export async function fillRing(profiler) {
  await profiler.tickInFlight;
  const store = profiler.store;
  const missing = store.capacity - store.size;
  if (missing <= 0) return;
  const names = store.catalogue().map((/** @type {{ name: string }} */ info) => info.name);
  const row = Float64Array.from(names, (name) => store.latest(name) ?? NaN);
  const last = store.latestTime() ?? Date.now() - 1;
  const now = Date.now();
  for (let i = 1; i <= missing; i++) store.commit(last + ((now - last) * i) / (missing + 1), row);
}

/**
 * @typedef {object} Case
 * @property {number} n metrics or modules asked for
 * @property {number} metrics metrics the profiler declared
 * @property {number[]} ms the timed ticks, in order
 * @property {number} [meanCpuMs] the profiler's own CPU accounting per tick (overhead().meanTickMs)
 */

/**
 * Both families, each count with its own profiler, one after the other (one profiler at a time,
 * as in a program): a custom plugin with 10, 100, 1,000 metrics, then plugin-modules with 1, 10,
 * 100 modules.
 * @type {import('../../lib/topic.mjs').GroupModule['run']}
 */
export async function run(ctx) {
  const timed = ctx.quick ? 15 : 100;
  const warmup = ctx.quick ? WARMUP_TICKS.quick : WARMUP_TICKS.full;
  /** @type {string[]} */
  const notes = [];
  const { modules, why } = await loadPackages(['core', 'reporter-console', 'plugin-modules']);
  if (why) {
    const none = (/** @type {readonly number[]} */ counts) => counts.map((n) => ({ n, metrics: NaN, ms: [] }));
    return merge(tickFigures('metrics', none(METRIC_COUNTS), { unavailable: why }), tickFigures('modules', none(MODULE_COUNTS), { unavailable: why }), notes);
  }
  const newProfilerWith = (/** @type {unknown[]} */ plugins) => newProfiler(modules.core, modules['reporter-console'].default, plugins, notes);
  /** @type {Case[]} */
  const metrics = [];
  for (const n of METRIC_COUNTS) metrics.push(await timeCount(newProfilerWith([metricsPlugin(n)]), n, n, warmup, timed));

  // plugin-modules keeps one set of modules per process, seen by every profiler: the modules of
  // a smaller count stay as more are added.
  const mod = modules['plugin-modules'];
  /** @type {Array<(x: number) => number>} */
  const wrapped = [];
  /** @type {Case[]} */
  const mods = [];
  for (const n of MODULE_COUNTS) {
    while (wrapped.length < n) {
      const i = wrapped.length;
      // Distinct source per module, as distinct modules of a program have.
      wrapped.push(mod.profileModule(`bench.mod${String(i).padStart(3, '0')}`, /** @type {(x: number) => number} */ (new Function('x', `return (x * ${i + 3}) >>> 1;`))));
    }
    // Every module is called between ticks (outside the timed ticks), so that each tick has
    // calls, latencies and CPU to write for every module.
    let x = 0;
    const caller = setInterval(() => {
      for (const fn of wrapped) x = fn(x + 1);
    }, 3);
    try {
      mods.push(await timeCount(newProfilerWith([mod.default()]), n, n * 10, warmup, timed));
    } finally {
      clearInterval(caller);
    }
  }
  return merge(tickFigures('metrics', metrics), tickFigures('modules', mods), notes);
}

/**
 * Runs one profiler: waits for `declared` metrics, fills its ring, lets `warmup` ticks pass,
 * then times `timed` ticks.
 * @param {any} profiler not started
 * @param {number} n the count (metrics or modules)
 * @param {number} declared metrics to wait for (plugin-modules declares its modules' at a tick)
 * @param {number} warmup
 * @param {number} timed
 * @returns {Promise<Case>}
 */
async function timeCount(profiler, n, declared, warmup, timed) {
  const ticks = timeTicks(profiler);
  try {
    await profiler.start();
    await until(() => profiler.store.metricCount >= declared && ticks.length >= 1, `${count(declared)} metrics declared`, 60_000);
    await fillRing(profiler);
    const warm = ticks.length + warmup;
    await until(() => ticks.length >= warm, `${warmup} ticks`, 60_000);
    const from = ticks.length;
    await until(() => ticks.length >= from + timed, `${timed} timed ticks`, 120_000);
    return { n, metrics: profiler.store.metricCount, ms: ticks.slice(from, from + timed).map((t) => t.ms), meanCpuMs: profiler.overhead().meanTickMs };
  } finally {
    await profiler.stop();
  }
}

/**
 * @param {import('../../lib/topic.mjs').GroupResult} a
 * @param {import('../../lib/topic.mjs').GroupResult} b
 * @param {string[]} notes
 * @returns {import('../../lib/topic.mjs').GroupResult}
 */
function merge(a, b, notes) {
  return { measured: [...a.measured, ...b.measured], comparisons: [...a.comparisons, ...b.comparisons], notes: [...notes, ...(a.notes ?? []), ...(b.notes ?? [])] };
}

/**
 * The rows and comparisons of one family (metrics or modules) from its timed ticks: ms per tick,
 * µs per metric (bounded: at most linear growth), and µs per added metric between counts.
 * @param {'metrics' | 'modules'} of
 * @param {Case[]} cases in increasing count
 * @param {{ unavailable?: string, notes?: string[] }} [options]
 * @returns {import('../../lib/topic.mjs').GroupResult}
 */
export function tickFigures(of, cases, options = {}) {
  const notes = options.notes ?? [];
  // Counts run one after the other: their ticks are not paired by round, ratios are of medians.
  const unpaired = { paired: false };
  const what = (/** @type {Case} */ c) => (of === 'metrics' ? `${count(c.n)} metrics` : `${count(c.n)} module${c.n === 1 ? '' : 's'}`);
  /** @type {import('../../lib/results.mjs').Measured[]} */
  const measured = [];
  for (const c of cases) {
    const label = of === 'metrics' ? what(c) : `${what(c)} (${Number.isFinite(c.metrics) ? count(c.metrics) : '?'} metrics)`;
    if (options.unavailable) {
      measured.push(unavailableRow(`${of}.tick.${c.n}`, label, 'ms/tick', options.unavailable), unavailableRow(`${of}.metric.${c.n}`, label, 'µs/metric', options.unavailable));
      continue;
    }
    measured.push(measuredRow(`${of}.tick.${c.n}`, label, 'ms/tick', c.ms, unpaired));
    measured.push(measuredRow(`${of}.metric.${c.n}`, label, 'µs/metric', c.ms.map((ms) => (ms * 1000) / c.metrics), unpaired));
  }
  /** @type {string[]} */
  const marginalIds = [];
  for (let i = 1; i < cases.length; i++) {
    const a = cases[i - 1];
    const b = cases[i];
    const id = `${of}.added.${a.n}-${b.n}`;
    const label = `each metric added from ${what(a)} to ${what(b)}`;
    marginalIds.push(id);
    if (options.unavailable) {
      measured.push(unavailableRow(id, label, 'µs/metric', options.unavailable));
      continue;
    }
    const at = (/** @type {string} */ rowId) => /** @type {number} */ (measured.find((m) => m.id === rowId)?.median);
    const added = b.metrics - a.metrics;
    measured.push({ id, label, who: 'loadlight', unit: 'µs/metric', median: ((at(`${of}.tick.${b.n}`) - at(`${of}.tick.${a.n}`)) * 1000) / added, spread: NaN });
  }
  if (!options.unavailable) {
    const cpu = cases.map((c) => (c.meanCpuMs === undefined ? '?' : c.meanCpuMs.toFixed(2))).join(' / ');
    notes.push(`${of}: the profiler's own CPU accounting (overhead().meanTickMs, every tick since start) read ${cpu} ms per tick for ${cases.map(what).join(' / ')}`);
  }

  const ids = cases.map((c) => c.n);
  const first = ids[0];
  const last = ids[ids.length - 1];
  const source = of === 'metrics' ? 'a plugin declaring them' : 'plugin-modules, 14 metrics a module';
  const setting = `default rules, console reporter drawing its full view, ring of ${RING.maxSamples} samples all in the window; one process, one count after the other`;
  return {
    measured,
    notes,
    comparisons: [
      {
        id: `tick-${of}`,
        title: `whole tick (collect, commit, sample, rules, report) with ${cases.map(what).join(', ')}`,
        note: `${source}; ${setting}`,
        baseline: `${of}.tick.${first}`,
        cases: ids.map((n) => `${of}.tick.${n}`),
      },
      {
        id: `tick-${of}-per-metric`,
        title: `tick cost per metric, ${what(cases[0])} to ${what(cases[cases.length - 1])}: at most linear growth`,
        note: `ms per tick / metrics declared; bound: ≤ ${PER_METRIC_BOUND}x the per-metric cost with ${what(cases[0])}`,
        baseline: `${of}.metric.${first}`,
        cases: ids.map((n) => `${of}.metric.${n}`),
        bounds: Object.fromEntries(ids.slice(1).map((n) => [`${of}.metric.${n}`, { ratio: PER_METRIC_BOUND }])),
      },
      {
        id: `tick-${of}-added`,
        title: `tick cost of each added metric, ${what(cases[0])} to ${what(cases[cases.length - 1])}`,
        note:
          '(median ms per tick with more - with fewer) / metrics added: the fixed cost of a tick aside; no bound: ' +
          'a larger working set meets slower caches (the work per tick is counted, and linear, in packages/core/src/profiler.test.ts)',
        baseline: marginalIds[0],
        cases: marginalIds,
      },
    ].filter(() => last !== undefined),
  };
}
