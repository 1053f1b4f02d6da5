// @ts-check
// Export of a full ring (issue 4, item 7): the json reporter's export (profiler.session(), then
// sessionJsonChunks written by writeFileAtomic as they are produced), timed whole and by phase;
// beside it, the same session object written the way a user would (JSON.stringify +
// fs.writeFileSync) and the way the reporter did before (JSON.stringify + writeFileAtomic); then
// the file's size against the raw numbers it holds written as text.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { summarize } from '../../lib/stats.mjs';
import { importOptional } from '../../lib/topic.mjs';
import { REPEATS } from '../export.mjs';
import { fillRing, loadPackages, RING_MODULES, RING_SAMPLES } from './ring.mjs';

/** Issue 4, item 7. */
export const EXPORT_BOUND_MS = 100;
export const SIZE_BOUND_RATIO = 2;

/** @typedef {import('../../lib/results.mjs').Measured} Measured */

/**
 * Characters of the raw numbers a session's samples hold, each written as `String(v)` with
 * nothing between: the times, and every non-null value each series stands for (a dense array's
 * numbers, a sparse series' values, a run's value once per row of the run), as `sessionSeries`
 * reads them back. No separator, key, row index, run length or structure; the computed metrics,
 * whose values the file does not hold, are not counted.
 * @param {{ samples: { t: number[], values: Record<string, Array<number | null> | { at: number[], v: number[] } | { runs: number[], v: Array<number | null> }> } }} session
 */
export function rawNumberChars(session) {
  let chars = 0;
  let numbers = 0;
  const add = (/** @type {number | null} */ v, times = 1) => {
    if (typeof v !== 'number') return;
    chars += String(v).length * times;
    numbers += times;
  };
  for (const v of session.samples.t) add(v);
  for (const series of Object.values(session.samples.values)) {
    if (Array.isArray(series)) for (const v of series) add(v);
    else if ('runs' in series) series.v.forEach((v, i) => add(v, series.runs[i]));
    else for (const v of series.v) add(v);
  }
  return { chars, numbers };
}

/**
 * Of a session's sample series: how many are in each form (dense, sparse, runs), the nulls of
 * the dense ones, and the numbers written that are neither whole nor a decimal of at most six
 * places (doubles such as 1/3, which need the general double-to-text conversion; the serializer
 * formats the rest itself).
 * @param {{ samples: { values: Record<string, Array<number | null> | { at: number[], v: number[] } | { runs: number[], v: Array<number | null> }> } }} session
 */
export function sampleMix(session) {
  const forms = { dense: 0, sparse: 0, runs: 0 };
  let nulls = 0;
  let slow = 0;
  for (const series of Object.values(session.samples.values)) {
    const form = Array.isArray(series) ? 'dense' : 'runs' in series ? 'runs' : 'sparse';
    forms[form]++;
    for (const v of Array.isArray(series) ? series : series.v) {
      if (v === null) nulls += form === 'dense' ? 1 : 0;
      else if (!(Math.abs(v) < 1e9 && Math.round(v * 1e6) / 1e6 === v)) slow++;
    }
  }
  return { forms, nulls, slow };
}

const LABELS = {
  total: "the json reporter's export: session() + serialize + atomic write",
  session: '  profiler.session()',
  series: '    of which store.seriesRuns() (the ring decoded as runs, computed metrics computed)',
  gc: '  garbage collection inside the phases above (V8 pauses, in the whole export)',
  serialize: '  serialize alone (sessionJsonChunks)',
  write: '  atomic write alone (temp file, write, fsync, rename)',
  cold: 'the first export (cold), total',
  ours: 'sessionJsonChunks + writeFileAtomic, overlapped (the json reporter)',
  user: 'JSON.stringify + fs.writeFileSync (no fsync, not atomic)',
  before: 'JSON.stringify + writeFileAtomic (the json reporter before)',
  stringify: '  of which JSON.stringify',
  file: 'session file',
  raw: 'raw numbers as text',
  samples: 'samples part of the file',
};
/** @type {Record<string, string>} */
const WHO = { user: 'node', stringify: 'node', raw: 'js' };

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const worst = params.workload === 'worst';
  const workload = worst ? 'worst' : 'realistic';
  // The worst case is shown for scale, with fewer rounds: the full run stays within 30 s.
  const repeats = ctx.quick ? (worst ? REPEATS.quickWorst : REPEATS.quickRealistic) : worst ? REPEATS.worst : REPEATS.realistic;
  /** @type {string[]} */
  const notes = [];
  const samplesText = RING_SAMPLES.toLocaleString('en-US');
  const suffix = worst ? '-worst' : '';
  const what = worst
    ? `WORST CASE, not the bound's case: every module called 20 times every tick (${samplesText} samples, every built-in metric, ${RING_MODULES} modules)`
    : `a full ring (${samplesText} samples, every built-in metric, ${RING_MODULES} modules, a modelled program)`;
  /** @type {import('../../lib/results.mjs').ComparisonDef[]} */
  const comparisons = [
    {
      id: `export-time${suffix}`,
      title: `session export of ${what}`,
      note: `${repeats} exports in one process after a first (cold) one, median; phases timed apart on the same session object`,
      baseline: 'total',
      cases: ['total', 'session', 'series', 'gc', 'serialize', 'write', 'cold'],
      ...(worst ? {} : { bounds: { total: { value: EXPORT_BOUND_MS } } }),
    },
    {
      id: `export-peers${suffix}`,
      title: `the same session object to a file: the json reporter against what a user would write${worst ? ' (worst case)' : ''}`,
      note: 'each round writes the session built in that round, a full gc before each case; ratio: median of per-round ratios',
      baseline: 'user',
      cases: ['ours', 'user', 'before', 'stringify'],
    },
    {
      id: `export-size${suffix}`,
      title: `session file size against the raw numbers it holds as text${worst ? ' (worst case)' : ''}`,
      note: 'raw: String(v).length summed over the times and every value the series hold (a run\'s value once per row; computed metrics are not in the file)',
      baseline: 'raw',
      cases: ['file', 'raw', 'samples'],
      ...(worst ? {} : { bounds: { file: { ratio: SIZE_BOUND_RATIO } } }),
    },
  ];
  const unit = (/** @type {string} */ id) => (['file', 'raw', 'samples'].includes(id) ? 'kB' : 'ms');
  const { mods, missing } = await loadPackages();
  const reporter = await importOptional('@loadlight/reporter-json');
  const why = missing ?? reporter.missing;
  if (why !== null || reporter.module === null) {
    /** @type {Measured[]} */
    const measured = Object.entries(LABELS).map(([id, label]) => ({ id, label, who: WHO[id] ?? 'loadlight', unit: unit(id), median: NaN, spread: NaN, unavailable: why ?? 'not built' }));
    return { measured, comparisons, notes };
  }
  const { writeFileAtomic, sessionJsonChunks } = /** @type {any} */ (reporter.module);
  const { validateSession, sessionSeries } = mods.core;
  const ring = await fillRing(mods, notes, { workload });
  const profiler = ring.profiler;
  // Time spent inside store.seriesRuns() during session(): decoding the ring is the store's share.
  const store = profiler.store;
  const seriesRuns = store.seriesRuns.bind(store);
  let inSeries = 0;
  store.seriesRuns = (/** @type {string} */ name, /** @type {any} */ out) => {
    const t = performance.now();
    const n = seriesRuns(name, out);
    inSeries += performance.now() - t;
    return n;
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-bench-export-'));
  const file = (/** @type {string} */ name) => path.join(dir, `${name}.json`);
  /** A full collection, and the file a case writes removed (every case writes a new file). */
  const fresh = (/** @type {string} */ name) => {
    rmSync(file(name), { force: true });
    globalThis.gc?.();
  };
  /** @type {Record<string, number[]>} */
  const times = { total: [], session: [], series: [], gc: [], serialize: [], write: [], ours: [], user: [], before: [], stringify: [] };
  // V8's collections (start, pause), to sum those that start inside each export (they fall in
  // the phases above: the session object is young when built, and collections copy it).
  /** @type {Array<[number, number]>} */
  const collections = [];
  /** @type {Array<[number, number]>} */
  const exports = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push([entry.startTime, entry.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  /** @type {any} */
  let session = null;
  try {
    for (let round = 0; round <= repeats; round++) {
      // The reporter's export, as its export hook runs it after profiler.stop() built the session.
      fresh('ours');
      inSeries = 0;
      const t0 = performance.now();
      session = profiler.session();
      const t1 = performance.now();
      await writeFileAtomic(file('ours'), sessionJsonChunks(session));
      const t2 = performance.now();
      // The first export also compiles the code paths; shown apart, not in the medians.
      if (round === 0) {
        times.cold = [t2 - t0];
        continue;
      }
      times.total.push(t2 - t0);
      exports.push([t0, t2]);
      times.session.push(t1 - t0);
      times.series.push(inSeries);
      times.ours.push(t2 - t1);
      // The phases apart: serializing to memory, then writing those chunks.
      fresh('split');
      const t3 = performance.now();
      const chunks = [...sessionJsonChunks(session)];
      const t4 = performance.now();
      await writeFileAtomic(file('split'), chunks);
      const t5 = performance.now();
      times.serialize.push(t4 - t3);
      times.write.push(t5 - t4);
      chunks.length = 0;
      // What a user would write: one string, one plain write.
      fresh('user');
      const t6 = performance.now();
      const json = `${JSON.stringify(session)}\n`;
      const t7 = performance.now();
      writeFileSync(file('user'), json);
      const t8 = performance.now();
      times.user.push(t8 - t6);
      times.stringify.push(t7 - t6);
      // The reporter before: the same string, written atomically.
      fresh('before');
      const t9 = performance.now();
      await writeFileAtomic(file('before'), `${JSON.stringify(session)}\n`);
      times.before.push(performance.now() - t9);
    }
    // The observer hears of a collection after it: let the last ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [from, to] of exports) times.gc.push(collections.filter(([at]) => at >= from && at < to).reduce((sum, [, pause]) => sum + pause, 0));
    const written = readFileSync(file('ours'));
    const bytes = written.byteLength;
    const identical = written.equals(Buffer.from(`${JSON.stringify(session)}\n`));
    const parsed = JSON.parse(written.toString('utf8'));
    validateSession(parsed, 'the exported session');
    // Read back: every metric's series from the file (sparse expanded, computed ones computed)
    // against the Store's own.
    const catalogue = store.catalogue();
    const differing = catalogue.filter((/** @type {any} */ m) => !m.derivedFrom && !isDeepStrictEqual(sessionSeries(parsed, m.name), store.series(m.name))).map((/** @type {any} */ m) => m.name);
    const raw = rawNumberChars(session);
    const mix = sampleMix(session);
    const samplesChars = Buffer.byteLength(JSON.stringify(session.samples));
    /** @type {Measured[]} */
    const measured = Object.keys(times).map((id) => {
      const s = summarize(times[id]);
      return { id, label: LABELS[/** @type {keyof typeof LABELS} */ (id)], who: WHO[id] ?? 'loadlight', unit: 'ms', median: s.median, spread: s.spread, samples: times[id] };
    });
    const kb = (/** @type {number} */ n) => n / 1000;
    measured.push(
      { id: 'file', label: LABELS.file, who: 'loadlight', unit: 'kB', median: kb(bytes), spread: 0 },
      { id: 'raw', label: LABELS.raw, who: 'js', unit: 'kB', median: kb(raw.chars), spread: 0 },
      { id: 'samples', label: LABELS.samples, who: 'loadlight', unit: 'kB', median: kb(samplesChars), spread: 0 },
    );
    const seriesCount = Object.keys(session.samples.values).length;
    const computed = catalogue.filter((/** @type {any} */ m) => m.formula).length;
    const held = raw.numbers - session.samples.t.length;
    notes.push(
      `${ring.metrics} metrics declared (${ring.moduleMetrics} module metrics; ${ring.derived} computed or derived); ${seriesCount} series in the file ` +
        `(${mix.forms.dense} dense, ${mix.forms.sparse} sparse, ${mix.forms.runs} runs) x ${samplesText} rows: ${(held / 1e6).toFixed(2)} million values held ` +
        `(${(mix.nulls / 1e6).toFixed(3)} million nulls in dense series, ${(mix.slow / 1e6).toFixed(3)} million numbers written neither whole nor at most 6 decimals); ` +
        `the ${computed} computed metrics have no series in the file (sessionSeries computes them)`,
      `file ${bytes.toLocaleString('en-US')} bytes, ${identical ? 'byte for byte the same as' : 'DIFFERENT FROM'} JSON.stringify(session) + '\\n', valid against the session schema; ` +
        `read back with sessionSeries, ${differing.length === 0 ? `every metric's series equals store.series()` : `${differing.length} DIFFER from store.series() (${differing.slice(0, 3).join(', ')})`}; ` +
        `${ring.modulesCalledPerTick.toFixed(1)} of ${RING_MODULES} modules called in a tick on average (${workload} workload)`,
    );
    await profiler.stop();
    return { measured, comparisons, notes };
  } finally {
    observer.disconnect();
    delete store.seriesRuns; // the Store's own method again
    rmSync(dir, { recursive: true, force: true });
  }
}
