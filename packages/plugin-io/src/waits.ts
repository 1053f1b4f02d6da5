import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { SampleWriter } from '@loadlight/core';

/** The longest wait accepted: a larger number is a mistake (a timestamp passed as a duration). */
export const MAX_WAIT_MS = 86_400_000;

/**
 * Waits are recorded in histograms as microseconds plus one (`record()` takes integers >= 1, and
 * a 0 ms wait counts). Up to this many ms, `(ms * 1000 + 1.5) | 0` rounds them to a small
 * integer, which reaches the native histogram without boxing a double; longer waits (rare: over
 * half an hour) take `Math.round`.
 */
const SMALL_WAIT_MS = 2_000_000;
const HIGHEST_US = MAX_WAIT_MS * 1000 + 1;

function createWaitHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: HIGHEST_US, figures: 3 });
}

/**
 * What every `trackIoWait()` call bumps, shared by every copy of this module. Totals are
 * cumulative, so that each reader (one per running `io` plugin) takes its own differences and two
 * profilers never steal each other's counts. Waits go to one pending histogram: a reader running
 * alone reads it itself; while several run, each read hands it on to every running reader's own
 * histogram (for its percentiles), then empties it.
 *
 * The totals are plain number fields: V8 updates a double field in place (no allocation), and
 * measured on Node 20 this cost about 1 ns less per call than a Float64Array of totals.
 */
interface WaitHub {
  totalMs: number;
  waits: number;
  /** Values that were not a wait in ms (NaN, negative, over a day): ignored, counted for a warning. */
  rejected: number;
  /** Waits since the last drain, in µs + 1. */
  readonly pending: RecordableHistogram;
  /** One per running reader, whichever copy made it. */
  readonly slots: WaitSlot[];
  /** One per loaded copy of this module: sets that copy's `live` flag. */
  readonly switches: Array<(live: boolean) => void>;
}

/**
 * A running reader's share of the waits: the histogram the pending waits are handed on to while
 * other readers run too (made then, ~229 KB of native memory). A reader running alone holds none.
 */
interface WaitSlot {
  histogram: RecordableHistogram | null;
}

// On globalThis so that the ESM and CJS builds of this package (a program may load both) share
// one hub: a wait tracked through either reaches the plugin, whichever build the profiler loaded.
// v3: the shape changed from v2 (a copy of an older version keeps its own hub).
const HUB_KEY = Symbol.for('loadlight.plugin-io.waits.v3');

const hub: WaitHub = ((globalThis as Record<symbol, unknown>)[HUB_KEY] ??= {
  totalMs: 0,
  waits: 0,
  rejected: 0,
  pending: createWaitHistogram(),
  slots: [],
  switches: [],
} satisfies WaitHub) as WaitHub;
const pending = hub.pending;

// The exported functions test this module-level flag on entry and return (or just run the work)
// when no profiler runs. It is set through `hub.switches` when any copy's reader starts or stops,
// so every copy's flag follows the same readers. Measured on Node 20 (V8): a flag keeps the call
// site monomorphic and inlined after a start/stop (3 ns, as a bare call); calling through a
// swapped function variable cost 7.8 ns after a start and stop (megamorphic, no longer inlined).
// Each evaluation of this module adds one switch for good (a program has one or two copies; a
// test runner that re-evaluates modules, a few more): a stale one only sets a flag nobody reads.
let live = hub.slots.length > 0;
hub.switches.push((on) => {
  live = on;
});

function switchAll(): void {
  const on = hub.slots.length > 0;
  for (const set of hub.switches) set(on);
}

/** Records one wait; `live` was checked by the caller. */
function recordWait(ms: number): void {
  // Never throw into the user's program: a bad value is counted and the plugin warns once.
  // typeof first: a string would pass the comparisons and turn the total into text.
  if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_WAIT_MS)) {
    hub.rejected++;
    return;
  }
  hub.totalMs += ms;
  hub.waits++;
  pending.record(ms < SMALL_WAIT_MS ? (ms * 1000 + 1.5) | 0 : Math.round(ms * 1000) + 1);
}

/**
 * Hands the waits recorded since the last drain to every running reader's own histogram (made
 * when it has none), then empties the pending one: with no reader running, they are dropped.
 */
function drain(): void {
  if (pending.count === 0) return;
  for (const slot of hub.slots) (slot.histogram ??= createWaitHistogram()).add(pending);
  pending.reset();
}

/**
 * The histogram holding a running reader's waits since its previous read, to read and reset:
 * the pending one itself when the reader runs alone and holds none of its own, else its own
 * after a drain (the emptied pending one when nothing was ever handed on to it).
 */
function waitsSince(slot: WaitSlot): RecordableHistogram {
  // A running reader alone is the only slot.
  if (slot.histogram === null && hub.slots.length === 1) return pending;
  drain();
  return slot.histogram ?? pending;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

async function settle(work: PromiseLike<unknown>, startMs: number): Promise<unknown> {
  try {
    return await work;
  } finally {
    // Checked again: a profiler that stopped meanwhile takes no more counts.
    if (live) recordWait(performance.now() - startMs);
  }
}

function timed(work: unknown): unknown {
  const startMs = performance.now();
  if (typeof work !== 'function') return isThenable(work) ? settle(work, startMs) : work;
  let result: unknown;
  try {
    result = (work as () => unknown)();
  } catch (error) {
    if (live) recordWait(performance.now() - startMs);
    throw error;
  }
  if (isThenable(result)) return settle(result, startMs);
  // A synchronous function (readFileSync...) blocked the thread on IO for this long.
  if (live) recordWait(performance.now() - startMs);
  return result;
}

/**
 * Records one IO wait of `ms` milliseconds (a file read, a request, a database call). Costs a
 * few additions and a native histogram record; with no profiler running, nothing at all. Values
 * that are not a duration (NaN, negative, over a day) are ignored, and the plugin warns once.
 *
 * ```ts
 * const start = performance.now();
 * const rows = await db.query(sql);
 * trackIoWait(performance.now() - start);
 * ```
 */
export function trackIoWait(ms: number): void {
  if (live) recordWait(ms);
}

/**
 * Times an IO wait and returns exactly what the work gives: a function's value (synchronously,
 * when it is not a promise) or thrown error, a promise's value or rejection. Given a promise, the
 * wait runs from this call to its settlement, so pass it as soon as it is made, or pass a
 * function that starts the work. With no profiler running, the function is called (or the
 * promise returned) as it is.
 *
 * ```ts
 * const text = await timeIo(readFile('hud.log', 'utf8'));
 * const rows = await timeIo(() => db.query(sql));
 * const config = timeIo(() => readFileSync('config.json', 'utf8')); // synchronous IO: a string
 * ```
 */
export function timeIo<T>(work: () => T): T;
export function timeIo<T>(work: PromiseLike<T>): Promise<T>;
export function timeIo(work: unknown): unknown {
  if (live) return timed(work);
  return typeof work === 'function' ? (work as () => unknown)() : work;
}

/** One running `io` plugin's view of the waits: differences since its previous tick. */
export class WaitReader {
  private readonly slot: WaitSlot = { histogram: null };
  private readonly now: () => number;
  private running = false;
  private lastAtMs = 0;
  private lastTotalMs = 0;
  private lastWaits = 0;
  private lastRejected = 0;

  /** `now` is a monotonic clock in ms (tests pass their own). */
  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Turns tracking on (for everyone) and starts counting from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    // Waits pending so far belong to the readers already running, not to this one.
    drain();
    hub.slots.push(this.slot);
    switchAll();
    this.lastAtMs = this.now();
    this.lastTotalMs = hub.totalMs;
    this.lastWaits = hub.waits;
    this.lastRejected = hub.rejected;
  }

  /** Stops counting; tracking goes back to a no-op once no reader runs. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    const at = hub.slots.indexOf(this.slot);
    if (at >= 0) hub.slots.splice(at, 1);
    // Waits pending so far go to the readers still running (dropped when none runs).
    drain();
    this.slot.histogram = null;
    switchAll();
  }

  /**
   * Writes the wait metrics for the time since the previous read (or `start()`), and returns how
   * many values `trackIoWait()` ignored meanwhile.
   */
  read(w: SampleWriter): number {
    const nowMs = this.now();
    const elapsedMs = nowMs - this.lastAtMs;
    const totalMs = hub.totalMs;
    const waitsTotal = hub.waits;
    const rejectedTotal = hub.rejected;
    const waitedMs = totalMs - this.lastTotalMs;
    const waits = waitsTotal - this.lastWaits;
    const rejected = rejectedTotal - this.lastRejected;
    this.lastAtMs = nowMs;
    this.lastTotalMs = totalMs;
    this.lastWaits = waitsTotal;
    this.lastRejected = rejectedTotal;
    let p95Ms: number | null = null;
    // A stopped reader touches no histogram: the pending one holds the running readers' waits.
    if (this.running) {
      const histogram = waitsSince(this.slot);
      if (histogram.count > 0) p95Ms = (histogram.percentile(95) - 1) / 1000;
      histogram.reset();
      // Alone again with its own histogram read and emptied: the pending one serves from now on.
      if (hub.slots.length === 1 && histogram === this.slot.histogram) this.slot.histogram = null;
    }
    const measured = this.running && elapsedMs > 0;
    w.set('io.wait.ms_per_minute', measured ? (waitedMs / elapsedMs) * 60_000 : null);
    w.set('io.wait.share_percent', measured ? (waitedMs / elapsedMs) * 100 : null);
    w.set('io.waits.per_minute', measured ? (waits / elapsedMs) * 60_000 : null);
    w.set('io.wait.p95_ms', measured ? p95Ms : null);
    return rejected;
  }

  /**
   * @internal for tests: the histogram of this reader's own (null while it runs alone, reading
   * the shared pending one).
   */
  get ownHistogram(): RecordableHistogram | null {
    return this.slot.histogram;
  }
}

/** Whether tracking is on (some `io` plugin is running): for tests. */
export function isTracking(): boolean {
  return live;
}
