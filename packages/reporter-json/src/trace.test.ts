import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Profiler, validateSession, type SessionProfile, type TraceRecording, type TraceSpan } from '@loadlight/core';
import { createTestProfiler, stopTestProfilers } from '@loadlight/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadlight, tempProject } from '../../../test/helpers.js';
import json from './index.js';
import { MAX_ASYNC_TRACKS, traceFileFor, traceJsonChunks, type TraceInput } from './trace.js';

afterEach(() => stopTestProfilers());

// ---------------------------------------------------------------------------------------------
// A checker of the Trace Event Format (JSON object form), as far as this trace uses it: what
// Perfetto and chrome://tracing need to open the file and lay out its tracks.
// ---------------------------------------------------------------------------------------------

type TraceEvent = Record<string, unknown>;
interface TraceDoc {
  traceEvents: TraceEvent[];
  displayTimeUnit: string;
  metadata: Record<string, any>;
}

const METADATA_NAMES = new Set(['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index']);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
/** Microseconds with up to 3 decimals, as integer nanoseconds. */
const ns = (us: number): number => Math.round(us * 1000);

/** What is wrong with a trace document; empty when nothing is. */
function checkTrace(doc: unknown): string[] {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['the document is not a JSON object'];
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.traceEvents)) return ['traceEvents is not an array'];
  if (d.displayTimeUnit !== 'ms' && d.displayTimeUnit !== 'ns') problems.push(`displayTimeUnit is ${String(d.displayTimeUnit)}`);
  if (typeof d.metadata !== 'object' || d.metadata === null) problems.push('metadata is not an object');
  const threadNames = new Map<string, string>();
  const processNames = new Set<number>();
  const open = new Map<string, Array<{ ts: number; end: number }>>();
  const lastTs = new Map<string, number>();
  const xTracks = new Set<string>();
  (d.traceEvents as unknown[]).forEach((raw, i) => {
    const at = `event ${i}`;
    if (typeof raw !== 'object' || raw === null) return problems.push(`${at} is not an object`);
    const e = raw as TraceEvent;
    if (typeof e.name !== 'string' || e.name === '') problems.push(`${at}: name is not a non-empty string`);
    if (!isInt(e.pid)) problems.push(`${at}: pid is not an integer`);
    const track = `${String(e.pid)}/${String(e.tid)}`;
    switch (e.ph) {
      case 'M': {
        if (!METADATA_NAMES.has(e.name as string)) problems.push(`${at}: unknown metadata event ${String(e.name)}`);
        if (!isInt(e.tid)) problems.push(`${at}: tid is not an integer`);
        const args = e.args as Record<string, unknown> | undefined;
        if (typeof args !== 'object' || args === null) problems.push(`${at}: args is not an object`);
        else if (String(e.name).endsWith('_name') && typeof args.name !== 'string') problems.push(`${at}: args.name is not a string`);
        else if (String(e.name).endsWith('_sort_index') && !isInt(args.sort_index)) problems.push(`${at}: args.sort_index is not an integer`);
        if (e.name === 'thread_name' && args) threadNames.set(track, String(args.name));
        if (e.name === 'process_name' && isInt(e.pid)) processNames.add(e.pid);
        break;
      }
      case 'X': {
        if (!isInt(e.tid)) problems.push(`${at}: tid is not an integer`);
        if (typeof e.cat !== 'string' || e.cat === '') problems.push(`${at}: cat is not a non-empty string`);
        if (!isTime(e.ts)) problems.push(`${at}: ts is not a non-negative number`);
        if (!isTime(e.dur)) problems.push(`${at}: dur is not a non-negative number`);
        if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null)) problems.push(`${at}: args is not an object`);
        if (!isTime(e.ts) || !isTime(e.dur)) break;
        xTracks.add(track);
        const ts = ns(e.ts);
        const end = ns(e.ts + e.dur);
        const previous = lastTs.get(track);
        if (previous !== undefined && ts < previous) problems.push(`${at}: ts goes back on track ${track}`);
        lastTs.set(track, ts);
        // Complete events of one track must nest: each inside the innermost one still open.
        const stack = open.get(track) ?? [];
        while (stack.length > 0 && stack[stack.length - 1]!.end <= ts) stack.pop();
        const parent = stack[stack.length - 1];
        if (parent && end > parent.end) problems.push(`${at}: overlaps an event of track ${track} without nesting in it`);
        stack.push({ ts, end });
        open.set(track, stack);
        break;
      }
      case 'C': {
        if (!isTime(e.ts)) problems.push(`${at}: ts is not a non-negative number`);
        const args = e.args as Record<string, unknown> | undefined;
        if (typeof args !== 'object' || args === null || Object.keys(args).length === 0) problems.push(`${at}: a counter needs args`);
        else for (const [k, v] of Object.entries(args)) if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${at}: counter value ${k} is not a number`);
        break;
      }
      default:
        problems.push(`${at}: unexpected phase ${String(e.ph)}`);
    }
  });
  for (const track of xTracks) if (!threadNames.has(track)) problems.push(`track ${track} has no thread_name`);
  for (const e of d.traceEvents as TraceEvent[]) {
    if (isInt(e?.pid) && !processNames.has(e.pid)) {
      problems.push(`process ${e.pid} has no process_name`);
      break;
    }
  }
  return problems;
}

function parse(text: string): TraceDoc {
  return JSON.parse(text) as TraceDoc;
}

const xEvents = (doc: TraceDoc): TraceEvent[] => doc.traceEvents.filter((e) => e.ph === 'X');
const trackNames = (doc: TraceDoc): Map<number, string> =>
  new Map(doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid as number, (e.args as { name: string }).name]));

describe('checkTrace (the checker the other tests rely on)', () => {
  const meta = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'p' } },
    { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 't' } },
  ];
  const doc = (events: object[]) => ({ traceEvents: [...meta, ...events], displayTimeUnit: 'ms', metadata: {} });
  const x = (ts: number, dur: number, extra: object = {}) => ({ name: 'a', cat: 'c', ph: 'X', ts, dur, pid: 1, tid: 1, ...extra });

  it('accepts nested and sequential complete events, and counters', () => {
    expect(checkTrace(doc([x(0, 10), x(1, 2), x(3, 7), x(10, 1), { name: 'cpu', ph: 'C', ts: 5, pid: 1, args: { value: 3 } }]))).toEqual([]);
  });

  it('finds what breaks the format', () => {
    expect(checkTrace([])).toEqual(['the document is not a JSON object']);
    expect(checkTrace(doc([x(0, 10), x(5, 10)]))).toEqual(['event 3: overlaps an event of track 1/1 without nesting in it']);
    expect(checkTrace(doc([x(5, 1), x(4, 1)]))).toEqual(['event 3: ts goes back on track 1/1']);
    expect(checkTrace(doc([x(0, -1)]))).toEqual(['event 2: dur is not a non-negative number']);
    expect(checkTrace(doc([x(0, 1, { tid: 2 })]))).toEqual(['track 1/2 has no thread_name']);
    expect(checkTrace(doc([x(0, 1, { cat: undefined, tid: '1' })]))).toContain('event 2: tid is not an integer');
    expect(checkTrace(doc([{ name: 'cpu', ph: 'C', ts: 1, pid: 1, args: { value: 'high' } }]))).toEqual(['event 2: counter value value is not a number']);
    expect(checkTrace({ traceEvents: [x(0, 1)], displayTimeUnit: 's' })).toEqual([
      'displayTimeUnit is s',
      'metadata is not an object',
      'track 1/1 has no thread_name',
      'process 1 has no process_name',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Layout, on recordings given directly (a real session supplies the rest).
// ---------------------------------------------------------------------------------------------

let session: SessionProfile;
beforeAll(async () => {
  const { profiler } = createTestProfiler([]);
  await profiler.start();
  session = await profiler.stop();
});

function span(name: string, startMs: number, durationMs: number, extra: Partial<TraceSpan> = {}): TraceSpan {
  return { name, tags: [], startMs, durationMs, thread: 0, async: false, failed: false, ...extra };
}

function recording(spans: TraceSpan[], dropped = 0): TraceRecording {
  return { spans, dropped, threads: [{ id: 0, name: 'main thread' }] };
}

function build(recordings: TraceRecording[], maxEvents = 1000): TraceDoc {
  const input: TraceInput = { profile: session, recordings: recordings.map((r) => ({ plugin: 'modules', recording: r })), maxEvents };
  return parse([...traceJsonChunks(input)].join(''));
}

describe('traceJsonChunks', () => {
  const t0 = () => Date.parse(session.startedAt);

  it('nests synchronous calls on the thread track and lays overlapping async calls out one per track', () => {
    const base = t0();
    const doc = build([
      recording([
        span('child', base + 1, 1),
        span('child', base + 3, 1),
        span('parent', base, 5, { tags: ['a', 'b'] }),
        span('wait', base + 0.5, 30, { async: true }),
        span('wait', base + 0.625, 10, { async: true, failed: true }),
        span('wait', base + 40, 10, { async: true }),
      ]),
    ]);
    expect(checkTrace(doc)).toEqual([]);
    const names = trackNames(doc);
    const x = xEvents(doc);
    const onTrack = (name: string) => x.filter((e) => names.get(e.tid as number) === name).map((e) => [e.name, e.ts, e.dur]);
    expect(onTrack('main thread')).toEqual([
      ['parent', 0, 5000],
      ['child', 1000, 1000],
      ['child', 3000, 1000],
    ]);
    // Nested in time, but async calls do not call each other: never stacked on one track.
    expect(onTrack('main thread: async calls')).toEqual([
      ['wait', 500, 30000],
      ['wait', 40000, 10000],
    ]);
    expect(onTrack('main thread: async calls (2)')).toEqual([['wait', 625, 10000]]);
    expect(x.find((e) => e.name === 'parent')!.cat).toBe('a,b');
    expect(x.find((e) => e.name === 'child')!.cat).toBe('module');
    expect(x.filter((e) => (e.args as { failed?: boolean } | undefined)?.failed)).toHaveLength(1);
    expect(doc.metadata).toMatchObject({ source: 'loadlight', sessionId: session.sessionId, calls: 6, dropped: 0, unplaced: 0, timeOriginMs: base });
    expect(doc.displayTimeUnit).toBe('ms');
  });

  it('moves a synchronous span that overlaps without nesting, and forgives a clock-rounding overhang', () => {
    const base = t0();
    const doc = build([
      recording([
        span('a', base, 2),
        span('b', base + 1, 2), // ends after a: cannot nest in it
        span('p', base + 10, 1),
        span('c', base + 10.5, 0.5005), // 0.5 us past its parent's end: clock rounding
      ]),
    ]);
    expect(checkTrace(doc)).toEqual([]);
    const names = trackNames(doc);
    const where = (name: string) => names.get(xEvents(doc).find((e) => e.name === name)!.tid as number);
    expect([where('a'), where('p'), where('c')]).toEqual(['main thread', 'main thread', 'main thread']);
    expect(where('b')).toBe('main thread: async calls');
  });

  it(`leaves out async calls beyond ${MAX_ASYNC_TRACKS} overlapping ones, and counts them`, () => {
    const base = t0();
    const spans = Array.from({ length: MAX_ASYNC_TRACKS + 8 }, (_, i) => span('many', base + i * 0.01, 100, { async: true }));
    const doc = build([recording(spans)]);
    expect(checkTrace(doc)).toEqual([]);
    expect(xEvents(doc)).toHaveLength(MAX_ASYNC_TRACKS);
    expect(doc.metadata.unplaced).toBe(8);
    expect(doc.metadata.calls).toBe(MAX_ASYNC_TRACKS);
  });

  it('keeps the newest maxEvents calls of all sources and counts the rest as dropped', () => {
    const base = t0();
    const first = recording([span('old', base, 1), span('new', base + 10, 1)], 5);
    const second = recording([span('mid', base + 5, 1), span('newest', base + 20, 1)], 1);
    const doc = build([first, second], 2);
    expect(checkTrace(doc)).toEqual([]);
    expect(xEvents(doc).map((e) => e.name).sort()).toEqual(['new', 'newest']);
    expect(doc.metadata.dropped).toBe(5 + 1 + 2);
    expect(doc.metadata.sources).toEqual([
      { plugin: 'modules', spans: 2, dropped: 5 },
      { plugin: 'modules', spans: 2, dropped: 1 },
    ]);
  });

  it('starts the time axis at the earliest call when one began before the session, and cuts long names', () => {
    const base = t0();
    const long = `x${'y'.repeat(500)}`;
    const doc = build([recording([span(long, base - 50, 100), span('later', base + 1, 1)])]);
    expect(checkTrace(doc)).toEqual([]);
    const [first] = xEvents(doc);
    expect(first!.ts).toBe(0);
    expect(doc.metadata.timeOriginMs).toBe(base - 50);
    expect((first!.name as string).length).toBe(200);
    expect(first!.name).toMatch(/^xy+…$/);
  });
});

// ---------------------------------------------------------------------------------------------
// A real profiled program, through `loadlight run`.
// ---------------------------------------------------------------------------------------------

const PROGRAM = `
import { profileModule } from '@loadlight/plugin-modules';
const child = profileModule('app.child', (n) => { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; }, { tags: ['math'] });
const parent = profileModule('app.parent', (n) => child(n) + child(n));
const io = profileModule('app.io', async (ms) => { await new Promise((r) => setTimeout(r, ms)); return child(100); }, { tags: ['io', 'net'] });
for (let i = 0; i < 30; i++) {
  parent(20000);
  await io(3);
}
await Promise.all([io(60), io(40), io(20)]); // three at once
await new Promise((r) => setTimeout(r, 400)); // a few more samples
`;
/** The calls PROGRAM makes. */
const CALLS = { 'app.parent': 30, 'app.child': 60 + 33, 'app.io': 33 };
const TOTAL_CALLS = 30 + 93 + 33;

function config(trace: string): string {
  return `export default {
  sampleIntervalMs: 100,
  plugins: ['system', 'modules'],
  reporters: [['json', { dir: 'out'${trace} }]],
  rules: [],
};
`;
}

/** The three io calls made at once: the last three to start, each overlapping the others. */
function lastThree(io: TraceEvent[]): TraceEvent[] {
  const three = [...io].sort((a, b) => (a.ts as number) - (b.ts as number)).slice(-3);
  const lastStart = Math.max(...three.map((e) => e.ts as number));
  for (const e of three) expect((e.ts as number) + (e.dur as number)).toBeGreaterThan(lastStart);
  return three;
}

async function runProgram(trace: string, ending = ''): Promise<{ dir: string; sessionFile: string; session: SessionProfile; stderr: string }> {
  const dir = tempProject({ 'perf.config.ts': config(trace), 'app.mjs': PROGRAM + ending });
  const run = await loadlight(['run', '--', 'node', 'app.mjs'], { cwd: dir });
  expect(run.code, run.stderr).toBe(0);
  const out = path.join(dir, 'out');
  const sessions = readdirSync(out).filter((f) => f.endsWith('.json') && !f.endsWith('.trace.json'));
  expect(sessions).toHaveLength(1);
  const sessionFile = path.join(out, sessions[0]!);
  const session = JSON.parse(readFileSync(sessionFile, 'utf8')) as SessionProfile;
  validateSession(session);
  return { dir, sessionFile, session, stderr: run.stderr };
}

describe('a profiled program with trace: true', () => {
  it('writes <session>.trace.json: every module call as a complete event, nested as they ran, with counters', async () => {
    const { sessionFile, session, stderr } = await runProgram(', trace: true');
    const traceFile = traceFileFor(sessionFile);
    expect(path.dirname(traceFile)).toBe(path.dirname(sessionFile));
    expect(existsSync(traceFile)).toBe(true);
    expect(stderr).toContain(`trace written to`);
    const doc = parse(readFileSync(traceFile, 'utf8'));
    expect(checkTrace(doc)).toEqual([]);

    // One complete event per call, as many as the session counted.
    const x = xEvents(doc);
    for (const [name, calls] of Object.entries(CALLS)) {
      expect(x.filter((e) => e.name === name).length, name).toBe(calls);
      expect(session.modules.find((m) => m.name === name)?.calls, name).toBe(calls);
    }
    expect(x).toHaveLength(TOTAL_CALLS);
    expect(doc.metadata).toMatchObject({ source: 'loadlight', sessionId: session.sessionId, sessionFile: path.basename(sessionFile), calls: TOTAL_CALLS, dropped: 0, unplaced: 0, maxEvents: 100_000 });
    expect(x.filter((e) => e.name === 'app.io').every((e) => e.cat === 'io,net')).toBe(true);
    expect(x.filter((e) => e.name === 'app.child').every((e) => e.cat === 'math')).toBe(true);

    // Each parent holds its two children, on the same (the main thread's) track.
    const names = trackNames(doc);
    const main = [...names].find(([, n]) => n === 'main thread')![0];
    const parents = x.filter((e) => e.name === 'app.parent');
    for (const p of parents) {
      expect(p.tid).toBe(main);
      const inside = x.filter(
        (c) => c.name === 'app.child' && c.tid === p.tid && ns(c.ts as number) >= ns(p.ts as number) && ns((c.ts as number) + (c.dur as number)) <= ns((p.ts as number) + (p.dur as number)),
      );
      expect(inside).toHaveLength(2);
    }
    // Async calls sit on the async tracks; the three concurrent ones on three of them.
    const io = x.filter((e) => e.name === 'app.io');
    expect(io.every((e) => names.get(e.tid as number)!.startsWith('main thread: async calls'))).toBe(true);
    const concurrent = lastThree(io);
    expect(new Set(concurrent.map((e) => e.tid)).size).toBe(3);

    // Counters: the process's CPU and heap, one per sample, within the session's time.
    const counters = doc.traceEvents.filter((e) => e.ph === 'C');
    const cpu = counters.filter((e) => e.name === 'process.cpu.percent');
    const heap = counters.filter((e) => e.name === 'process.heap.used_mb');
    expect(cpu.length).toBeGreaterThanOrEqual(3);
    expect(heap.length).toBeGreaterThanOrEqual(3);
    expect(cpu.length).toBeLessThanOrEqual(session.samples.t.length);
    expect(doc.metadata.counters).toEqual(expect.arrayContaining(['process.cpu.percent', 'process.heap.used_mb']));
    const endUs = (Date.parse(session.endedAt) - doc.metadata.timeOriginMs) * 1000;
    for (const e of [...x, ...counters]) expect(e.ts as number).toBeLessThanOrEqual(endUs + 1000);
  });

  it('stays within maxEvents: the newest calls kept, the dropped ones counted, the file small', async () => {
    const { sessionFile } = await runProgram(', trace: { maxEvents: 20 }');
    const traceFile = traceFileFor(sessionFile);
    const doc = parse(readFileSync(traceFile, 'utf8'));
    expect(checkTrace(doc)).toEqual([]);
    expect(xEvents(doc)).toHaveLength(20);
    expect(doc.metadata).toMatchObject({ maxEvents: 20, calls: 20, dropped: TOTAL_CALLS - 20 });
    // The newest: the program's last calls were the three concurrent io calls (and their children).
    const io = xEvents(doc).filter((e) => e.name === 'app.io');
    expect(io.length).toBeGreaterThanOrEqual(3);
    lastThree(io);
    // Bounded: 20 calls (under 200 bytes each here), a counter per sample and metric, metadata.
    const counters = doc.traceEvents.filter((e) => e.ph === 'C').length;
    expect(statSync(traceFile).size).toBeLessThan(4096 + 20 * 200 + counters * 150);
  });

  it('writes it on process.exit() too, with the calls so far', async () => {
    const { sessionFile, stderr } = await runProgram(', trace: true', 'process.exit(0);\n');
    expect(stderr).toContain('trace written to');
    const doc = parse(readFileSync(traceFileFor(sessionFile), 'utf8'));
    expect(checkTrace(doc)).toEqual([]);
    for (const [name, calls] of Object.entries(CALLS)) expect(xEvents(doc).filter((e) => e.name === name).length, name).toBe(calls);
  });

  it('writes no trace unless asked', async () => {
    const { dir } = await runProgram('');
    expect(readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.trace.json'))).toEqual([]);
  });
});

describe('the trace option', () => {
  it('is validated like the others', () => {
    expect(() => json({ trace: 'yes' as never })).toThrow(/trace/);
    expect(() => json({ trace: { maxEvents: 0 } })).toThrow(/maxEvents/);
    expect(() => json({ trace: { maxEvents: 2.5 } })).toThrow(/maxEvents/);
    expect(() => json({ trace: { maxEvents: 2_000_000 } })).toThrow(/maxEvents/);
    expect(() => json({ trace: { max: 10 } as never })).toThrow(/max/);
    expect(() => json({ trace: true })).not.toThrow();
    expect(() => json({ trace: { maxEvents: 10 } })).not.toThrow();
  });

  it('maps a session file to its trace file', () => {
    expect(traceFileFor('/a/b/s-1.json')).toBe('/a/b/s-1.trace.json');
  });

  it('still writes a trace (counters only) when no plugin records calls, and says why', async () => {
    const dir = tempProject({});
    const warnings: string[] = [];
    const reporter = json({ dir, trace: true, quiet: true });
    const profiler = new Profiler({ plugins: [], reporters: [reporter], rules: [] }, { handleExit: false, warn: (m) => void warnings.push(m) });
    await profiler.start();
    await profiler.stop();
    const doc = parse(readFileSync(traceFileFor(reporter.lastFile!), 'utf8'));
    expect(checkTrace(doc)).toEqual([]);
    expect(xEvents(doc)).toEqual([]);
    expect(warnings.join('\n')).toContain('no plugin records calls');
  });
});
