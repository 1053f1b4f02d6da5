// @ts-check
// Topic `hot-path`: the per-call bounds of issue 3, with the peers beside them.
import { defineTopic } from '../lib/topic.mjs';
import { buildComparison } from '../lib/results.mjs';
import { pairedRatio } from '../lib/stats.mjs';

const MODULE_COUNTS = [1, 100, 10_000];
/**
 * "The cost is independent of how many modules exist": the wrapper's cost relative to the hrtime
 * pair timed in the same process may grow by at most this factor from 1 module to N. Each count
 * runs in its own process, so the figure carries two processes' noise.
 */
export const MODULE_GROWTH_BOUND = 1.25;

/** @typedef {import('../lib/topic.mjs').GroupResult} GroupResult */

export default defineTopic({
  id: 'hot-path',
  order: 10,
  title: 'per-call cost of the tracking functions',
  method: (settings, quick) =>
    `ns/op: median over ${settings.rounds} rounds of the fastest of ${settings.repeats} ~${settings.batchMs} ms batches; cases of a group interleave round by round; ` +
    `± half the interquartile range; ratio: median of per-round ratios. One node process per group${quick ? '. Quick run: rough figures' : ''}.`,
  groups: [
    { id: 'ocr-call', load: () => import('./hot-path/counter.mjs'), params: { of: 'ocr' } },
    { id: 'io-wait', load: () => import('./hot-path/histogram.mjs'), params: { of: 'io' } },
    { id: 'histogram', load: () => import('./hot-path/histogram.mjs') },
    { id: 'module', load: () => import('./hot-path/module.mjs'), params: { modules: 1, peers: true } },
    ...MODULE_COUNTS.map((modules) => ({ id: `module-count-${modules}`, load: () => import('./hot-path/module.mjs'), params: { modules } })),
    { id: 'off', load: () => import('./hot-path/off.mjs') },
    { id: 'after-stop', load: () => import('./hot-path/off.mjs'), params: { after: 'stop' } },
  ],
  derive: (results) => ({ comparisons: [moduleGrowth(results)] }),
});

/**
 * profileModule's cost with 1, 100 and 10,000 modules, each normalised by the hrtime pair timed
 * in the same process, relative to the 1-module figure.
 * @param {Map<string, GroupResult>} results
 */
export function moduleGrowth(results) {
  /** @type {Map<string, import('../lib/results.mjs').Measured>} */
  const rows = new Map();
  /** @type {number | null} */
  let first = null;
  for (const modules of MODULE_COUNTS) {
    const id = `modules.${modules}`;
    const label = `profileModule, ${modules.toLocaleString('en-US')} module${modules === 1 ? '' : 's'}`;
    const result = results.get(`module-count-${modules}`);
    const ours = result?.measured.find((m) => m.id === 'profileModule');
    const pair = result?.measured.find((m) => m.id === 'node.hrtime');
    if (!ours || !pair || ours.unavailable || !ours.samples || !pair.samples) {
      rows.set(id, { id, label, who: 'loadlight', unit: 'ns/op', median: NaN, spread: NaN, unavailable: ours?.unavailable ?? 'not measured (see the errors above)' });
      continue;
    }
    const normalised = pairedRatio(ours.samples, pair.samples);
    if (first === null && modules === MODULE_COUNTS[0]) first = normalised;
    /** @type {import('../lib/results.mjs').Measured} */
    const row = { id, label, who: 'loadlight', unit: 'ns/op', median: ours.median, spread: ours.spread };
    if (first !== null) row.ratio = normalised / first;
    rows.set(id, row);
  }
  const ids = MODULE_COUNTS.map((m) => `modules.${m}`);
  const comparison = buildComparison(
    {
      id: 'module-growth',
      title: 'profileModule per-call cost as modules are added',
      note: 'ratio: (wrapper / hrtime pair) with N modules over the same with 1, each count in its own process',
      baseline: ids[0],
      cases: ids,
      bounds: Object.fromEntries(ids.slice(1).map((id) => [id, { ratio: MODULE_GROWTH_BOUND }])),
    },
    rows,
  );
  return comparison;
}
