import { performance } from 'node:perf_hooks';
import { isLoadlightError, Profiler } from '@loadlight/core';
import { createTestProfiler, moreSamples, present, RecordingWriter, sleep, stopTestProfilers, total } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { allocatedBytes, exposeGc } from '../../../test/support/allocation.js';
import { closeWindow, hotPathState, openWindow, recordOcrCall, type OcrWindow } from './hot.js';
import ocr, { OCR_METRICS, timeOcr, trackOcrCall } from './index.js';

const opened: OcrWindow[] = [];
function open(): OcrWindow {
  const window = openWindow();
  opened.push(window);
  return window;
}

afterEach(async () => {
  for (const window of opened.splice(0)) closeWindow(window);
  await stopTestProfilers();
  expect(hotPathState.windows()).toBe(0);
});

/** The metric names are a contract with the rules: this list must not change by accident. */
const ALL_METRICS = [
  'ocr.calls.count',
  'ocr.calls.per_minute',
  'ocr.errors.per_minute',
  'ocr.latency.mean_ms',
  'ocr.latency.p50_ms',
  'ocr.latency.p95_ms',
  'ocr.latency.p99_ms',
  'ocr.latency.max_ms',
  'ocr.confidence.mean',
  'ocr.chars.per_minute',
  'ocr.unchanged.percent',
];

const LATENCY = ['ocr.latency.mean_ms', 'ocr.latency.p50_ms', 'ocr.latency.p95_ms', 'ocr.latency.p99_ms', 'ocr.latency.max_ms'];

/** Within HDR's 3 significant figures (0.1%) of `expected`. */
function expectNear(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(expected * 0.001 + 1e-9);
}

describe('ocr plugin', () => {
  it('declares exactly the metrics the rules use, each with a unit, kind and description', () => {
    const plugin = ocr();
    expect(plugin.name).toBe('ocr');
    expect(Object.keys(plugin.metrics ?? {}).sort()).toEqual([...ALL_METRICS].sort());
    expect(plugin.metrics).toBe(OCR_METRICS);
    expect(OCR_METRICS['ocr.calls.count'].kind).toBe('counter');
    expect(OCR_METRICS['ocr.confidence.mean'].unit).toBe('percent');
    expect(OCR_METRICS['ocr.latency.max_ms'].aggregate).toBe('max');
    for (const [name, declaration] of Object.entries(OCR_METRICS)) {
      expect(declaration.description.length, name).toBeGreaterThan(20);
      if (name !== 'ocr.calls.count') expect(declaration.kind, name).toBe('gauge');
    }
  });

  it('accepts no options or an empty object, and names an unknown option', () => {
    expect(() => ocr()).not.toThrow();
    expect(() => ocr({})).not.toThrow();
    let caught: unknown;
    try {
      ocr({ everyMs: 5 } as never);
    } catch (error) {
      caught = error;
    }
    expect(isLoadlightError(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe('PLUGIN_OPTIONS_INVALID');
    expect((caught as Error).message).toBe('plugin "ocr" options: unknown option "everyMs".');
    expect(() => ocr(5 as never)).toThrowError(/plugin "ocr" options: .*must be object/);
  });

  it('refuses to be listed twice in one profiler', async () => {
    const plugin = ocr();
    const profiler = new Profiler({ plugins: [plugin, plugin], reporters: [], rules: [] }, { handleExit: false });
    await expect(profiler.start()).rejects.toThrowError(/plugin "ocr" is listed twice/);
    expect(hotPathState.isLive()).toBe(false);
  });
});

describe('with no profiler running', () => {
  it('counts nothing, passes timeOcr through, and allocates nothing', async () => {
    expect(hotPathState.isLive()).toBe(false);
    const before = hotPathState.totals();
    const result = { text: 'HP 100', confidence: 91 };
    const read = () => result;
    for (let i = 0; i < 1000; i++) trackOcrCall();
    for (let i = 0; i < 1000; i++) expect(timeOcr(read)).toBe(result);
    const rejection = new Error('engine down');
    await expect(timeOcr(() => Promise.reject(rejection))).rejects.toBe(rejection);
    expect(hotPathState.totals()).toEqual(before);

    const gc = exposeGc();
    const loop = () => {
      for (let i = 0; i < 20_000; i++) {
        trackOcrCall();
        timeOcr(read);
      }
    };
    loop(); // warm up
    // An object, closure or boxed number per call would be >= 16 bytes x 20,000.
    expect(await allocatedBytes(gc, loop)).toBeLessThan(20_000);
    expect(hotPathState.totals()).toEqual(before);
  });
});

describe('rates and values from known events', () => {
  it('turns event counts into rates per minute of the real elapsed time', async () => {
    const openedFrom = performance.now();
    const window = open();
    const openedTo = performance.now();
    for (let i = 0; i < 90; i++) trackOcrCall();
    for (let i = 0; i < 30; i++) timeOcr(() => ({ text: 'ab', confidence: 80 }));
    for (let i = 0; i < 6; i++) {
      expect(() =>
        timeOcr(() => {
          throw new Error('unreadable');
        }),
      ).toThrow('unreadable');
    }
    await sleep(300);
    const writer = new RecordingWriter();
    const collectFrom = performance.now();
    window.collect(writer);
    const collectTo = performance.now();
    // The window's elapsed time lies between these two bounds.
    const shortestMs = collectFrom - openedTo;
    const longestMs = collectTo - openedFrom;
    const rate = (events: number) => [(events * 60_000) / longestMs, (events * 60_000) / shortestMs] as const;
    const within = (value: number | null, [low, high]: readonly [number, number]) => {
      expect(value).not.toBeNull();
      expect(value!).toBeGreaterThanOrEqual(low);
      expect(value!).toBeLessThanOrEqual(high);
    };
    expect(writer.get('ocr.calls.count')).toBe(126);
    within(writer.get('ocr.calls.per_minute'), rate(126));
    within(writer.get('ocr.errors.per_minute'), rate(6));
    within(writer.get('ocr.chars.per_minute'), rate(60));
    expect(writer.get('ocr.confidence.mean')).toBe(80);
    expect(writer.get('ocr.unchanged.percent')).toBeCloseTo((29 / 30) * 100, 10);
    for (const name of LATENCY) expect(writer.get(name), name).not.toBeNull();

    // Nothing happened since: zero rates, and null where there is nothing to average.
    await sleep(50);
    const quiet = new RecordingWriter();
    window.collect(quiet);
    expect(quiet.get('ocr.calls.count')).toBe(0);
    for (const name of ['ocr.calls.per_minute', 'ocr.errors.per_minute', 'ocr.chars.per_minute']) expect(quiet.get(name), name).toBe(0);
    for (const name of [...LATENCY, 'ocr.confidence.mean', 'ocr.unchanged.percent']) expect(quiet.get(name), name).toBeNull();
  });

  it('reads latency percentiles from the histogram', () => {
    const window = open();
    // 1, 2, ... 100 ms in a shuffled order.
    const latencies = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    for (const ms of latencies) recordOcrCall(ms, undefined, false);
    const writer = new RecordingWriter();
    window.collect(writer);
    expectNear(writer.get('ocr.latency.mean_ms'), 50.5);
    expectNear(writer.get('ocr.latency.p50_ms'), 50);
    expectNear(writer.get('ocr.latency.p95_ms'), 95);
    expectNear(writer.get('ocr.latency.p99_ms'), 99);
    expectNear(writer.get('ocr.latency.max_ms'), 100);

    // Sub-millisecond calls keep microsecond resolution; the histogram was reset by the collect.
    for (const ms of [0.25, 0.5, 0.75, 0]) recordOcrCall(ms, undefined, false);
    const small = new RecordingWriter();
    window.collect(small);
    expect(small.get('ocr.latency.max_ms')).toBeCloseTo(0.75, 6);
    expect(small.get('ocr.latency.p50_ms')).toBeCloseTo(0.25, 6);
    expect(small.get('ocr.latency.mean_ms')).toBeCloseTo(0.375, 6);
  });

  it('reads confidence, characters and unchanged texts from plain and tesseract.js-shaped results', () => {
    const window = open();
    const results: unknown[] = [
      { text: 'A1', confidence: 90 },
      { data: { text: 'A1', confidence: 80 } },
      { text: 'B22', confidence: 70 },
      { data: { text: 'B22' } }, // no confidence: counted in chars and texts only
      { text: 'B22', data: { confidence: 60 } },
      42, // no text, no confidence: a call, nothing else
      null,
    ];
    for (const result of results) timeOcr(() => result);
    const writer = new RecordingWriter();
    window.collect(writer);
    expect(writer.get('ocr.calls.count')).toBe(7);
    expect(writer.get('ocr.confidence.mean')).toBe((90 + 80 + 70 + 60) / 4);
    // Texts A1 A1 B22 B22 B22: 3 of 5 equal the previous call's.
    expect(writer.get('ocr.unchanged.percent')).toBe(60);
    expect(hotPathState.totals().chars).toBeGreaterThanOrEqual(2 + 2 + 3 + 3 + 3);
  });

  it('returns results untouched: sync stays sync, promises settle with the same value', async () => {
    open();
    const value = { text: 'x', confidence: 99 };
    expect(timeOcr(() => value)).toBe(value);
    expect(timeOcr(() => 5)).toBe(5);
    expect(timeOcr(() => undefined)).toBeUndefined();
    const promise = timeOcr(async () => value);
    expect(promise).toBeInstanceOf(Promise);
    expect(await promise).toBe(value);
    // Any thenable is followed (its `then` read once) and gives a real promise back.
    let thenReads = 0;
    const thenable = {
      get then() {
        thenReads++;
        return (resolve: (v: unknown) => void) => resolve(value);
      },
    };
    const followed = timeOcr(() => thenable);
    expect(thenReads).toBe(1);
    expect(followed).toBeInstanceOf(Promise);
    expect(await followed).toBe(value);
    // A result whose getter throws is returned as it is; the call is still counted.
    const hostile = {
      get text(): string {
        throw new Error('getter');
      },
    };
    const calls = hotPathState.totals().calls;
    expect(timeOcr(() => hostile)).toBe(hostile);
    expect(hotPathState.totals().calls).toBe(calls + 1);
  });

  it('lets errors and rejections through unchanged and counts them as errors', async () => {
    const window = open();
    const thrown = new Error('unreadable frame');
    let caught: unknown;
    try {
      timeOcr(() => {
        throw thrown;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(thrown);
    const reason = { reason: 'not an Error' };
    await expect(timeOcr(() => Promise.reject(reason))).rejects.toBe(reason);
    await expect(
      timeOcr(
        () =>
          new Promise((_, reject) => {
            setTimeout(() => reject(thrown), 5);
          }),
      ),
    ).rejects.toBe(thrown);
    const writer = new RecordingWriter();
    window.collect(writer);
    expect(writer.get('ocr.calls.count')).toBe(3);
    expect(writer.get('ocr.errors.per_minute')).toBeGreaterThan(0);
    expect(hotPathState.totals().errors).toBeGreaterThanOrEqual(3);
    // Failed calls are timed too: the rejected one took at least its 5 ms timer.
    expect(writer.get('ocr.latency.max_ms')).toBeGreaterThanOrEqual(4);
  });
});

describe('through a profiler', () => {
  it('puts every call of the session in its samples, and switches the hot path on and off', async () => {
    const { profiler } = createTestProfiler([ocr()]);
    expect(hotPathState.isLive()).toBe(false);
    await profiler.start();
    expect(hotPathState.isLive()).toBe(true);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) trackOcrCall();
      await timeOcr(async () => {
        await sleep(2);
        return { data: { text: `SCORE ${round}`, confidence: 88 } };
      });
      await sleep(40);
    }
    await moreSamples(profiler, 2);
    const session = await profiler.stop();
    expect(hotPathState.isLive()).toBe(false);
    expect(session.faults).toEqual([]);
    for (const name of ALL_METRICS) expect(session.catalogue[name], name).toMatchObject({ plugin: 'ocr' });
    expect(total(profiler, 'ocr.calls.count')).toBe(105);
    expect(present(profiler, 'ocr.calls.per_minute').some((v) => v > 0)).toBe(true);
    expect(present(profiler, 'ocr.confidence.mean').every((v) => v === 88)).toBe(true);
    expect(present(profiler, 'ocr.latency.p95_ms').length).toBeGreaterThan(0);
    expect(Math.min(...present(profiler, 'ocr.latency.max_ms'))).toBeGreaterThanOrEqual(1.5);
    // Five different texts: none unchanged.
    expect(present(profiler, 'ocr.unchanged.percent').every((v) => v === 0)).toBe(true);
    expect(session.statistics['ocr.calls.count']?.count).toBeGreaterThan(0);

    for (let i = 0; i < 100; i++) trackOcrCall();
    expect(total(profiler, 'ocr.calls.count')).toBe(105);
  });

  it('lets two profilers each see every event from their own start on', async () => {
    const first = createTestProfiler([ocr()], { sampleIntervalMs: 60 }).profiler;
    const second = createTestProfiler([ocr()], { sampleIntervalMs: 90 }).profiler;
    await first.start();
    for (let i = 0; i < 30; i++) trackOcrCall();
    recordOcrCall(40, { text: 'a', confidence: 50 }, false);
    await second.start();
    for (let i = 0; i < 50; i++) trackOcrCall();
    recordOcrCall(80, { text: 'b', confidence: 70 }, false);
    await sleep(200); // several ticks of each: neither one's collect may take the other's events
    for (let i = 0; i < 7; i++) trackOcrCall();
    await Promise.all([moreSamples(first, 2), moreSamples(second, 2)]);
    await second.stop();
    for (let i = 0; i < 11; i++) trackOcrCall();
    await moreSamples(first, 2);
    await first.stop();

    expect(total(first, 'ocr.calls.count')).toBe(30 + 1 + 50 + 1 + 7 + 11);
    expect(total(second, 'ocr.calls.count')).toBe(50 + 1 + 7);
    // The first saw both timed calls (in one tick or two), the second only the later one.
    const firstMax = present(first, 'ocr.latency.max_ms');
    expect(firstMax.length).toBeGreaterThanOrEqual(1);
    expect(firstMax.length).toBeLessThanOrEqual(2);
    expectNear(Math.max(...firstMax), 80);
    expect(present(first, 'ocr.confidence.mean').sort()).toEqual(firstMax.length === 1 ? [60] : [50, 70]);
    expect(present(second, 'ocr.latency.max_ms')).toHaveLength(1);
    expectNear(present(second, 'ocr.latency.max_ms')[0]!, 80);
    expect(present(second, 'ocr.confidence.mean')).toEqual([70]);
    expect(hotPathState.isLive()).toBe(false);
  });

  it('allocates nothing per trackOcrCall while a profiler runs', async () => {
    const { profiler } = createTestProfiler([ocr()], { sampleIntervalMs: 10_000 });
    await profiler.start();
    const gc = exposeGc();
    const loop = () => {
      for (let i = 0; i < 20_000; i++) trackOcrCall();
    };
    for (let i = 0; i < 10; i++) loop(); // warm up: optimised code
    expect(await allocatedBytes(gc, loop)).toBeLessThan(20_000);
    await profiler.stop();
  });
});
