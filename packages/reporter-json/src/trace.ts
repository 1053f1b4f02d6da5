import { basename } from 'node:path';
import {
  describeError,
  sessionSeries,
  type Profiler,
  type SessionProfile,
  type TraceRecording,
  type TraceSource,
  type TraceSpan,
} from '@loadlight/core';
import { displayPath, writeFileAtomic, writeFileAtomicSync } from './atomic.js';

/**
 * The JSON reporter's `trace` option: module calls written beside the session as a Chrome trace
 * (`<session>.trace.json`, the Trace Event Format), for Perfetto or chrome://tracing.
 */
export interface TraceOptions {
  /** The most calls written: the newest are kept, the older dropped and counted. Default 100,000. */
  maxEvents?: number;
}

/** `true` for the defaults, or the options. */
export type TraceOption = boolean | TraceOptions;

export const DEFAULT_TRACE_MAX_EVENTS = 100_000;
export const MAX_TRACE_EVENTS = 1_000_000;

/** `true`/`false` or `{ maxEvents }` (the object keywords apply to an object only). */
export const traceOptionSchema = {
  type: ['boolean', 'object'],
  additionalProperties: false,
  properties: { maxEvents: { type: 'integer', minimum: 1, maximum: MAX_TRACE_EVENTS } },
};

/**
 * Metrics written as counter tracks when the session has them, in this order (plus each watched
 * worker's `cpu_percent`), at most MAX_COUNTERS in all: one counter event per sample each.
 */
export const KEY_COUNTERS = [
  'process.cpu.percent',
  'process.heap.used_mb',
  'process.memory.rss_mb',
  'process.event_loop.delay_max_ms',
  'system.cpu.percent',
];
export const MAX_COUNTERS = 8;
/** Async calls of a thread overlap: they are laid out on at most this many tracks besides its own, one call at a time each. */
export const MAX_ASYNC_TRACKS = 32;
/** Names and categories longer than this are cut, so that an event's size is bounded. */
const MAX_TEXT = 200;
/** Times that differ by at most this (ns) are taken as equal when nesting calls (clock rounding). */
const NEST_TOLERANCE_NS = 1_000;
const CHUNK_CHARS = 1 << 16;

/** `<dir>/<id>.json` -> `<dir>/<id>.trace.json`. */
export function traceFileFor(sessionFile: string): string {
  return `${sessionFile.endsWith('.json') ? sessionFile.slice(0, -'.json'.length) : sessionFile}.trace.json`;
}

/** The recorders offered as `trace` (plugin-modules' calls). */
function sourcesOf(profiler: Profiler): readonly TraceSource[] {
  return typeof profiler.provided === 'function' ? profiler.provided('trace') : [];
}

/** What goes into a trace file, besides the session. */
export interface TraceInput {
  profile: SessionProfile;
  recordings: Array<{ plugin: string; recording: TraceRecording }>;
  maxEvents: number;
  /** The session file's name, for the metadata. */
  sessionFile?: string;
}

interface Track {
  tid: number;
  name: string;
  /** Indices into the placed spans, in start order. */
  spans: number[];
}

interface Placed {
  span: TraceSpan;
  ts: number; // ns from the origin
  end: number; // ns from the origin
}

/** Summary of a written trace (also its `metadata`). */
export interface TraceSummary {
  /** Call events written. */
  calls: number;
  /** Calls recorded but not written: the oldest, beyond `maxEvents` (at recording or here). */
  dropped: number;
  /** Async calls left out because more overlapped on a thread than MAX_ASYNC_TRACKS tracks hold. */
  unplaced: number;
  counters: string[];
  tracks: number;
}

/**
 * The trace file's text in chunks: a Trace Event Format object (`traceEvents`, `displayTimeUnit`,
 * `metadata`). Each call is a complete event (`ph: 'X'`, `ts` and `dur` in microseconds from the
 * session's start) on its thread's track: synchronous calls nest there as they ran; async calls
 * (which overlap without calling each other) go on the thread's async tracks, one at a time each.
 * Metadata events name the process and tracks; counter events (`ph: 'C'`) carry key metrics.
 */
export function traceJsonChunks(input: TraceInput, summary?: (s: TraceSummary) => void): Iterable<string> {
  const { profile, maxEvents } = input;
  const pid = profile.pid;

  // The newest maxEvents spans overall (each recording holds them in the order they ended).
  let dropped = 0;
  let all: TraceSpan[] = [];
  const threadNames = new Map<number, string>();
  const workerModules: string[] = [];
  for (const { recording } of input.recordings) {
    dropped += recording.dropped;
    for (const span of recording.spans) all.push(span);
    for (const thread of recording.threads) {
      if (!threadNames.has(thread.id)) threadNames.set(thread.id, thread.name);
      if (thread.module !== undefined && !workerModules.includes(thread.module)) workerModules.push(thread.module);
    }
  }
  if (all.length > maxEvents) {
    if (input.recordings.length > 1) all.sort((a, b) => a.startMs + a.durationMs - (b.startMs + b.durationMs));
    dropped += all.length - maxEvents;
    all = all.slice(all.length - maxEvents);
  }

  const sessionStart = Date.parse(profile.startedAt);
  let origin = Number.isFinite(sessionStart) ? sessionStart : Infinity;
  for (const span of all) if (span.startMs < origin) origin = span.startMs;
  if (!Number.isFinite(origin)) origin = 0;

  // Per thread, in start order (the longer first on ties: a parent before its child).
  const placed: Placed[] = all.map((span) => {
    const ts = Math.max(0, Math.round((span.startMs - origin) * 1e6));
    return { span, ts, end: Math.max(ts, Math.round((span.startMs + span.durationMs - origin) * 1e6)) };
  });
  const byThread = new Map<number, number[]>();
  placed.forEach((p, i) => {
    const list = byThread.get(p.span.thread);
    if (list) list.push(i);
    else byThread.set(p.span.thread, [i]);
  });
  // The main thread (0) first, then by id.
  const threadIds = [...new Set([...threadNames.keys(), ...byThread.keys()])].sort((a, b) => a - b);
  const tracks: Track[] = [];
  let unplaced = 0;
  for (const thread of threadIds) {
    const indices = byThread.get(thread) ?? [];
    indices.sort((a, b) => placed[a]!.ts - placed[b]!.ts || placed[b]!.end - placed[a]!.end);
    const name = threadNames.get(thread) ?? `thread ${thread}`;
    const lanes: Track[] = [{ tid: 0, name, spans: [] }];
    const open: number[][] = [[]];
    for (const i of indices) {
      const p = placed[i]!;
      let lane = p.span.async ? 1 : 0;
      for (; lane <= MAX_ASYNC_TRACKS; lane++) {
        if (lane === lanes.length) {
          lanes.push({ tid: 0, name: `${name}: async calls${lane > 1 ? ` (${lane})` : ''}`, spans: [] });
          open.push([]);
        }
        if (fits(placed, open[lane]!, p, lane > 0)) break;
      }
      if (lane > MAX_ASYNC_TRACKS) {
        unplaced++;
        continue;
      }
      open[lane]!.push(i);
      lanes[lane]!.spans.push(i);
    }
    for (const lane of lanes) {
      // The thread's own track is named even when empty; an unused async track is left out.
      if (lane.spans.length === 0 && lane !== lanes[0]) continue;
      lane.tid = tracks.length + 1;
      tracks.push(lane);
    }
  }

  const counters = countersOf(profile, workerModules);
  const written = placed.length - unplaced;
  const facts: TraceSummary = { calls: written, dropped, unplaced, counters: counters.map((c) => c.name), tracks: tracks.length };
  summary?.(facts);

  const metadata = {
    source: 'loadlight',
    sessionId: profile.sessionId,
    ...(input.sessionFile !== undefined ? { sessionFile: input.sessionFile } : {}),
    startedAt: profile.startedAt,
    // Epoch ms of ts 0 (the session's start, or an earlier call's).
    timeOriginMs: origin,
    maxEvents,
    calls: written,
    dropped,
    unplaced,
    sources: input.recordings.map(({ plugin, recording }) => ({ plugin, spans: recording.spans.length, dropped: recording.dropped })),
    counters: facts.counters,
  };

  return (function* chunks(): Generator<string> {
    let out = `{"displayTimeUnit":"ms","metadata":${JSON.stringify(metadata)},"traceEvents":[`;
    let first = true;
    const add = (event: string): string | null => {
      out += first ? event : `,${event}`;
      first = false;
      if (out.length < CHUNK_CHARS) return null;
      const chunk = out;
      out = '';
      return chunk;
    };
    const meta = (tid: number, name: string, args: Record<string, unknown>): string =>
      `{"name":${JSON.stringify(name)},"ph":"M","pid":${pid},"tid":${tid},"args":${JSON.stringify(args)}}`;
    const events: string[] = [
      meta(0, 'process_name', { name: `loadlight ${cut(profile.sessionId)}` }),
    ];
    for (const track of tracks) {
      events.push(meta(track.tid, 'thread_name', { name: cut(track.name) }), meta(track.tid, 'thread_sort_index', { sort_index: track.tid }));
    }
    for (const event of events) {
      const chunk = add(event);
      if (chunk !== null) yield chunk;
    }
    for (const track of tracks) {
      for (const i of track.spans) {
        const p = placed[i]!;
        const span = p.span;
        const cat = span.tags.length > 0 ? span.tags.join(',') : 'module';
        const chunk = add(
          `{"name":${JSON.stringify(cut(span.name))},"cat":${JSON.stringify(cut(cat))},"ph":"X","ts":${p.ts / 1000},"dur":${(p.end - p.ts) / 1000},` +
            `"pid":${pid},"tid":${track.tid}${span.failed ? ',"args":{"failed":true}' : ''}}`,
        );
        if (chunk !== null) yield chunk;
      }
    }
    const t = profile.samples.t;
    for (const counter of counters) {
      for (let i = 0; i < t.length; i++) {
        const v = counter.values[i];
        if (v === null || v === undefined || !Number.isFinite(v)) continue;
        const ts = Math.max(0, Math.round((t[i]! - origin) * 1e6)) / 1000;
        const chunk = add(`{"name":${JSON.stringify(counter.name)},"ph":"C","ts":${ts},"pid":${pid},"args":{"value":${v}}}`);
        if (chunk !== null) yield chunk;
      }
    }
    yield `${out}]}\n`;
  })();
}

/**
 * Whether span `p` fits on a track, given the calls still open there (those that ended before it
 * are popped): on a thread's own track it must nest in the innermost open call; on an async track
 * (`alone`) nothing may be open, as overlapping async calls do not call each other.
 */
function fits(placed: Placed[], open: number[], p: Placed, alone: boolean): boolean {
  while (open.length > 0 && placed[open[open.length - 1]!]!.end <= p.ts) open.pop();
  if (open.length === 0) return true;
  if (alone) return false;
  const parent = placed[open[open.length - 1]!]!;
  if (p.end <= parent.end) return true;
  // Clock rounding: a child that ends a hair after its parent is its parent's.
  if (p.end - parent.end <= NEST_TOLERANCE_NS) {
    p.end = parent.end;
    return true;
  }
  return false;
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

function countersOf(profile: SessionProfile, workerModules: string[]): Array<{ name: string; values: Array<number | null> }> {
  const names = [...KEY_COUNTERS, ...workerModules.map((m) => `module.${m}.cpu_percent`)];
  const out: Array<{ name: string; values: Array<number | null> }> = [];
  for (const name of names) {
    if (out.length >= MAX_COUNTERS) break;
    if (!Object.hasOwn(profile.catalogue, name)) continue;
    const values = sessionSeries(profile, name);
    if (values.some((v) => v !== null)) out.push({ name, values });
  }
  return out;
}

/** Text chunks as UTF-8 bytes, for the atomic writers. */
function* utf8(chunks: Iterable<string>): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  for (const chunk of chunks) yield encoder.encode(chunk);
}

/**
 * The `trace` option at work: enables the profiler's trace sources when it starts and writes
 * `<session>.trace.json` after the session (atomically, like it). A failure is a warning: the
 * session is already written.
 */
export class TraceExport {
  readonly maxEvents: number;
  private readonly quiet: boolean;

  constructor(option: TraceOption | undefined, quiet: boolean) {
    this.maxEvents = option === true ? DEFAULT_TRACE_MAX_EVENTS : typeof option === 'object' && option !== null ? (option.maxEvents ?? DEFAULT_TRACE_MAX_EVENTS) : 0;
    this.quiet = quiet;
  }

  get enabled(): boolean {
    return this.maxEvents > 0;
  }

  /** In the reporter's `start` tap, after the sources' own `start` taps. */
  start(profiler: Profiler): void {
    if (!this.enabled) return;
    const sources = sourcesOf(profiler);
    if (sources.length === 0) {
      profiler.warn('json: trace is on, but no plugin records calls for it (add the modules plugin); the trace will hold counters only');
    }
    for (const source of sources) {
      try {
        source.enable({ maxEvents: this.maxEvents });
      } catch (error) {
        profiler.warn(`json: the ${source.plugin} plugin could not start recording a trace: ${describeError(error)}`);
      }
    }
  }

  async write(profiler: Profiler, sessionFile: string, profile: SessionProfile): Promise<void> {
    if (!this.enabled) return;
    const file = traceFileFor(sessionFile);
    try {
      await writeFileAtomic(file, utf8(traceJsonChunks(this.input(profiler, sessionFile, profile), (s) => this.check(profiler, s))));
      this.written(file);
    } catch (error) {
      profiler.warn(`json: could not write the trace to ${displayPath(file)}: ${describeError(error)}`);
    }
  }

  /** For `process.on('exit')`. */
  writeSync(profiler: Profiler, sessionFile: string, profile: SessionProfile): void {
    if (!this.enabled) return;
    const file = traceFileFor(sessionFile);
    try {
      writeFileAtomicSync(file, utf8(traceJsonChunks(this.input(profiler, sessionFile, profile), (s) => this.check(profiler, s))));
      this.written(file);
    } catch (error) {
      profiler.warn(`json: could not write the trace to ${displayPath(file)} on exit: ${describeError(error)}`);
    }
  }

  private input(profiler: Profiler, sessionFile: string, profile: SessionProfile): TraceInput {
    const recordings = sourcesOf(profiler).map((source) => ({ plugin: source.plugin, recording: source.read() }));
    return { profile, recordings, maxEvents: this.maxEvents, sessionFile: basename(sessionFile) };
  }

  private check(profiler: Profiler, summary: TraceSummary): void {
    if (summary.unplaced > 0) {
      profiler.warn(
        `json: ${summary.unplaced} async calls are not in the trace: more than ${MAX_ASYNC_TRACKS} overlapped on one thread ` +
          "(the trace's metadata counts them as unplaced)",
      );
    }
  }

  private written(file: string): void {
    if (!this.quiet) process.stderr.write(`[loadlight] trace written to ${displayPath(file)} (open it in https://ui.perfetto.dev)\n`);
  }
}
