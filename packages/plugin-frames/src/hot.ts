import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { SampleWriter } from '@loadlight/core';

// The hot path. Events bump cumulative totals and one shared latency histogram; each running
// profiler keeps the totals it last read and, while others run too, its own histogram, so two
// profilers both see every event and neither one's collect resets the other's. With no
// profiler running the exported functions return at once: nothing is counted or allocated.
// That state is on one hub on globalThis, shared by every copy of this module (the ESM and CJS
// builds, when a program loads both): a frame tracked through either reaches every profiler.

/**
 * Frame times are recorded as microseconds plus one (`record()` takes integers >= 1), rounded
 * with `| 0`: a small integer reaches the native histogram without boxing a double.
 */
const LATENCY_HIGHEST_US = 1_000_000_000;
/** Longer frames (over 1,000 s) are recorded as 1,000 s. */
const LATENCY_HIGHEST_MS = LATENCY_HIGHEST_US / 1000;

function createLatencyHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: LATENCY_HIGHEST_US + 1, figures: 3 });
}

/**
 * What every copy of this module counts into. Totals are cumulative (never reset: windows
 * subtract what they last read), plain number fields updated in place. Late frames are counted
 * per distinct frame budget among running profilers: budget 0 in plain fields (the usual
 * single-budget case, the cheapest path), further budgets in arrays.
 */
interface FramesHub {
  analysed: number;
  dropped: number;
  budget0Ms: number;
  late0: number;
  readonly extraBudgetsMs: number[];
  readonly extraLateTotals: number[];
  budgetCount: number;
  /** Frame times since the last drain into the windows' histograms. */
  readonly pending: RecordableHistogram;
  /** The open windows, whichever copy made them. */
  readonly windows: Set<LatencySlot>;
  /** One per loaded copy of this module: sets that copy's `live` and `manyBudgets` flags. */
  readonly switches: Array<(live: boolean, manyBudgets: boolean) => void>;
}

/** What the hub needs of a window (one of another copy is another class). */
interface LatencySlot {
  latency: RecordableHistogram | null;
}

// v1: a copy of a later version with another hub shape must use another key.
const HUB_KEY = Symbol.for('loadlight.plugin-frames.hot.v1');

const hub: FramesHub = ((globalThis as Record<symbol, unknown>)[HUB_KEY] ??= {
  analysed: 0,
  dropped: 0,
  budget0Ms: Infinity,
  late0: 0,
  extraBudgetsMs: [],
  extraLateTotals: [],
  budgetCount: 0,
  pending: createLatencyHistogram(),
  windows: new Set(),
  switches: [],
} satisfies FramesHub) as FramesHub;
const pendingLatency = hub.pending;
const windows = hub.windows;
const extraBudgetsMs = hub.extraBudgetsMs;
const extraLateTotals = hub.extraLateTotals;

/** The index of a frame budget among those counted, added when new. */
function budgetIndexOf(budgetMs: number): number {
  if (hub.budgetCount > 0 && hub.budget0Ms === budgetMs) return 0;
  const i = extraBudgetsMs.indexOf(budgetMs);
  if (i >= 0) return i + 1;
  if (hub.budgetCount === 0) {
    hub.budget0Ms = budgetMs;
    hub.late0 = 0;
  } else {
    extraBudgetsMs.push(budgetMs);
    extraLateTotals.push(0);
  }
  return hub.budgetCount++;
}

function lateTotal(budgetIndex: number): number {
  return budgetIndex === 0 ? hub.late0 : extraLateTotals[budgetIndex - 1]!;
}

function clearBudgets(): void {
  hub.budget0Ms = Infinity;
  hub.late0 = 0;
  extraBudgetsMs.length = 0;
  extraLateTotals.length = 0;
  hub.budgetCount = 0;
}

const LATENCY_NAMES = ['frames.latency.mean_ms', 'frames.latency.p50_ms', 'frames.latency.p95_ms', 'frames.latency.p99_ms', 'frames.latency.max_ms'];

/** One running profiler's view: what it last read, and the frame times since its last collect. */
export class FramesWindow {
  /**
   * Frame times handed on to this window while other windows run too (made then). A window
   * running alone reads the pending histogram itself: no copy, and no second ~170 KB histogram.
   */
  latency: RecordableHistogram | null = null;
  readonly targetFps: number;
  readonly budgetMs: number;
  readonly budgetIndex: number;
  private analysedSeen = hub.analysed;
  private droppedSeen = hub.dropped;
  private lateSeen: number;
  private lastAtMs = performance.now();

  constructor(targetFps: number) {
    this.targetFps = targetFps;
    this.budgetMs = 1000 / targetFps;
    this.budgetIndex = budgetIndexOf(this.budgetMs);
    this.lateSeen = lateTotal(this.budgetIndex);
  }

  /** Writes the tick's metrics: events since this window's previous collect (first: since start). */
  collect(w: SampleWriter): void {
    const now = performance.now();
    const elapsedMs = now - this.lastAtMs;
    this.lastAtMs = now;
    const histogram = latencySince(this);
    const analysedTotal = hub.analysed;
    const droppedTotal = hub.dropped;
    const analysed = analysedTotal - this.analysedSeen;
    const dropped = droppedTotal - this.droppedSeen;
    const late = lateTotal(this.budgetIndex) - this.lateSeen;
    this.analysedSeen = analysedTotal;
    this.droppedSeen = droppedTotal;
    this.lateSeen += late;

    const perMinute = elapsedMs > 0 ? 60_000 / elapsedMs : null;
    w.set('frames.analysed.count', analysed);
    w.set('frames.analysed.per_minute', perMinute === null ? null : analysed * perMinute);
    w.set('frames.fps', perMinute === null ? null : (analysed * perMinute) / 60);
    w.set('frames.target_fps', this.targetFps);
    w.set('frames.budget_ms', this.budgetMs);
    w.set('frames.late.per_minute', perMinute === null ? null : late * perMinute);
    w.set('frames.late.percent', analysed > 0 ? (late / analysed) * 100 : null);
    w.set('frames.dropped.per_minute', perMinute === null ? null : dropped * perMinute);

    // Alone again with its own histogram read (and emptied below): the pending one serves next.
    if (windows.size === 1 && histogram === this.latency) this.latency = null;
    if (histogram.count === 0) {
      for (const name of LATENCY_NAMES) w.set(name, null);
      return;
    }
    const ms = (us: number) => (us - 1) / 1000;
    w.set('frames.latency.mean_ms', ms(histogram.mean));
    w.set('frames.latency.p50_ms', ms(histogram.percentile(50)));
    w.set('frames.latency.p95_ms', ms(histogram.percentile(95)));
    w.set('frames.latency.p99_ms', ms(histogram.percentile(99)));
    w.set('frames.latency.max_ms', ms(histogram.max));
    histogram.reset();
  }
}

/** Hands the frame times recorded since the last drain to every open window (of any copy). */
function drain(): void {
  if (pendingLatency.count === 0) return;
  for (const window of windows) (window.latency ??= createLatencyHistogram()).add(pendingLatency);
  pendingLatency.reset();
}

/**
 * The histogram holding a window's frame times since its previous collect, for `collect` to
 * read and reset: the pending one itself when the window runs alone and holds none of its own,
 * else its own after a drain (the emptied pending one when nothing was ever handed on to it).
 */
function latencySince(window: FramesWindow): RecordableHistogram {
  if (windows.size === 1 && windows.has(window) && window.latency === null) return pendingLatency;
  drain();
  return window.latency ?? pendingLatency;
}

/** Starts counting for one profiler; the hot path switches on with the first window. */
export function openWindow(targetFps: number): FramesWindow {
  drain();
  const window = new FramesWindow(targetFps);
  windows.add(window);
  switchHotPath();
  return window;
}

/** Stops counting for one profiler; the hot path switches off with the last window. */
export function closeWindow(window: FramesWindow): void {
  // Its pending latencies go to the windows still open (dropped when none is).
  windows.delete(window);
  drain();
  window.latency = null;
  if (windows.size === 0) clearBudgets();
  switchHotPath();
}

// ---------------------------------------------------------------------------------------------
// The functions the program calls. Each tests one module-level flag on entry, set for every copy
// through `hub.switches` when any window opens or closes, and returns at once when no profiler
// runs. Measured on Node 20 (V8): calling through a swapped function variable costs more (21 ns
// against 16 ns for a timed frame), because once the variable has held two functions its call
// site is megamorphic and no longer inlined. Each evaluation of this module adds one switch for
// good: a stale one (a test runner re-evaluating modules) only sets flags nobody reads.

/** Whether any profiler is running (the hot path counts). */
let live = windows.size > 0;
/** Whether running profilers have different frame budgets (late frames counted per budget). */
let manyBudgets = hub.budgetCount > 1;
hub.switches.push((on, many) => {
  live = on;
  manyBudgets = many;
});

/** One analysed frame with its time (ms >= 0 checked by the caller). */
function recordFrame(ms: number): void {
  hub.analysed++;
  pendingLatency.record(ms < LATENCY_HIGHEST_MS ? (ms * 1000 + 1.5) | 0 : LATENCY_HIGHEST_US + 1);
  if (ms > hub.budget0Ms) hub.late0++;
  if (manyBudgets) countLateExtra(ms);
}

/** Kept out of `recordFrame` so that the usual path stays small enough to inline. */
function countLateExtra(ms: number): void {
  for (let i = 0; i < extraBudgetsMs.length; i++) if (ms > extraBudgetsMs[i]!) extraLateTotals[i]!++;
}

function switchHotPath(): void {
  const on = windows.size > 0;
  const many = hub.budgetCount > 1;
  for (const set of hub.switches) set(on, many);
}

function noop(): void {}

// frameStart()/frameTimer(): frames in flight live in a ring of preallocated slots. frameStart
// returns a token (a small integer: the slot's sequence number) and keeps the start time in the
// slot, so a token is ended at most once, and frameTimer hands out the slot's end function
// instead of a new closure. A token that no longer matches its slot (ended already, or
// overwritten after more than FRAMES_IN_FLIGHT later starts) counts nothing. The only
// allocation left is Node's: performance.now() returns a boxed double (16 bytes a reading, two
// a frame) when the caller is not inlined; process.hrtime() avoids that only when V8 happens to
// inline it, and costs more. The ring is per copy of this module (not on the hub): a frame is
// started and ended through the same copy.
const FRAMES_IN_FLIGHT = 1024;
const SLOT_MASK = FRAMES_IN_FLIGHT - 1;
const MAX_TOKEN = 0x3fff_ffff; // stays a small integer (V8 Smi)
const slotStartsMs = new Float64Array(FRAMES_IN_FLIGHT);
const slotTokens = new Int32Array(FRAMES_IN_FLIGHT);
let lastToken = 0;

function startFrame(): number {
  lastToken = lastToken === MAX_TOKEN ? 1 : lastToken + 1;
  const slot = lastToken & SLOT_MASK;
  slotStartsMs[slot] = performance.now();
  slotTokens[slot] = lastToken;
  return lastToken;
}

function endFrame(token: number): void {
  const slot = token & SLOT_MASK;
  if (slotTokens[slot] !== token) return;
  slotTokens[slot] = 0;
  if (live) recordFrame(performance.now() - slotStartsMs[slot]!);
}

/**
 * The token each slot's frameTimer end function ends. A second end() finds its frame ended and
 * counts nothing; but once the slot serves another frameTimer (1,024 starts later), the old
 * function is the new frame's end too: call end() once.
 */
const timerTokens = new Int32Array(FRAMES_IN_FLIGHT);
/** One end function per slot, made all at once by the first frameTimer() and reused. */
let timerEnds: ReadonlyArray<() => void> | null = null;

function endTimer(slot: number): void {
  endFrame(timerTokens[slot]!);
}

function makeTimerEnds(): ReadonlyArray<() => void> {
  return Array.from({ length: FRAMES_IN_FLIGHT }, (_, slot) => () => endTimer(slot));
}

function timerEnd(token: number): () => void {
  const slot = token & SLOT_MASK;
  timerTokens[slot] = token;
  return (timerEnds ??= makeTimerEnds())[slot]!;
}

/**
 * Counts one analysed frame; with `ms`, its analysis time (a frame over the budget,
 * `1000 / targetFps`, is late). The cheapest way to report a frame when you already have its
 * time.
 *
 * ```ts
 * const t0 = performance.now();
 * analyse(frame);
 * trackFrame(performance.now() - t0);
 * ```
 */
export function trackFrame(ms?: number): void {
  if (!live) return;
  // Comparisons with undefined and NaN are false: such a frame is counted, not timed.
  if ((ms as number) >= 0) recordFrame(ms as number);
  else hub.analysed++;
}

/** Counts one frame skipped without analysis (for example because the previous one ran late). */
export function trackFrameDropped(): void {
  if (live) hub.dropped++;
}

/**
 * Starts timing a frame; pass the returned token to `frameEnd`. The token is a small integer
 * naming the frame (up to 1,024 frames may be in flight at once); it is 0 while no profiler runs,
 * and `frameEnd(0)` counts nothing. Allocation-free.
 *
 * ```ts
 * const t = frameStart();
 * analyse(frame);
 * frameEnd(t);
 * ```
 */
export function frameStart(): number {
  return live ? startFrame() : 0;
}

/** Ends a frame begun with `frameStart()`: counts it with its analysis time (once). */
export function frameEnd(token: number): void {
  // 0 comes from frameStart() while no profiler ran: that frame is not counted.
  if (live && token > 0) endFrame(token);
}

/**
 * Starts timing a frame; call the returned function when the frame is analysed (a second call
 * counts nothing). The function is not made per frame: each of the 1,024 slots of frames in
 * flight has one, made once and reused. `frameStart`/`frameEnd` costs slightly less.
 *
 * ```ts
 * const end = frameTimer();
 * await analyse(frame);
 * end();
 * ```
 */
export function frameTimer(): () => void {
  return live ? timerEnd(startFrame()) : noop;
}

/** @internal for tests: whether this copy's hot path is live, and the hub's totals. */
export const hotPathState = {
  isLive: (): boolean => live,
  noopEnd: noop as () => void,
  totals: () => ({ analysed: hub.analysed, dropped: hub.dropped, late0: hub.late0, budgets: hub.budgetCount }),
  windows: (): number => windows.size,
  framesInFlight: FRAMES_IN_FLIGHT,
};
