// @ts-check
// Topic `scaling` (issue 4, item 6): per-call cost with 1, 100 and 10,000 modules; tick cost with
// 10, 100 and 1,000 metrics (and 1, 10, 100 profiled modules); events at 1k, 100k and 1M per
// second with 1, 100 and 10,000 modules. A tick must grow at most linearly with metrics, and the
// cost of an event must not grow with modules.
import { defineTopic } from '../lib/topic.mjs';
import { buildComparison } from '../lib/results.mjs';
import { moduleGrowth } from './hot-path.mjs';
import { RATES, rateLabel } from './scaling/common.mjs';

export const EVENT_MODULE_COUNTS = Object.freeze([1, 100, 10_000]);
/** "Per-event cost must not grow with modules", read as the hot-path topic reads it for one call. */
export const EVENT_GROWTH_BOUND = 1.25;

/** @typedef {import('../lib/topic.mjs').GroupResult} GroupResult */
/** @typedef {import('../lib/results.mjs').Measured} Measured */

export default defineTopic({
  id: 'scaling',
  order: 60,
  title: 'cost as modules, metrics and events grow',
  method: (settings, quick) =>
    `per call: ns/op as in hot-path (median of ${settings.rounds} rounds); ticks: wall ms of whole ticks (median of ${quick ? 15 : 100} per count); ` +
    `events: ns per event over ${quick ? '0.2 s' : '2 x 1 s'} per rate; ± half the IQR. One node process per group${quick ? '. Quick run: rough figures' : ''}.`,
  groups: [
    // The hot-path topic's groups of the same name (the same module and params): measured once in
    // a run of both topics, and run here when this topic runs without that one.
    ...EVENT_MODULE_COUNTS.map((modules) => ({
      id: `module-count-${modules}`,
      load: () => import('./scaling/per-call.mjs'),
      params: { modules },
      sameAs: { topic: 'hot-path', group: `module-count-${modules}`, adapt: perCallResult },
    })),
    { id: 'ticks', load: () => import('./scaling/tick.mjs') },
    ...EVENT_MODULE_COUNTS.map((modules) => ({ id: `events-${modules}`, load: () => import('./scaling/events.mjs'), params: { modules } })),
  ],
  derive: (results) => ({ comparisons: [moduleGrowth(results), ...RATES.map((rate) => eventGrowth(results, rate))] }),
});

/**
 * What this topic keeps of the hot-path module group's result: its figures and notes; its
 * per-count tables stay in the hot-path topic, this one shows their growth (moduleGrowth).
 * @param {GroupResult} result
 * @returns {GroupResult}
 */
export function perCallResult(result) {
  return { measured: result.measured, notes: result.notes, comparisons: [] };
}

/** The kind of event whose cost could depend on the modules: the profiled module call (kind 3). */
const MODULE_KIND = 3;

/**
 * One rate: the net cost per event with 1, 100 and 10,000 modules (bounded: no growth from 1
 * module), and the profiled module call alone beside it (its ratio against itself with 1 module).
 * @param {Map<string, GroupResult>} results
 * @param {number} rate
 */
export function eventGrowth(results, rate) {
  /** @type {Map<string, Measured>} */
  const rows = new Map();
  for (const [kind, rowId, text] of /** @type {const} */ ([
    ['net', 'net', 'per event'],
    [`kind${MODULE_KIND}`, 'module', 'profiled module call alone'],
  ])) {
    /** @type {number | null} */
    let first = null;
    for (const modules of EVENT_MODULE_COUNTS) {
      const label = `${text}, ${modules.toLocaleString('en-US')} module${modules === 1 ? '' : 's'}`;
      const id = `${rowId}.${modules}`;
      const m = results.get(`events-${modules}`)?.measured.find((row) => row.id === `${kind}.${rate}`);
      if (!m || m.unavailable || !Number.isFinite(m.median)) {
        rows.set(id, { id, label, who: 'loadlight', unit: 'ns/event', median: NaN, spread: NaN, unavailable: m?.unavailable ?? 'not measured (see the errors above)' });
        continue;
      }
      /** @type {Measured} */
      const row = { id, label, who: 'loadlight', unit: 'ns/event', median: m.median, spread: m.spread };
      if (modules === EVENT_MODULE_COUNTS[0]) first = m.median;
      if (first !== null && first > 0) row.ratio = m.median / first;
      rows.set(id, row);
    }
  }
  const net = EVENT_MODULE_COUNTS.map((m) => `net.${m}`);
  return buildComparison(
    {
      id: `events-${rate}`,
      title: `events at ${rateLabel(rate)}: CPU per event as modules are added`,
      note:
        'trackOcrCall(), trackFrame(ms), trackIoWait(ms) and a profiled module call in equal shares; per event: (our burst - the same loop around a bare call) / its events, ' +
        'median over wake-ups per kind, mean of the kinds; each count in its own process; the module-call rows are against the module call with 1 module',
      baseline: net[0],
      cases: [...net, ...EVENT_MODULE_COUNTS.map((m) => `module.${m}`)],
      bounds: Object.fromEntries(net.slice(1).map((id) => [id, { ratio: EVENT_GROWTH_BOUND }])),
    },
    rows,
  );
}
