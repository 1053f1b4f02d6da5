import { Worker } from 'node:worker_threads';
import type { Profiler, TraceSource, TraceSpan } from '@loadlight/core';
import { afterEach, describe, expect, it } from 'vitest';
import modules, { moduleSpan, profileModule, watchWorker } from './index.js';
import { hot, runtime } from './runtime.js';
import { makeProfiler, sleep, stopAll, until } from './test-utils.js';
import { BYTES_PER_CALL, CallRing } from './trace.js';

const workers: Worker[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

function traceOf(profiler: Profiler): TraceSource {
  const sources = profiler.provided('trace');
  expect(sources).toHaveLength(1);
  return sources[0]!;
}

function spansNamed(spans: TraceSpan[], name: string): TraceSpan[] {
  return spans.filter((s) => s.name === name);
}

const endOf = (s: TraceSpan): number => s.startMs + s.durationMs;

function spin(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x += Math.sqrt(i);
  return x;
}

describe('CallRing', () => {
  it('keeps the newest calls, numbered from its creation, and grows without losing them', () => {
    const ring = new CallRing(4);
    for (let i = 0; i < 6; i++) ring.push(i, i * 10, 1, 0);
    expect(ring.written).toBe(6);
    expect(ring.oldest).toBe(2);
    const kept = [2, 3, 4, 5].map((n) => ring.module[n % 4]);
    expect(kept).toEqual([2, 3, 4, 5]);
    const grown = ring.grown(8);
    expect(grown.written).toBe(6);
    expect(grown.oldest).toBe(0); // capacity 8 could hold them all, but only 2..5 were kept
    expect([2, 3, 4, 5].map((n) => grown.start[n % 8])).toEqual([20, 30, 40, 50]);
    grown.push(6, 60, 1, 0);
    expect(grown.module[6 % 8]).toBe(6);
    expect(BYTES_PER_CALL).toBe(24);
  });
});

describe('trace recording', () => {
  it('is offered to exporters and records nothing until one enables it', async () => {
    const work = profileModule('trace.off', (n: number) => spin(n));
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    const trace = traceOf(profiler);
    expect(trace.plugin).toBe('modules');
    for (let i = 0; i < 10; i++) work(100);
    expect(hot.tracing).toBe(0);
    expect(runtime.trace).toBeNull();
    const recording = trace.read();
    expect(recording.spans).toEqual([]);
    expect(recording.dropped).toBe(0);
    await profiler.stop();
  });

  it('records each finished call: names, nesting, async calls, failures, spans; kept after stop', async () => {
    const child = profileModule('trace.child', (n: number) => spin(n), { tags: ['inner'] });
    const parent = profileModule('trace.parent', (n: number) => child(n) + child(n));
    const waits = profileModule('trace.waits', async (ms: number) => {
      await sleep(ms);
      return child(10);
    });
    const fails = profileModule('trace.fails', () => {
      throw new Error('no');
    });
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    const trace = traceOf(profiler);
    trace.enable({ maxEvents: 1000 });
    expect(hot.tracing).toBe(1);

    for (let i = 0; i < 5; i++) parent(20_000);
    await Promise.all([waits(30), waits(10)]);
    expect(() => fails()).toThrow('no');
    const endSync = moduleSpan('trace.span');
    spin(1000);
    endSync();
    const endLater = moduleSpan('trace.span');
    await sleep(5);
    endLater(new Error('late'));

    const live = trace.read();
    await sleep(60); // stop() then takes a last sample, which counts the calls
    await profiler.stop();
    expect(hot.tracing).toBe(0);
    expect(runtime.trace).toBeNull(); // released: the copy kept at stop is what read() returns
    parent(10); // after stop: not recorded
    const { spans, dropped, threads } = trace.read();
    expect(spans).toEqual(live.spans);
    expect(dropped).toBe(0);
    expect(threads).toEqual([{ id: 0, name: 'main thread' }]);

    // Counts match the calls made, and the session's counts.
    const session = profiler.session();
    const calls = (name: string) => session.modules.find((m) => m.name === name)?.calls;
    expect(spansNamed(spans, 'trace.parent')).toHaveLength(5);
    expect(spansNamed(spans, 'trace.child')).toHaveLength(12);
    expect(spansNamed(spans, 'trace.waits')).toHaveLength(2);
    expect(spansNamed(spans, 'trace.fails')).toHaveLength(1);
    expect(spansNamed(spans, 'trace.span')).toHaveLength(2);
    for (const name of ['trace.parent', 'trace.child', 'trace.waits', 'trace.fails', 'trace.span']) {
      expect(spansNamed(spans, name).length, name).toBe(calls(name));
    }

    // Each parent holds its two children, in time.
    const children = spansNamed(spans, 'trace.child').filter((c) => !c.async);
    for (const p of spansNamed(spans, 'trace.parent')) {
      const inside = children.filter((c) => c.startMs >= p.startMs && endOf(c) <= endOf(p));
      expect(inside).toHaveLength(2);
      expect(p.async).toBe(false);
      expect(p.tags).toEqual([]);
    }
    expect(spansNamed(spans, 'trace.child')[0]!.tags).toEqual(['inner']);
    // Spans are in the order they ended: a child before its parent.
    expect(spans.findIndex((s) => s.name === 'trace.child')).toBeLessThan(spans.findIndex((s) => s.name === 'trace.parent'));

    const [short, long] = spansNamed(spans, 'trace.waits').sort((a, b) => a.durationMs - b.durationMs);
    expect(short!.async && long!.async).toBe(true);
    expect(short!.durationMs).toBeGreaterThanOrEqual(9);
    expect(long!.durationMs).toBeGreaterThanOrEqual(29);
    expect(short!.startMs).toBeLessThan(endOf(long!)); // they overlapped
    expect(spansNamed(spans, 'trace.fails')[0]!.failed).toBe(true);
    const [sync, crossed] = spansNamed(spans, 'trace.span');
    expect([sync!.async, sync!.failed]).toEqual([false, false]);
    expect([crossed!.async, crossed!.failed]).toEqual([true, true]);

    // Times are epoch ms, within the session.
    const started = Date.parse(session.startedAt);
    for (const s of spans) {
      expect(s.startMs).toBeGreaterThan(started - 1000);
      expect(endOf(s)).toBeLessThan(Date.parse(session.endedAt) + 1000);
      expect(s.thread).toBe(0);
    }
  });

  it('keeps the newest maxEvents calls and counts the dropped ones', async () => {
    const tick = profileModule('trace.tick', (i: number) => i);
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    const trace = traceOf(profiler);
    trace.enable({ maxEvents: 10 });
    for (let i = 0; i < 25; i++) tick(i);
    await sleep(60);
    await profiler.stop();
    const { spans, dropped } = trace.read();
    expect(spans).toHaveLength(10);
    expect(dropped).toBe(15);
    // The newest: their starts increase, and the last is the last call.
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.startMs).toBeGreaterThanOrEqual(spans[i - 1]!.startMs);
    expect(profiler.session().modules.find((m) => m.name === 'trace.tick')?.calls).toBe(25);
  });

  it('serves two profilers from one ring, each with its own window and cap', async () => {
    const tick = profileModule('trace.shared', (i: number) => i);
    const a = makeProfiler([modules()]).profiler;
    const b = makeProfiler([modules()]).profiler;
    await a.start();
    traceOf(a).enable({ maxEvents: 5 });
    for (let i = 0; i < 3; i++) tick(i);
    await b.start();
    traceOf(b).enable({ maxEvents: 100 }); // the ring grows, keeping a's calls
    expect(hot.tracing).toBe(2);
    for (let i = 0; i < 4; i++) tick(i);
    await a.stop();
    expect(hot.tracing).toBe(1);
    for (let i = 0; i < 2; i++) tick(i);
    await b.stop();
    expect(traceOf(a).read().spans).toHaveLength(5);
    expect(traceOf(a).read().dropped).toBe(2);
    expect(traceOf(b).read().spans).toHaveLength(6);
    expect(traceOf(b).read().dropped).toBe(0);
    expect(hot.tracing).toBe(0);
  });

  it('refuses a bad maxEvents', async () => {
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    expect(() => traceOf(profiler).enable({ maxEvents: 0 })).toThrow(/maxEvents must be an integer from 1 to 1,000,000, got 0/);
    expect(() => traceOf(profiler).enable({ maxEvents: 2.5 })).toThrow(/got 2.5/);
    expect(hot.tracing).toBe(0);
    await profiler.stop();
  });

  it('gives a watched worker its own thread, with a span for its life', async () => {
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    traceOf(profiler).enable({ maxEvents: 100 });
    const short = new Worker('setTimeout(() => {}, 50)', { eval: true });
    const long = new Worker('setInterval(() => {}, 1000)', { eval: true });
    workers.push(short, long);
    const shortId = short.threadId;
    watchWorker(short, 'trace.worker-short');
    watchWorker(long, 'trace.worker-long');
    await new Promise((resolve) => short.once('exit', resolve));
    const exitedAt = performance.timeOrigin + performance.now();
    await sleep(20);
    await profiler.stop();
    const { spans, threads } = traceOf(profiler).read();
    expect(spans).toHaveLength(2);
    const [s] = spansNamed(spans, 'trace.worker-short');
    const [l] = spansNamed(spans, 'trace.worker-long');
    expect(s!.thread).toBe(shortId);
    expect(l!.thread).toBe(long.threadId);
    expect(s!.thread).not.toBe(l!.thread);
    expect(endOf(s!)).toBeLessThanOrEqual(exitedAt + 1);
    expect(endOf(l!)).toBeGreaterThan(exitedAt); // still alive at stop: its span runs to the read
    expect(threads.map((t) => t.module ?? '').sort()).toEqual(['', 'trace.worker-long', 'trace.worker-short']);
    expect(threads.find((t) => t.module === 'trace.worker-long')!.name).toBe(`worker thread ${long.threadId} (trace.worker-long)`);
    await until(() => hot.tracing === 0, 'tracing off');
  });
});
