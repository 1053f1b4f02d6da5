// @ts-check
// Heap and RSS growth of a full ring (issue 4, item 3): the process after gc with our packages
// imported and no profiler, against the same process after gc with a profiler holding 3,600
// samples of every built-in metric and 100 modules. The store's own bytes are shown beside, and
// the rest (heap and external growth not in the store).
import { fillRing, loadPackages } from '../export/ring.mjs';

export const MEMORY_BOUND_MB = 4;
const MB = 2 ** 20;
const RING_BYTES_PER_COLUMN = 3600 * 8;

/** @typedef {import('../../lib/results.mjs').Measured} Measured */

/** Full collections until the heap stops shrinking (at most 5): a settled figure. */
function settle() {
  const gc = /** @type {undefined | (() => void)} */ (globalThis.gc);
  if (!gc) throw new Error('the memory group needs --expose-gc (bench/run.mjs passes it)');
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last) break;
    last = used;
  }
  return process.memoryUsage();
}

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run() {
  /** @type {string[]} */
  const notes = [];
  const labels = {
    total: 'heap used + external growth',
    rss: 'RSS growth',
    store: 'store ring buffers (profiler.store.bytes)',
    heap: 'heap used growth',
    external: 'external growth (ArrayBuffers)',
    rest: 'the rest (heap + external growth - store)',
  };
  /** @type {import('../../lib/results.mjs').ComparisonDef[]} */
  const comparisons = [
    {
      id: 'memory',
      title: 'memory growth after a full ring (3,600 samples, every built-in metric, 100 modules), after gc',
      note: 'against the same process before the profiler started (our packages already imported); one process',
      baseline: 'store',
      cases: ['total', 'rss', 'store', 'heap', 'external', 'rest'],
      bounds: { total: { value: MEMORY_BOUND_MB }, rss: { value: MEMORY_BOUND_MB } },
    },
  ];
  const { mods, missing } = await loadPackages();
  if (missing !== null) {
    /** @type {Measured[]} */
    const measured = Object.entries(labels).map(([id, label]) => ({ id, label, who: 'loadlight', unit: 'MB', median: NaN, spread: NaN, unavailable: missing }));
    return { measured, comparisons, notes };
  }
  const before = settle();
  const ring = await fillRing(mods, notes);
  const after = settle();
  const storeBytes = ring.profiler.store.bytes;
  const heap = after.heapUsed - before.heapUsed;
  const external = after.external - before.external;
  /** @type {Record<keyof typeof labels, number>} */
  const bytes = { total: heap + external, rss: after.rss - before.rss, store: storeBytes, heap, external, rest: heap + external - storeBytes };
  /** @type {Measured[]} */
  const measured = Object.entries(labels).map(([id, label]) => ({
    id,
    label,
    who: id === 'store' ? 'node' : 'loadlight',
    unit: 'MB',
    median: bytes[/** @type {keyof typeof labels} */ (id)] / MB,
    spread: 0,
  }));
  notes.push(
    `${ring.metrics} metrics declared (${ring.moduleMetrics} module metrics, ${ring.derived} derived without a column); ` +
      `the store holds one Float64Array of 3,600 (${RING_BYTES_PER_COLUMN.toLocaleString('en-US')} bytes) per metric, plus times and a scratch column`,
    `MB = 2^20 bytes; the profiler is kept alive (running) while the second figure is taken`,
  );
  await ring.profiler.stop();
  return { measured, comparisons, notes };
}
