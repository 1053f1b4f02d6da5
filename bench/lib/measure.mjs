// @ts-check
// The micro-benchmark engine: ns per operation of small synchronous functions, measured in
// calibrated batches, with the cases of one comparison interleaved round by round so that a noisy
// second on the shared machine hits every case of that round alike.
import { summarize } from './stats.mjs';

/**
 * One thing to time. `op` does exactly one operation and returns something (or nothing); write
 * it as its own arrow literal in the topic file (`op: () => counter.inc()`), not through a shared
 * factory, so that each op keeps its own type feedback, as the caller's code would in a program.
 * @typedef {object} MicroCase
 * @property {string} id stable id, used in the JSON and by comparisons
 * @property {string} label what the row shows
 * @property {string} who `loadlight`, `prom-client`, `opentelemetry`, `node` (a built-in baseline) or `js`
 * @property {() => unknown} [op]
 * @property {string} [unavailable] why this case could not run (shown instead of a figure)
 */

/**
 * @typedef {object} MeasureSettings
 * @property {number} batchMs target duration of one timed batch
 * @property {number} repeats batches per case per round; the round's figure is the fastest
 * @property {number} rounds timed rounds (every case, `repeats` batches each, per round)
 * @property {number} warmupRounds untimed rounds after calibration, so that the JIT settles
 * @property {number} [maxMs] stop after this long (at least `minRounds` rounds are kept)
 * @property {number} [minRounds]
 */

/**
 * @typedef {object} CaseResult
 * @property {string} id
 * @property {string} label
 * @property {string} who
 * @property {string} unit
 * @property {number[]} samples one value per timed round (ns/op): the fastest of its batches
 * @property {number} iterations operations per batch
 * @property {number} calls every call of the op, calibration and warm-up included (for sanity checks)
 * @property {number} median
 * @property {number} q1
 * @property {number} q3
 * @property {number} min
 * @property {number} max
 * @property {number} spread
 * @property {number} count
 * @property {string} [unavailable]
 */

/** Quick runs (`--quick`) keep the whole suite under a minute; full runs buy steadier medians. */
export const SETTINGS = Object.freeze({
  quick: Object.freeze({ batchMs: 1, repeats: 3, rounds: 15, warmupRounds: 3 }),
  full: Object.freeze({ batchMs: 2, repeats: 3, rounds: 50, warmupRounds: 6 }),
});

// Results are stored here so that V8 cannot prove an op's result unused and drop its work.
/** @type {unknown} */
let blackhole;
let blackholeWrites = 0;

/**
 * Keeps a value alive as far as the compiler can tell.
 * @param {unknown} value
 */
export function consume(value) {
  blackhole = value;
  blackholeWrites++;
}

/** For tests: proves results reach the black hole. */
export function blackholeState() {
  return { value: blackhole, writes: blackholeWrites };
}

let loopSerial = 0;

/**
 * A loop that calls `op` n times. Each case gets a freshly compiled loop (distinct source text, so
 * V8's compilation cache cannot hand back a shared one): its call to `op` sees one target only
 * and is optimised (inlined where V8 would inline it in user code), instead of one shared loop
 * going megamorphic over every case and timing an indirect call each time.
 * @param {string} caseId
 * @param {() => unknown} op
 * @returns {(n: number) => unknown}
 */
export function makeLoop(caseId, op) {
  const source =
    `// bench loop for ${JSON.stringify(caseId)}, #${++loopSerial}\n` +
    'return function loop(n) { let last; for (let i = 0; i < n; i++) last = op(); return last; };';
  return new Function('op', source)(op);
}

/** @type {((options?: { type?: 'minor' | 'major' }) => void) | undefined} */
const gc = typeof globalThis.gc === 'function' ? /** @type {any} */ (globalThis.gc) : undefined;

/**
 * Times one batch in ns. With `--expose-gc`, the young generation is emptied first (outside the
 * timing) so that garbage left by the previous case is not collected on this case's clock.
 * @param {(n: number) => unknown} loop
 * @param {number} n
 */
function timeBatch(loop, n) {
  if (gc) gc({ type: 'minor' });
  const t0 = process.hrtime.bigint();
  const last = loop(n);
  const t1 = process.hrtime.bigint();
  consume(last);
  return Number(t1 - t0);
}

/**
 * Grows n until one batch takes about `targetNs`.
 * @param {(n: number) => unknown} loop
 * @param {number} targetNs
 */
function calibrate(loop, targetNs) {
  let n = 1;
  let calls = 0;
  for (let step = 0; step < 60; step++) {
    const elapsedNs = Math.max(1, timeBatch(loop, n));
    calls += n;
    if (elapsedNs >= targetNs) return { n: Math.max(1, Math.round((n * targetNs) / elapsedNs)), calls };
    // Grow by at most 10x a step: the first batches run in the interpreter and are slow.
    n = Math.ceil(n * Math.min(10, Math.max(2, targetNs / elapsedNs)));
  }
  return { n, calls };
}

/**
 * Measures every available case: calibration, warm-up rounds, then timed rounds in which every
 * case runs `repeats` batches back to back, the order of cases rotating each round. A round's
 * figure for a case is its fastest batch: on a shared machine noise only ever adds time (a batch
 * the scheduler interrupted for a few ms says nothing about the function), and the median over
 * rounds then smooths what remains. Returns ns/op per case.
 * @param {MicroCase[]} cases
 * @param {MeasureSettings} settings
 * @returns {CaseResult[]}
 */
export function measureCases(cases, settings) {
  const ids = new Set();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`measureCases: duplicate case id "${c.id}"`);
    ids.add(c.id);
    if (!c.op && !c.unavailable) throw new Error(`measureCases: case "${c.id}" has neither op nor unavailable`);
  }
  const targetNs = settings.batchMs * 1e6;
  const live = cases
    .filter((c) => c.op && !c.unavailable)
    .map((c) => {
      const loop = makeLoop(c.id, /** @type {() => unknown} */ (c.op));
      const calibrated = calibrate(loop, targetNs);
      return { c, loop, n: calibrated.n, calls: calibrated.calls, fastestNsPerOp: Infinity, samples: /** @type {number[]} */ ([]) };
    });

  for (let round = 0; round < settings.warmupRounds; round++) {
    for (const entry of live) {
      const nsPerOp = Math.max(1, timeBatch(entry.loop, entry.n)) / entry.n;
      entry.calls += entry.n;
      entry.fastestNsPerOp = Math.min(entry.fastestNsPerOp, nsPerOp);
    }
  }
  // Re-aim from the fastest warm-up batch: an op often gets much faster once optimised, and a
  // warm-up batch the scheduler interrupted must not shrink the batches that follow.
  for (const entry of live) {
    if (Number.isFinite(entry.fastestNsPerOp)) entry.n = Math.max(1, Math.round(targetNs / entry.fastestNsPerOp));
  }

  const startedAt = Date.now();
  const minRounds = settings.minRounds ?? Math.min(settings.rounds, 5);
  for (let round = 0; round < settings.rounds; round++) {
    if (settings.maxMs !== undefined && round >= minRounds && Date.now() - startedAt >= settings.maxMs) break;
    for (let k = 0; k < live.length; k++) {
      const entry = live[(k + round) % live.length];
      let fastestNs = Infinity;
      for (let r = 0; r < Math.max(1, settings.repeats); r++) {
        fastestNs = Math.min(fastestNs, timeBatch(entry.loop, entry.n));
        entry.calls += entry.n;
      }
      entry.samples.push(fastestNs / entry.n);
    }
  }

  return cases.map((c) => {
    const entry = live.find((e) => e.c === c);
    const base = { id: c.id, label: c.label, who: c.who, unit: 'ns/op' };
    if (!entry) {
      return { ...base, samples: [], iterations: 0, calls: 0, median: NaN, q1: NaN, q3: NaN, min: NaN, max: NaN, spread: NaN, count: 0, unavailable: c.unavailable };
    }
    return { ...base, samples: entry.samples, iterations: entry.n, calls: entry.calls, ...summarize(entry.samples) };
  });
}
