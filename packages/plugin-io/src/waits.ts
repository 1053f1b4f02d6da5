import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { SampleWriter } from '@loadlight/core';

/** The longest wait accepted: a larger number is a mistake (a timestamp passed as a duration). */
export const MAX_WAIT_MS = 86_400_000;

type Track = (ms: number) => void;
type Time = (work: unknown) => unknown;

/**
 * The accumulators every `trackIoWait()` call bumps. Totals are cumulative, so that each reader
 * (one per running `io` plugin) takes its own differences and two profilers never steal each
 * other's counts; each reader has its own histogram for the percentiles.
 */
interface WaitHub {
  /** The current implementations: no-ops while no reader runs. */
  track: Track;
  time: Time;
  totalMs: number;
  count: number;
  /** Values that were not a wait in ms (NaN, negative, over a day): ignored, counted for a warning. */
  rejected: number;
  histograms: RecordableHistogram[];
}

// On globalThis so that the ESM and CJS builds of this package (a program may load both) share
// one hub: a wait tracked through either reaches the plugin, whichever build the profiler loaded.
const HUB_KEY = Symbol.for('loadlight.plugin-io.waits.v1');

function trackOff(_ms: number): void {}

function timeOff(work: unknown): unknown {
  return typeof work === 'function' ? (work as () => unknown)() : work;
}

const hub: WaitHub = ((globalThis as Record<symbol, unknown>)[HUB_KEY] ??= {
  track: trackOff,
  time: timeOff,
  totalMs: 0,
  count: 0,
  rejected: 0,
  histograms: [],
} satisfies WaitHub) as WaitHub;

function trackOn(ms: number): void {
  // Never throw into the user's program: a bad value is counted and the plugin warns once.
  // typeof first: a string would pass the comparisons and turn the total into text.
  if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_WAIT_MS)) {
    hub.rejected++;
    return;
  }
  hub.totalMs += ms;
  hub.count++;
  // Histograms take whole numbers >= 1: microseconds keep sub-millisecond waits apart.
  const micros = Math.round(ms * 1000);
  const value = micros < 1 ? 1 : micros;
  const histograms = hub.histograms;
  for (let i = 0; i < histograms.length; i++) histograms[i]!.record(value);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

async function settle(work: PromiseLike<unknown>, startMs: number): Promise<unknown> {
  try {
    return await work;
  } finally {
    // hub.track, not trackOn: a profiler that stopped meanwhile takes no more counts.
    hub.track(performance.now() - startMs);
  }
}

function timeOn(work: unknown): unknown {
  const startMs = performance.now();
  if (typeof work !== 'function') return isThenable(work) ? settle(work, startMs) : work;
  let result: unknown;
  try {
    result = (work as () => unknown)();
  } catch (error) {
    hub.track(performance.now() - startMs);
    throw error;
  }
  if (isThenable(result)) return settle(result, startMs);
  // A synchronous function (readFileSync...) blocked the thread on IO for this long.
  hub.track(performance.now() - startMs);
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
  hub.track(ms);
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
  return hub.time(work);
}

/** One running `io` plugin's view of the waits: differences since its previous tick. */
export class WaitReader {
  private readonly histogram = createHistogram();
  private readonly now: () => number;
  private running = false;
  private lastAtMs = 0;
  private lastTotalMs = 0;
  private lastCount = 0;
  private lastRejected = 0;

  /** `now` is a monotonic clock in ms (tests pass their own). */
  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Turns tracking on (for everyone) and starts counting from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.histogram.reset();
    hub.histograms.push(this.histogram);
    hub.track = trackOn;
    hub.time = timeOn;
    this.lastAtMs = this.now();
    this.lastTotalMs = hub.totalMs;
    this.lastCount = hub.count;
    this.lastRejected = hub.rejected;
  }

  /** Stops counting; tracking goes back to a no-op once no reader runs. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    const at = hub.histograms.indexOf(this.histogram);
    if (at >= 0) hub.histograms.splice(at, 1);
    if (hub.histograms.length === 0) {
      hub.track = trackOff;
      hub.time = timeOff;
    }
  }

  /**
   * Writes the wait metrics for the time since the previous read (or `start()`), and returns how
   * many values `trackIoWait()` ignored meanwhile.
   */
  read(w: SampleWriter): number {
    const nowMs = this.now();
    const elapsedMs = nowMs - this.lastAtMs;
    const waitedMs = hub.totalMs - this.lastTotalMs;
    const waits = hub.count - this.lastCount;
    const rejected = hub.rejected - this.lastRejected;
    this.lastAtMs = nowMs;
    this.lastTotalMs = hub.totalMs;
    this.lastCount = hub.count;
    this.lastRejected = hub.rejected;
    const p95Ms = this.histogram.count > 0 ? this.histogram.percentile(95) / 1000 : null;
    this.histogram.reset();
    const measured = this.running && elapsedMs > 0;
    w.set('io.wait.ms_per_minute', measured ? (waitedMs / elapsedMs) * 60_000 : null);
    w.set('io.wait.share_percent', measured ? (waitedMs / elapsedMs) * 100 : null);
    w.set('io.waits.per_minute', measured ? (waits / elapsedMs) * 60_000 : null);
    w.set('io.wait.p95_ms', measured ? p95Ms : null);
    return rejected;
  }
}

/** Whether tracking is on (some `io` plugin is running): for tests. */
export function isTracking(): boolean {
  return hub.histograms.length > 0;
}
