import { performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import { LoadlightError, type TraceRecording, type TraceSource, type TraceSpan } from '@loadlight/core';
import { PLUGIN_NAME } from './names.js';
import { hot, runtime, type ModuleSlot, type WorkerWatch } from './runtime.js';

// A recorded call's flags, in the low bits of its `info`; the thread it ran on is in the others.
/** It threw or rejected. */
export const FAILED = 1;
/** It ran across an await (an async call, a span ended in a later run). */
export const ASYNC = 2;
/** Not a call: the life of a watched worker thread. */
const WORKER = 4;
const THREAD_SHIFT = 3;
/** Thread ids above this do not fit beside the flags (never seen: Node counts threads from 1). */
const MAX_THREAD = 2 ** (32 - THREAD_SHIFT) - 1;

/** Bytes a recorded call takes in the ring: module id, start, duration, info. */
export const BYTES_PER_CALL = 4 + 8 + 8 + 4;
/** Largest ring a profiler may ask for (24 MB). */
export const MAX_TRACE_EVENTS = 1_000_000;

const ownThread = Math.min(threadId, MAX_THREAD) << THREAD_SHIFT;

/**
 * Finished calls, the newest `capacity` kept: one row per call in preallocated typed arrays
 * (module id, start, duration, thread and flags; 24 bytes a call). Calls are numbered from the
 * ring's creation; call `n` sits at row `n % capacity` while it is kept. Process-wide (in
 * `runtime.trace`) while any plugin instance traces, like the modules' counters.
 */
export class CallRing {
  readonly capacity: number;
  readonly module: Int32Array;
  readonly start: Float64Array;
  readonly duration: Float64Array;
  readonly info: Uint32Array;
  /** Calls appended so far; the numbers of those kept are `oldest` to `written - 1`. */
  written = 0;
  private cursor = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.module = new Int32Array(capacity);
    this.start = new Float64Array(capacity);
    this.duration = new Float64Array(capacity);
    this.info = new Uint32Array(capacity);
  }

  push(module: number, start: number, duration: number, info: number): void {
    const i = this.cursor;
    this.module[i] = module;
    this.start[i] = start;
    this.duration[i] = duration;
    this.info[i] = info;
    this.cursor = i + 1 === this.capacity ? 0 : i + 1;
    this.written++;
  }

  /** The number of the oldest call kept. */
  get oldest(): number {
    return Math.max(0, this.written - this.capacity);
  }

  /** A larger ring holding the same calls under the same numbers. */
  grown(capacity: number): CallRing {
    const next = new CallRing(capacity);
    for (let n = this.oldest; n < this.written; n++) {
      copyRow(this, n % this.capacity, next, n % capacity);
    }
    next.written = this.written;
    next.cursor = this.written % capacity;
    return next;
  }
}

// ---------------------------------------------------------------------------------------------
// The hot path calls these only while `hot.tracing > 0` (one flag check otherwise).
// ---------------------------------------------------------------------------------------------

/** Appends a finished call of `slot` that began at `t0` (performance.now()) and took `ms`. */
export function traceCall(slot: ModuleSlot, t0: number, ms: number, flags: number): void {
  const ring = runtime.trace as CallRing | null;
  if (ring !== null) ring.push(slot.id, t0, ms, ownThread | flags);
}

/** A watched worker exited (or is no longer watched): its life becomes a span on its own track. */
export function traceWorkerExit(watch: WorkerWatch): void {
  const ring = runtime.trace as CallRing | null;
  if (ring === null) return;
  const t = performance.now();
  ring.push(watch.slot.id, watch.watchedAt, t - watch.watchedAt, workerInfo(watch));
}

/** The `info` of a watched worker's span: its thread, flagged WORKER. */
function workerInfo(watch: WorkerWatch): number {
  return (Math.min(watch.threadId, MAX_THREAD) << THREAD_SHIFT) | WORKER;
}

/** The columns of recorded calls: the ring's, or rows copied out of it. */
interface Columns {
  readonly module: Int32Array;
  readonly start: Float64Array;
  readonly duration: Float64Array;
  readonly info: Uint32Array;
}

/** Copies row `from` of `source` into row `to` of `target`. */
function copyRow(source: Columns, from: number, target: Columns, to: number): void {
  target.module[to] = source.module[from]!;
  target.start[to] = source.start[from]!;
  target.duration[to] = source.duration[from]!;
  target.info[to] = source.info[from]!;
}

/** Rows copied out of the ring: what one recording holds. */
interface Rows extends Columns {
  dropped: number;
}

/**
 * One plugin instance's trace: the calls that finished while its profiler ran with tracing
 * enabled (by an exporter, through `profiler.provided('trace')`), kept in the process-wide ring
 * and copied out when the profiler stops, so that the session's exporters can still read them.
 */
export class ModuleTrace implements TraceSource {
  readonly plugin = PLUGIN_NAME;
  /** The most calls kept; 0 until an exporter enables tracing. */
  private maxEvents = 0;
  private running = false;
  /** Counted in `hot.tracing`. */
  private tracing = false;
  /** Number of the first call of this recording in the ring. */
  private from = 0;
  /** performance.now() when recording began: watched workers' spans start there at the earliest. */
  private beganAt = 0;
  /** Copied out at stop. */
  private kept: Rows | null = null;

  enable(options: { maxEvents: number }): void {
    const maxEvents = options?.maxEvents;
    if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_TRACE_EVENTS) {
      throw new LoadlightError(
        'PLUGIN_OPTIONS_INVALID',
        `trace: maxEvents must be an integer from 1 to ${MAX_TRACE_EVENTS.toLocaleString('en-US')}, got ${String(maxEvents)}`,
        { plugin: PLUGIN_NAME },
      );
    }
    this.maxEvents = Math.max(this.maxEvents, maxEvents);
    if (this.running) this.begin();
  }

  /** Whether an exporter enabled tracing (and the profiler has not stopped). */
  get recording(): boolean {
    return this.tracing;
  }

  start(): void {
    this.running = true;
    this.kept = null;
    if (this.maxEvents > 0) this.begin();
  }

  stop(): void {
    this.running = false;
    if (!this.tracing) return;
    this.kept = this.copy();
    this.tracing = false;
    if (--hot.tracing === 0) runtime.trace = null;
  }

  read(): TraceRecording {
    const rows = this.kept ?? (this.tracing ? this.copy() : null);
    return rows ? recordingOf(rows) : { spans: [], dropped: 0, threads: [ownThreadInfo()] };
  }

  private begin(): void {
    let ring = runtime.trace as CallRing | null;
    if (ring === null) runtime.trace = ring = new CallRing(this.maxEvents);
    else if (ring.capacity < this.maxEvents) runtime.trace = ring = ring.grown(this.maxEvents);
    if (this.tracing) return;
    this.from = ring.written;
    this.beganAt = performance.now();
    this.tracing = true;
    hot.tracing++;
  }

  /** This recording's newest calls (at most `maxEvents`), and the live watched workers' spans so far. */
  private copy(): Rows {
    const ring = runtime.trace as CallRing;
    const last = ring.written;
    const first = Math.max(this.from, ring.oldest, last - this.maxEvents);
    const live: WorkerWatch[] = [];
    for (const slot of runtime.slots.values()) {
      if (slot.kind !== 'worker') continue;
      for (const watch of slot.workers) if (!watch.exited) live.push(watch);
    }
    const n = last - first + live.length;
    const rows: Rows = {
      module: new Int32Array(n),
      start: new Float64Array(n),
      duration: new Float64Array(n),
      info: new Uint32Array(n),
      dropped: first - this.from,
    };
    let j = 0;
    for (let c = first; c < last; c++, j++) copyRow(ring, c % ring.capacity, rows, j);
    const now = performance.now();
    for (const watch of live) {
      rows.module[j] = watch.slot.id;
      rows.start[j] = watch.watchedAt;
      rows.duration[j] = now - watch.watchedAt;
      rows.info[j++] = workerInfo(watch);
    }
    // A worker watched before recording began: its span starts with the recording.
    for (let k = 0; k < n; k++) {
      if ((rows.info[k]! & WORKER) === 0 || rows.start[k]! >= this.beganAt) continue;
      rows.duration[k] = Math.max(0, rows.start[k]! + rows.duration[k]! - this.beganAt);
      rows.start[k] = this.beganAt;
    }
    return rows;
  }
}

function ownThreadInfo(): { id: number; name: string } {
  return { id: threadId, name: isMainThread ? 'main thread' : `worker thread ${threadId}` };
}

/** The rows as spans, with the threads they ran on. */
function recordingOf(rows: Rows): TraceRecording {
  const byId = new Map<number, ModuleSlot>();
  for (const slot of runtime.slots.values()) byId.set(slot.id, slot);
  const origin = performance.timeOrigin;
  const spans: TraceSpan[] = [];
  const threads = new Map<number, { id: number; name: string; module?: string }>();
  const own = ownThreadInfo();
  threads.set(own.id, own);
  for (let k = 0; k < rows.module.length; k++) {
    const slot = byId.get(rows.module[k]!);
    if (!slot) continue;
    const info = rows.info[k]!;
    const thread = info >>> THREAD_SHIFT;
    if ((info & WORKER) !== 0 && !threads.has(thread)) {
      threads.set(thread, { id: thread, name: `worker thread ${thread} (${slot.name})`, module: slot.name });
    }
    spans.push({
      name: slot.name,
      tags: slot.tags,
      startMs: origin + rows.start[k]!,
      durationMs: Math.max(0, rows.duration[k]!),
      thread,
      async: (info & ASYNC) !== 0,
      failed: (info & FAILED) !== 0,
    });
  }
  return { spans, dropped: rows.dropped, threads: [...threads.values()] };
}
