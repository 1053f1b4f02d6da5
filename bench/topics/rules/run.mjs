// @ts-check
// One evaluation of the default rules over 100 profiled modules: the rules stage (compiled rules,
// lazy facts) against the naive way built from json-rules-engine directly (naive.mjs), on the same
// real Store: a Profiler with every built-in source declares the metrics (plugin-modules declares
// each module's fields, with its tags), then 120 rows of values are committed at 1 s spacing.
import { summarize } from '../../lib/stats.mjs';
import { loadPackages } from '../export/ring.mjs';
import { collectOnce } from '../hot-path/common.mjs';
import { buildFactsNaive, engineOf, loadRules, runNaive } from './naive.mjs';

/** Issue 4, item 4: at least 10x faster than the naive way. */
export const BOUND_RATIO = 0.1;
export const MODULES = 100;
const ROWS = 120;
const WINDOW_SECONDS = 60;

/** Evaluations per timed batch, by case: a batch of each lasts some tens of ms. */
const BATCH = { naive: 1, 'naive-facts': 3, 'naive-runs': 1, 'old-stage': 1, ours: 10, 'one-run': 20 };

/** Tags as a program would give them: a few OCR readers, verbose capture, heatmaps, optional modules. */
export function tagsOf(/** @type {number} */ i) {
  const tags = [];
  if (i % 10 === 3) tags.push('ocr');
  if (i % 7 === 1) tags.push('verbose');
  if (i % 11 === 5) tags.push('heatmap');
  if (i % 5 === 2) tags.push('optional');
  return tags;
}

/** A small deterministic generator (mulberry32). */
function random(seed = 7) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A plausible value for a global metric of this unit (percentages 0-100, MB up to 150, ms up to 200...). */
const RANGE = { percent: 100, mb: 150, ms: 200, per_minute: 1500, count: 50, ratio: 1, fps: 30, load: 4, mb_per_minute: 20, ms_per_minute: 5000 };

/**
 * How busy module i is, as in a program at work: most modules idle (called now and then), a few
 * busy. Per 1 s tick: calls, CPU ms, memory MB and call latency ms, each drawn in its range.
 */
const ACTIVITY = {
  idle: { calls: [0, 2], cpuMs: [0, 25], memoryMb: [0.5, 10], latencyMs: [0.1, 8] },
  moderate: { calls: [2, 12], cpuMs: [30, 200], memoryMb: [10, 60], latencyMs: [1, 30] },
  busy: { calls: [10, 40], cpuMs: [200, 700], memoryMb: [40, 150], latencyMs: [2, 50] },
};
export function activityOf(/** @type {number} */ i) {
  return i % 10 === 0 ? 'busy' : i % 10 <= 2 ? 'moderate' : 'idle';
}

/**
 * One tick's value of a metric: module fields from their module's activity (the formula fields,
 * cpu_percent, calls_per_minute and latency_mean_ms, are computed by the Store from these), the
 * global ones by unit.
 * @param {any} info
 * @param {() => number} next
 */
function valueOf(info, next) {
  const between = (/** @type {number[]} */ [a, b]) => a + next() * (b - a);
  if (info.module) {
    const profile = ACTIVITY[activityOf(Number(info.module.name.slice(-3)))];
    switch (info.module.field) {
      case 'calls':
        return Math.floor(between(profile.calls));
      case 'errors':
        return next() < 0.02 ? 1 : 0;
      case 'total_ms':
        return between(profile.calls) * between(profile.latencyMs);
      case 'cpu_ms':
        return between(profile.cpuMs);
      case 'memory_mb':
        return between(profile.memoryMb);
      default:
        return between(profile.latencyMs); // the latency quantiles
    }
  }
  if (info.kind === 'counter') return Math.floor(next() * 20);
  return next() * (/** @type {Record<string, number>} */ (RANGE)[info.unit] ?? 100);
}

/**
 * The Store of a profiled program with 100 modules, filled.
 * @param {Record<string, any>} mods
 * @param {string[]} warnings
 */
export async function program(mods, warnings, rows = ROWS) {
  const profiler = new mods.core.Profiler(
    {
      reporters: [],
      rules: [],
      sampleIntervalMs: 3_600_000,
      maxSamples: 3600,
      plugins: [mods['plugin-system'].default(), mods['plugin-ocr'].default(), mods['plugin-frames'].default(), mods['plugin-io'].default(), mods['plugin-modules'].default()],
    },
    { handleExit: false, warn: (/** @type {string} */ message) => warnings.length < 5 && warnings.push(`loadlight warned: ${message}`) },
  );
  await profiler.start();
  const wrapped = Array.from({ length: MODULES }, (_, i) =>
    mods['plugin-modules'].profileModule(`app.m${String(i).padStart(3, '0')}`, /** @type {(x: number) => number} */ (new Function('x', `return x + ${i};`)), {
      tags: tagsOf(i),
    }),
  );
  for (const fn of wrapped) fn(1);
  await collectOnce(profiler);
  const store = profiler.store;
  const catalogue = store.catalogue();
  const next = random();
  const row = new Float64Array(store.metricCount);
  const t0 = Date.now();
  for (let s = 0; s < rows; s++) {
    for (let i = 0; i < catalogue.length; i++) row[i] = valueOf(catalogue[i], next);
    store.commit(t0 + s * 1000, row);
  }
  return { profiler, store, t: t0 + (rows - 1) * 1000 };
}

/** What the naive runs decided, in the stage's terms: levels by subject, recommendations, alerts raised. */
function summarizeNaive(/** @type {ReturnType<typeof loadRules>} */ rules, /** @type {Array<{ name: string, module?: string }>} */ passed) {
  const byName = new Map(rules.map((r) => [r.name, r]));
  const severity = { green: 0, yellow: 1, red: 2 };
  /** @type {Map<string, string>} */
  const levels = new Map();
  const recommendations = new Set();
  const alerts = new Set();
  for (const { name, module } of passed) {
    const rule = byName.get(name);
    if (!rule || name.endsWith(':clear')) continue;
    const { type, params } = rule.event;
    if (type === 'load-level') {
      const subject = module ?? params.subject ?? 'process';
      const current = levels.get(subject);
      if (current === undefined || severity[/** @type {'red'} */ (params.level)] > severity[/** @type {'red'} */ (current)]) levels.set(subject, params.level);
    } else if (type === 'recommendation') recommendations.add(`${params.id}|${module ?? ''}`);
    else alerts.add(module === undefined ? params.id : `${params.id}:${module}`);
  }
  // the stage drops a general recommendation when the same id blames a module
  for (const key of [...recommendations]) {
    const [id, module] = String(key).split('|');
    if (module === '' && [...recommendations].some((k) => String(k).startsWith(`${id}|`) && k !== key)) recommendations.delete(key);
  }
  return { levels: [...levels].map(([s, l]) => `${s}=${l}`).sort(), recommendations: [...recommendations].map(String).sort(), alerts: [...alerts].map(String).sort() };
}

function summarizeOurs(/** @type {any} */ evaluation) {
  return {
    levels: evaluation.levels.map((/** @type {any} */ l) => `${l.subject}=${l.level}`).sort(),
    recommendations: evaluation.recommendations.map((/** @type {any} */ r) => `${r.id}|${r.module ?? ''}`).sort(),
    alerts: evaluation.alerts.map((/** @type {any} */ a) => a.key).sort(),
  };
}

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const rounds = /** @type {{ quick: number, full: number }} */ (params.rounds)[ctx.quick ? 'quick' : 'full'];
  /** @type {string[]} */
  const notes = [];
  /** @type {Record<string, [string, string, string]>} id -> label, who, unit */
  const cases = {
    naive: ['naive: every window + json-rules-engine run per module and global', 'json-rules-engine', 'ms'],
    'naive-facts': ['naive, facts alone (every metric\'s window)', 'json-rules-engine', 'ms'],
    'naive-runs': ['naive, engine runs alone (1 global + 100 modules)', 'json-rules-engine', 'ms'],
    'old-stage': ['the stage before: RulesStage on json-rules-engine (engine: "json-rules-engine")', 'loadlight', 'ms'],
    ours: ['RulesStage.evaluate() (compiled rules, lazy facts)', 'loadlight', 'ms'],
    'one-run': ['one json-rules-engine run of all the default rules', 'json-rules-engine', 'µs'],
    'ours-share': ['ours: one evaluation / 101 (a run\'s share)', 'loadlight', 'µs'],
  };
  /** @type {import('../../lib/results.mjs').ComparisonDef[]} */
  const comparisons = [
    {
      id: 'evaluation',
      title: `one evaluation: ${MODULES} modules x the default rules`,
      note: `the same Store (${ROWS} rows at 1 s, ${WINDOW_SECONDS} s window); naive = its facts + its runs, timed together`,
      baseline: 'naive',
      cases: ['naive', 'naive-facts', 'naive-runs', 'old-stage', 'ours'],
      bounds: { ours: { ratio: BOUND_RATIO, text: '≥ 10x faster' } },
    },
    {
      id: 'engine-run',
      title: 'one json-rules-engine run of the default rules (issue 4 saw about 380 µs)',
      note: 'every rule and clearWhen in one engine, on the global facts plus one module',
      baseline: 'one-run',
      cases: ['one-run', 'ours-share'],
    },
  ];
  const { mods, missing } = await loadPackages();
  if (missing !== null) {
    const measured = Object.entries(cases).map(([id, [label, who, unit]]) => ({ id, label, who, unit, median: NaN, spread: NaN, unavailable: missing }));
    return { measured, comparisons, notes };
  }
  const core = mods.core;
  const { profiler, store, t } = await program(mods, notes);
  try {
    const files = core.defaultRuleFiles();
    const stage = new core.RulesStage({ files, windowSeconds: WINDOW_SECONDS, store, watch: false });
    await stage.load();
    // the stage's own reference mode: every window, json-rules-engine per module, as before the compiler
    const oldStage = new core.RulesStage({ files, windowSeconds: WINDOW_SECONDS, store, watch: false, engine: 'json-rules-engine' });
    await oldStage.load();
    const rules = loadRules(files);
    const engines = { global: engineOf(rules.filter((r) => !r.perModule)), module: engineOf(rules.filter((r) => r.perModule)) };
    const prebuilt = buildFactsNaive(store, WINDOW_SECONDS, t);
    const oneEngine = engineOf(rules);
    const [firstModule] = prebuilt.modules.values();
    const oneFacts = { ...prebuilt.global, module: firstModule };

    // Both ways must decide the same: the same levels, recommendations and alerts.
    const first = await stage.evaluate(t);
    if (JSON.stringify(first) !== JSON.stringify(await oldStage.evaluate(t))) notes.push('CHECK: the stage and its json-rules-engine reference mode disagree');
    const naive = summarizeNaive(rules, await runNaive(engines, prebuilt));
    const ours = summarizeOurs(first);
    if (JSON.stringify(naive) !== JSON.stringify(ours)) notes.push(`CHECK: the naive way and the stage disagree: ${JSON.stringify({ naive, ours }).slice(0, 400)}`);
    else notes.push(`both ways decide the same: ${ours.levels.length} levels, ${ours.recommendations.length} recommendations, ${ours.alerts.length} alerts`);

    /** @type {Record<string, () => Promise<unknown>>} */
    const ops = {
      naive: async () => runNaive(engines, buildFactsNaive(store, WINDOW_SECONDS, t)),
      'naive-facts': async () => buildFactsNaive(store, WINDOW_SECONDS, t),
      'naive-runs': async () => runNaive(engines, prebuilt),
      'old-stage': () => oldStage.evaluate(t),
      ours: () => stage.evaluate(t),
      'one-run': () => oneEngine.run(oneFacts),
    };
    const ids = Object.keys(ops);
    /** @type {Record<string, number[]>} */
    const samples = Object.fromEntries(ids.map((id) => [id, []]));
    /** CPU time of the timed batches, per case: on a busy machine, the work itself. */
    const cpu = Object.fromEntries(ids.map((id) => [id, { ms: 0, ops: 0 }]));
    // Warm-up: each case runs for a while first, so that both are measured optimised (the stage
    // evaluates every few seconds for as long as the program runs).
    for (const id of ids) {
      const until = performance.now() + (ctx.quick ? 200 : 500);
      while (performance.now() < until) await ops[id]();
    }
    const warmup = 1;
    for (let round = 0; round < warmup + rounds; round++) {
      for (let k = 0; k < ids.length; k++) {
        const id = ids[(round + k) % ids.length];
        const op = ops[id];
        const n = BATCH[/** @type {keyof typeof BATCH} */ (id)];
        // as the harness does: empty the young generation, so that one case's garbage is not collected on the next one's clock
        globalThis.gc?.({ type: 'minor' });
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await op();
        const perOp = (performance.now() - t0) / n;
        const used = process.cpuUsage(c0);
        if (round < warmup) continue;
        samples[id].push(id === 'one-run' ? perOp * 1000 : perOp);
        cpu[id].ms += (used.user + used.system) / 1000;
        cpu[id].ops += n;
      }
    }
    const cpuMs = (/** @type {string} */ id) => cpu[id].ms / cpu[id].ops;
    samples['ours-share'] = samples.ours.map((ms) => (ms * 1000) / (MODULES + 1));

    /** @type {import('../../lib/results.mjs').Measured[]} */
    const measured = Object.entries(cases).map(([id, [label, who, unit]]) => {
      const s = summarize(samples[id]);
      return { id, label, who, unit, median: s.median, spread: s.spread, samples: samples[id] };
    });
    const debug = stage.debug;
    const globalRules = rules.filter((r) => !r.perModule).length;
    notes.push(
      `CPU time per evaluation (all timed batches): naive ${cpuMs('naive').toFixed(2)} ms (facts ${cpuMs('naive-facts').toFixed(2)}, runs ${cpuMs('naive-runs').toFixed(2)}), ours ${cpuMs('ours').toFixed(2)} ms: ${(cpuMs('naive') / cpuMs('ours')).toFixed(1)}x; one run of all the rules ${(cpuMs('one-run') * 1000).toFixed(0)} µs`,
      `${store.metricCount} metrics declared (${store.catalogue().filter((/** @type {any} */ m) => m.module).length} module fields); ${rules.length} engine rules (every rule, and each clearWhen): ${globalRules} global, ${rules.length - globalRules} per module`,
      `windows computed per evaluation: naive ${store.metricCount}, ours ${debug.last?.windows}; ours: ${debug.compiled} rules compiled, ${debug.fallback.length} on json-rules-engine, ${debug.ordersComputed} result orders replayed`,
      `modules tagged: ocr ${countTag('ocr')}, verbose ${countTag('verbose')}, heatmap ${countTag('heatmap')}, optional ${countTag('optional')}`,
    );
    return { measured, comparisons, notes };
  } finally {
    await profiler.stop();
  }
}

function countTag(/** @type {string} */ tag) {
  return Array.from({ length: MODULES }, (_, i) => tagsOf(i)).filter((tags) => tags.includes(tag)).length;
}
