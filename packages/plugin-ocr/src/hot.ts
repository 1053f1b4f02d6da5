import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { SampleWriter } from '@loadlight/core';

// The hot path. Events bump cumulative totals and one shared latency histogram; each running
// profiler keeps the totals it last read and, while others run too, its own histogram, so two
// profilers both see every event and neither one's collect resets the other's. With no
// profiler running the exported functions return at once (timeOcr just calls fn): nothing is
// counted or allocated. That state is one hub on globalThis, shared by every copy of this module
// (a program may load both the ESM and the CJS build), as plugin-io's waits are.

/**
 * Latencies are recorded as microseconds plus one (`record()` takes integers >= 1), rounded
 * with `| 0`: a small integer reaches the native histogram without boxing a double.
 */
const LATENCY_HIGHEST_US = 1_000_000_000;
/** Longer calls (over 1,000 s) are recorded as 1,000 s. */
const LATENCY_HIGHEST_MS = LATENCY_HIGHEST_US / 1000;

function createLatencyHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: LATENCY_HIGHEST_US + 1, figures: 3 });
}

/** Records one latency in ms; NaN or negative values are ignored. */
function recordLatency(histogram: RecordableHistogram, ms: number): void {
  if (ms >= 0) histogram.record(ms < LATENCY_HIGHEST_MS ? (ms * 1000 + 1.5) | 0 : LATENCY_HIGHEST_US + 1);
}

/** Event totals since the first copy of this module loaded (never reset: windows subtract what they last read). */
export interface OcrTotals {
  calls: number;
  errors: number;
  chars: number;
  confidenceSum: number;
  confidenceCount: number;
  /** Timed calls whose result carried a text. */
  texts: number;
  /** ... of which the text equalled the previous call's. */
  unchanged: number;
}

function zeroTotals(): OcrTotals {
  return { calls: 0, errors: 0, chars: 0, confidenceSum: 0, confidenceCount: 0, texts: 0, unchanged: 0 };
}

/** A running profiler's share of the latencies, whichever copy of this module opened it. */
interface LatencySlot {
  /** The latencies handed on to it while other windows run too; null while it runs alone. */
  latency: RecordableHistogram | null;
}

/** What every copy of this module counts into and reads from. */
interface OcrHub {
  /** Plain number fields: V8 updates them in place. */
  readonly totals: OcrTotals;
  /** Latencies since the last drain into the windows' histograms. */
  readonly pending: RecordableHistogram;
  /** The open windows, of every copy. */
  readonly windows: Set<LatencySlot>;
  /** The text of the last timed call, to count unchanged ones. */
  previousText: string | null;
  /** One per loaded copy of this module: sets that copy's `live` flag. */
  readonly switches: Array<(live: boolean) => void>;
}

const HUB_KEY = Symbol.for('loadlight.plugin-ocr.hot.v1');

const hub: OcrHub = ((globalThis as Record<symbol, unknown>)[HUB_KEY] ??= {
  totals: zeroTotals(),
  pending: createLatencyHistogram(),
  windows: new Set(),
  previousText: null,
  switches: [],
} satisfies OcrHub) as OcrHub;
const totals = hub.totals;
const pendingLatency = hub.pending;
const windows = hub.windows;

/** One running profiler's view: what it last read, and the latencies since its last collect. */
export class OcrWindow {
  /**
   * Latencies handed on to this window while other windows run too (made then). A window
   * running alone reads the pending histogram itself: no copy, and no second ~170 KB histogram.
   */
  latency: RecordableHistogram | null = null;
  private readonly seen: OcrTotals = zeroTotals();
  private lastAtMs: number;

  constructor() {
    Object.assign(this.seen, totals);
    this.lastAtMs = performance.now();
  }

  /** Writes the tick's metrics: events since this window's previous collect (first: since start). */
  collect(w: SampleWriter): void {
    const now = performance.now();
    const elapsedMs = now - this.lastAtMs;
    this.lastAtMs = now;
    const latency = latencySince(this);
    const seen = this.seen;
    const calls = totals.calls - seen.calls;
    const errors = totals.errors - seen.errors;
    const chars = totals.chars - seen.chars;
    const confidenceSum = totals.confidenceSum - seen.confidenceSum;
    const confidenceCount = totals.confidenceCount - seen.confidenceCount;
    const texts = totals.texts - seen.texts;
    const unchanged = totals.unchanged - seen.unchanged;
    Object.assign(seen, totals);

    const perMinute = elapsedMs > 0 ? 60_000 / elapsedMs : null;
    w.set('ocr.calls.count', calls);
    w.set('ocr.calls.per_minute', perMinute === null ? null : calls * perMinute);
    w.set('ocr.errors.per_minute', perMinute === null ? null : errors * perMinute);
    w.set('ocr.chars.per_minute', perMinute === null ? null : chars * perMinute);
    w.set('ocr.confidence.mean', confidenceCount > 0 ? confidenceSum / confidenceCount : null);
    w.set('ocr.unchanged.percent', texts > 0 ? (unchanged / texts) * 100 : null);
    writeLatency(w, latency);
    // Alone again with its own histogram read and emptied: the pending one serves from now on.
    if (windows.size === 1 && latency === this.latency) this.latency = null;
  }
}

/** Reads a histogram of µs+1 values into the `ocr.latency.*` metrics (ms), then resets it. */
function writeLatency(w: SampleWriter, histogram: RecordableHistogram): void {
  if (histogram.count === 0) {
    for (const name of LATENCY_NAMES) w.set(name, null);
    return;
  }
  const ms = (us: number) => (us - 1) / 1000;
  w.set('ocr.latency.mean_ms', ms(histogram.mean));
  w.set('ocr.latency.p50_ms', ms(histogram.percentile(50)));
  w.set('ocr.latency.p95_ms', ms(histogram.percentile(95)));
  w.set('ocr.latency.p99_ms', ms(histogram.percentile(99)));
  w.set('ocr.latency.max_ms', ms(histogram.max));
  histogram.reset();
}

const LATENCY_NAMES = ['ocr.latency.mean_ms', 'ocr.latency.p50_ms', 'ocr.latency.p95_ms', 'ocr.latency.p99_ms', 'ocr.latency.max_ms'];

/** Hands the latencies recorded since the last drain to every open window. */
function drain(): void {
  if (pendingLatency.count === 0) return;
  for (const window of windows) (window.latency ??= createLatencyHistogram()).add(pendingLatency);
  pendingLatency.reset();
}

/**
 * The histogram holding a window's latencies since its previous collect, for `writeLatency` to
 * read and reset: the pending one itself when the window runs alone and holds none of its own,
 * else its own after a drain (the emptied pending one when nothing was ever handed on to it).
 */
function latencySince(window: LatencySlot): RecordableHistogram {
  if (windows.size === 1 && windows.has(window) && window.latency === null) return pendingLatency;
  drain();
  return window.latency ?? pendingLatency;
}

/** Starts counting for one profiler; the hot path switches on with the first window. */
export function openWindow(): OcrWindow {
  drain();
  const window = new OcrWindow();
  windows.add(window);
  switchHotPath();
  return window;
}

/** Stops counting for one profiler; the hot path switches off with the last window. */
export function closeWindow(window: OcrWindow): void {
  // Its pending latencies go to the windows still open (dropped when none is).
  windows.delete(window);
  drain();
  window.latency = null;
  switchHotPath();
}

// ---------------------------------------------------------------------------------------------
// The functions the program calls. Each tests one module-level flag on entry, set when a window
// opens or closes, and returns (or just calls `fn`) when no profiler runs. Measured on Node 20
// (V8): calling through a swapped function variable costs more, because once the variable has
// held two functions its call site is megamorphic and no longer inlined.

/**
 * Whether any profiler is running (the hot path counts): this copy's flag, set through
 * `hub.switches` when a window of any copy opens or closes. Each evaluation of this module adds
 * one switch for good (a program has one or two copies): a stale one sets a flag nobody reads.
 */
let live = windows.size > 0;
hub.switches.push((on) => {
  live = on;
});

function timed<T>(fn: () => T): T {
  const startedAtMs = performance.now();
  let result: T;
  try {
    result = fn();
  } catch (error) {
    callFailed(startedAtMs);
    throw error;
  }
  // Read `then` once: a getter or a proxy sees one access, as with `await`.
  const then = (result as { then?: unknown } | null | undefined)?.then;
  if (typeof then === 'function') {
    // A new promise that settles exactly like the original (same value, same reason): attaching
    // handlers to the original instead would mark its rejection handled and hide it. Built with
    // `new Promise` so that any thenable, not only a native promise, gives a real promise back.
    return new Promise((resolve, reject) => {
      // A hand-made thenable may call back twice, or throw: count the call once.
      let settled = false;
      try {
        then.call(
          result,
          (value: unknown) => {
            if (settled) return;
            settled = true;
            callEnded(startedAtMs, value);
            resolve(value);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            callFailed(startedAtMs);
            reject(error);
          },
        );
      } catch (error) {
        if (settled) return;
        settled = true;
        callFailed(startedAtMs);
        reject(error);
      }
    }) as T;
  }
  callEnded(startedAtMs, result);
  return result;
}

// A call that ends after the last profiler stopped counts nothing (nor sets the text the next
// session compares its first one with).
function callFailed(startedAtMs: number): void {
  if (live) recordOcrCall(performance.now() - startedAtMs, undefined, true);
}

function callEnded(startedAtMs: number, result: unknown): void {
  if (live) recordOcrCall(performance.now() - startedAtMs, result, false);
}

/**
 * @internal Counts one timed call that took `latencyMs` (what `timeOcr` does once the call
 * ended); tests use it to feed known latencies.
 */
export function recordOcrCall(latencyMs: number, result: unknown, failed: boolean): void {
  recordLatency(pendingLatency, latencyMs);
  totals.calls++;
  if (failed) totals.errors++;
  if (result === null || typeof result !== 'object') return;
  try {
    readResult(result as ResultShape);
  } catch {
    // A throwing getter on the program's result must not reach the program: measure less instead.
  }
}

interface ResultShape {
  text?: unknown;
  confidence?: unknown;
  data?: { text?: unknown; confidence?: unknown } | null;
}

/** Confidence and text of `{ text, confidence }` or of tesseract.js's `{ data: { text, confidence } }`. */
function readResult(result: ResultShape): void {
  let text = result.text;
  let confidence = result.confidence;
  if (text === undefined || confidence === undefined) {
    const data = result.data;
    if (data !== null && typeof data === 'object') {
      if (text === undefined) text = data.text;
      if (confidence === undefined) confidence = data.confidence;
    }
  }
  if (typeof confidence === 'number' && Number.isFinite(confidence)) {
    totals.confidenceSum += confidence;
    totals.confidenceCount++;
  }
  if (typeof text === 'string') {
    totals.chars += text.length;
    totals.texts++;
    if (text === hub.previousText) totals.unchanged++;
    hub.previousText = text;
  }
}

function switchHotPath(): void {
  const on = windows.size > 0;
  for (const set of hub.switches) set(on);
  // A new session compares texts from its own first call on.
  if (!on) hub.previousText = null;
}

/**
 * Counts one OCR call (with no timing). Use it, `timeOcr`, or an instrumented tesseract.js
 * worker for a given call, not several: each counts the call.
 *
 * ```ts
 * trackOcrCall();
 * const text = myEngine.read(image);
 * ```
 */
export function trackOcrCall(): void {
  if (live) totals.calls++;
}

/**
 * Runs `fn()` and returns its result untouched, timing it as one OCR call. A promise (any
 * thenable) is timed until it settles: the returned promise resolves with the same value or
 * rejects with the same reason. When the result (or the resolved value) has `text` and
 * `confidence` (0-100), or tesseract.js's `data.text` and `data.confidence`, they are counted
 * too. A throw or rejection counts as an error and propagates unchanged.
 *
 * ```ts
 * const { data } = await timeOcr(() => worker.recognize(png));
 * ```
 */
export function timeOcr<T>(fn: () => T): T {
  return live ? timed(fn) : fn();
}

/** @internal for tests: whether the hot path is live, and the totals it keeps. */
export const hotPathState = {
  isLive: (): boolean => live,
  totals: (): Readonly<OcrTotals> => ({ ...totals }),
  windows: (): number => windows.size,
};
