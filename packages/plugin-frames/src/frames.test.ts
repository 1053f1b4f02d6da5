import { performance } from 'node:perf_hooks';
import { isLoadlightError, Profiler } from '@loadlight/core';
import { createTestProfiler, moreSamples, present, RecordingWriter, sleep, stopTestProfilers, total } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { allocatedBytes, exposeGc } from '../../../test/support/allocation.js';
import { closeWindow, hotPathState, openWindow, type FramesWindow } from './hot.js';
import frames, { FRAMES_METRICS, frameEnd, frameStart, frameTimer, trackFrame, trackFrameDropped } from './index.js';

const opened: FramesWindow[] = [];
function open(targetFps = 30): FramesWindow {
  const window = openWindow(targetFps);
  opened.push(window);
  return window;
}

afterEach(async () => {
  for (const window of opened.splice(0)) closeWindow(window);
  await stopTestProfilers();
  expect(hotPathState.windows()).toBe(0);
  expect(hotPathState.isLive()).toBe(false);
});

/** The metric names are a contract with the rules: this list must not change by accident. */
const ALL_METRICS = [
  'frames.analysed.count',
  'frames.analysed.per_minute',
  'frames.fps',
  'frames.target_fps',
  'frames.budget_ms',
  'frames.latency.mean_ms',
  'frames.latency.p50_ms',
  'frames.latency.p95_ms',
  'frames.latency.p99_ms',
  'frames.latency.max_ms',
  'frames.late.per_minute',
  'frames.late.percent',
  'frames.dropped.per_minute',
];

const LATENCY = ['frames.latency.mean_ms', 'frames.latency.p50_ms', 'frames.latency.p95_ms', 'frames.latency.p99_ms', 'frames.latency.max_ms'];

/** Within HDR's 3 significant figures (0.1%) of `expected`. */
function expectNear(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(expected * 0.001 + 1e-9);
}

describe('frames plugin', () => {
  it('declares exactly the metrics the rules use, each with a unit, kind and description', () => {
    const plugin = frames();
    expect(plugin.name).toBe('frames');
    expect(Object.keys(plugin.metrics ?? {}).sort()).toEqual([...ALL_METRICS].sort());
    expect(plugin.metrics).toBe(FRAMES_METRICS);
    expect(FRAMES_METRICS['frames.analysed.count'].kind).toBe('counter');
    expect(FRAMES_METRICS['frames.fps'].unit).toBe('fps');
    expect(FRAMES_METRICS['frames.late.percent'].unit).toBe('percent');
    for (const [name, declaration] of Object.entries(FRAMES_METRICS)) {
      expect(declaration.description.length, name).toBeGreaterThan(20);
      if (name !== 'frames.analysed.count') expect(declaration.kind, name).toBe('gauge');
    }
  });

  it('validates targetFps and names a mistyped option', () => {
    expect(() => frames({ targetFps: 60 })).not.toThrow();
    expect(() => frames({ targetFps: 0.5 })).not.toThrow();
    const messageOf = (options: unknown): string => {
      try {
        frames(options as never);
      } catch (error) {
        expect(isLoadlightError(error)).toBe(true);
        expect((error as { code: string }).code).toBe('PLUGIN_OPTIONS_INVALID');
        return (error as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(messageOf({ targetFps: 0 })).toBe('plugin "frames" options: "targetFps" must be > 0, got number 0.');
    expect(messageOf({ targetFps: '30' })).toBe('plugin "frames" options: "targetFps" must be number, got string "30".');
    expect(messageOf({ targetFPS: 30 })).toBe(
      'plugin "frames" options: unknown option "targetFPS". Expected one of: targetFps. Did you mean "targetFps"?',
    );
  });

  it('refuses to be listed twice in one profiler', async () => {
    const plugin = frames();
    const profiler = new Profiler({ plugins: [plugin, plugin], reporters: [], rules: [] }, { handleExit: false });
    await expect(profiler.start()).rejects.toThrowError(/plugin "frames" is listed twice/);
  });
});

describe('with no profiler running', () => {
  it('counts nothing, times nothing and allocates nothing', async () => {
    const before = hotPathState.totals();
    for (let i = 0; i < 1000; i++) {
      trackFrame(12.5);
      trackFrame();
      trackFrameDropped();
      frameEnd(frameStart());
      frameTimer()();
    }
    expect(frameStart()).toBe(0);
    expect(frameTimer()).toBe(hotPathState.noopEnd);
    expect(hotPathState.totals()).toEqual(before);

    const gc = exposeGc();
    const loop = () => {
      for (let i = 0; i < 20_000; i++) {
        trackFrame(12.5);
        trackFrameDropped();
        frameEnd(frameStart());
        frameTimer()();
      }
    };
    loop();
    expect(await allocatedBytes(gc, loop)).toBeLessThan(20_000);
    expect(hotPathState.totals()).toEqual(before);
  });
});

describe('rates and values from known events', () => {
  it('counts frames, late frames against the budget and dropped frames per minute of real time', async () => {
    const openedFrom = performance.now();
    const window = open(50); // budget 20 ms
    const openedTo = performance.now();
    for (const ms of [5, 10, 19.9, 20, 20.1, 25, 40]) trackFrame(ms);
    trackFrame();
    trackFrame(Number.NaN); // counted, not timed
    trackFrame(-1);
    for (let i = 0; i < 4; i++) trackFrameDropped();
    await sleep(300);
    const writer = new RecordingWriter();
    const collectFrom = performance.now();
    window.collect(writer);
    const collectTo = performance.now();
    const shortestMs = collectFrom - openedTo;
    const longestMs = collectTo - openedFrom;
    const within = (value: number | null, events: number, perMs: number) => {
      expect(value).not.toBeNull();
      expect(value!).toBeGreaterThanOrEqual((events * perMs) / longestMs);
      expect(value!).toBeLessThanOrEqual((events * perMs) / shortestMs);
    };
    expect(writer.get('frames.analysed.count')).toBe(10);
    within(writer.get('frames.analysed.per_minute'), 10, 60_000);
    within(writer.get('frames.fps'), 10, 1000);
    within(writer.get('frames.late.per_minute'), 3, 60_000); // 20.1, 25 and 40 ms; 20 ms is on time
    within(writer.get('frames.dropped.per_minute'), 4, 60_000);
    expect(writer.get('frames.late.percent')).toBe(30);
    expect(writer.get('frames.target_fps')).toBe(50);
    expect(writer.get('frames.budget_ms')).toBe(20);
    expectNear(writer.get('frames.latency.max_ms'), 40);
    expectNear(writer.get('frames.latency.mean_ms'), (5 + 10 + 19.9 + 20 + 20.1 + 25 + 40) / 7);

    await sleep(20);
    const quiet = new RecordingWriter();
    window.collect(quiet);
    expect(quiet.get('frames.analysed.count')).toBe(0);
    for (const name of ['frames.analysed.per_minute', 'frames.fps', 'frames.late.per_minute', 'frames.dropped.per_minute']) {
      expect(quiet.get(name), name).toBe(0);
    }
    for (const name of [...LATENCY, 'frames.late.percent']) expect(quiet.get(name), name).toBeNull();
    expect(quiet.get('frames.budget_ms')).toBe(20);
  });

  it('reads frame-time percentiles from the histogram', () => {
    const window = open();
    for (let i = 0; i < 100; i++) trackFrame(((i * 37) % 100) + 1); // 1..100 ms, shuffled
    const writer = new RecordingWriter();
    window.collect(writer);
    expectNear(writer.get('frames.latency.mean_ms'), 50.5);
    expectNear(writer.get('frames.latency.p50_ms'), 50);
    expectNear(writer.get('frames.latency.p95_ms'), 95);
    expectNear(writer.get('frames.latency.p99_ms'), 99);
    expectNear(writer.get('frames.latency.max_ms'), 100);
    expect(writer.get('frames.late.percent')).toBe(67); // over 33.33 ms: 34..100

    for (const ms of [0.004, 0.5, 0]) trackFrame(ms);
    const small = new RecordingWriter();
    window.collect(small);
    expect(small.get('frames.latency.max_ms')).toBeCloseTo(0.5, 6);
    expect(small.get('frames.latency.p50_ms')).toBeCloseTo(0.004, 6);
    expect(small.get('frames.analysed.count')).toBe(3);
  });

  it('times frames with frameStart/frameEnd and frameTimer, overlapping or not, each once', async () => {
    const window = open(1000); // budget 1 ms: every timed frame below is late
    const t = frameStart();
    expect(t).toBeGreaterThan(0);
    expect(Number.isInteger(t)).toBe(true);
    await sleep(15);
    frameEnd(t);
    frameEnd(t); // a second end counts nothing

    // Overlapping timers each keep their own start.
    const long = frameTimer();
    await sleep(5);
    const short = frameTimer();
    expect(short).not.toBe(long);
    await sleep(10);
    short();
    await sleep(10);
    long();
    long();

    const writer = new RecordingWriter();
    window.collect(writer);
    expect(writer.get('frames.analysed.count')).toBe(3);
    expect(writer.get('frames.late.percent')).toBe(100);
    expect(writer.get('frames.latency.p50_ms')!).toBeGreaterThanOrEqual(9); // the short timer
    expect(writer.get('frames.latency.max_ms')!).toBeGreaterThanOrEqual(24); // the long timer
    expect(writer.get('frames.latency.max_ms')!).toBeLessThan(60_000);

    // Many frames in flight at once, ended in another order, each counted once.
    const tokens = Array.from({ length: 300 }, () => frameStart());
    const ends = Array.from({ length: 300 }, () => frameTimer());
    expect(new Set(tokens).size).toBe(300);
    expect(new Set(ends).size).toBe(300);
    for (const token of tokens.reverse()) frameEnd(token);
    for (const end of ends) end();
    for (const end of ends) end();
    const many = new RecordingWriter();
    window.collect(many);
    expect(many.get('frames.analysed.count')).toBe(600);

    // The end functions are made once per slot and serve later frames.
    const first = frameTimer();
    first();
    for (let i = 1; i < hotPathState.framesInFlight; i++) frameEnd(frameStart());
    expect(frameTimer()).toBe(first);
  });

  it('does not count a frame begun before any profiler ran', () => {
    const t = frameStart();
    const end = frameTimer();
    expect(t).toBe(0);
    const window = open();
    frameEnd(t);
    end();
    const writer = new RecordingWriter();
    window.collect(writer);
    expect(writer.get('frames.analysed.count')).toBe(0);
  });
});

describe('through a profiler', () => {
  it('puts every frame of the session in its samples, late against targetFps', async () => {
    const { profiler } = createTestProfiler([frames({ targetFps: 25 })]); // budget 40 ms
    await profiler.start();
    expect(hotPathState.isLive()).toBe(true);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 10; i++) trackFrame(i < 8 ? 30 : 45);
      trackFrameDropped();
      await sleep(40);
    }
    await moreSamples(profiler, 2);
    const session = await profiler.stop();
    expect(session.faults).toEqual([]);
    for (const name of ALL_METRICS) expect(session.catalogue[name], name).toMatchObject({ plugin: 'frames' });
    expect(total(profiler, 'frames.analysed.count')).toBe(40);
    expect(present(profiler, 'frames.target_fps').every((v) => v === 25)).toBe(true);
    expect(present(profiler, 'frames.budget_ms').every((v) => v === 40)).toBe(true);
    // 2 of every 10 frames are late (45 ms against 40 ms).
    const latePercent = present(profiler, 'frames.late.percent');
    expect(latePercent.length).toBeGreaterThan(0);
    const lateFrames = profiler.store
      .series('frames.late.percent')
      .reduce<number>((sum, pct, i) => sum + ((pct ?? 0) / 100) * (profiler.store.series('frames.analysed.count')[i] ?? 0), 0);
    expect(Math.round(lateFrames)).toBe(8);
    expect(present(profiler, 'frames.dropped.per_minute').some((v) => v > 0)).toBe(true);
    expect(present(profiler, 'frames.fps').some((v) => v > 0)).toBe(true);
    expectNear(Math.max(...present(profiler, 'frames.latency.max_ms')), 45);

    trackFrame(10);
    expect(hotPathState.isLive()).toBe(false);
    expect(total(profiler, 'frames.analysed.count')).toBe(40);
  });

  it('lets two profilers with different targets each see every frame and count late ones against their own budget', async () => {
    const at30 = createTestProfiler([frames({ targetFps: 30 })], { sampleIntervalMs: 70 }).profiler; // 33.3 ms
    const at60 = createTestProfiler([frames({ targetFps: 60 })], { sampleIntervalMs: 110 }).profiler; // 16.7 ms
    await at30.start();
    trackFrame(20); // at30 only: on time
    await at60.start();
    for (let i = 0; i < 6; i++) {
      trackFrame(10); // on time for both
      trackFrame(25); // late at 60 fps only
      trackFrame(50); // late for both
      await sleep(30);
    }
    trackFrameDropped();
    await Promise.all([moreSamples(at30, 2), moreSamples(at60, 2)]);
    await at60.stop();
    trackFrame(40); // at30 only: late
    await moreSamples(at30, 2);
    await at30.stop();

    const lateCount = (profiler: Profiler) => {
      const analysed = profiler.store.series('frames.analysed.count');
      return Math.round(
        profiler.store.series('frames.late.percent').reduce<number>((sum, pct, i) => sum + ((pct ?? 0) / 100) * (analysed[i] ?? 0), 0),
      );
    };
    expect(total(at30, 'frames.analysed.count')).toBe(1 + 18 + 1);
    expect(total(at60, 'frames.analysed.count')).toBe(18);
    expect(lateCount(at30)).toBe(6 + 1);
    expect(lateCount(at60)).toBe(12);
    // The store holds ms to 1 us.
    expect(present(at30, 'frames.budget_ms')[0]).toBeCloseTo(1000 / 30, 3);
    expect(present(at60, 'frames.budget_ms')[0]).toBeCloseTo(1000 / 60, 3);
    expectNear(Math.max(...present(at60, 'frames.latency.max_ms')), 50);
    expect(present(at30, 'frames.dropped.per_minute').some((v) => v > 0)).toBe(true);
    expect(present(at60, 'frames.dropped.per_minute').some((v) => v > 0)).toBe(true);
    expect(hotPathState.totals().budgets).toBe(0);
  });

  it('allocates nothing per trackFrame while a profiler runs, and no closure or object per timed frame', async () => {
    const { profiler } = createTestProfiler([frames()], { sampleIntervalMs: 10_000 });
    await profiler.start();
    const gc = exposeGc();
    const times = Float64Array.from({ length: 1024 }, (_, i) => (i % 100) * 0.5 + 0.25);
    const tracked = () => {
      for (let i = 0; i < 20_000; i++) {
        trackFrame(times[i & 1023]);
        trackFrameDropped();
      }
    };
    for (let i = 0; i < 10; i++) tracked(); // warm up: optimised code
    expect(await allocatedBytes(gc, tracked)).toBeLessThan(20_000);

    // frameStart/frameEnd and frameTimer read performance.now(), whose double Node 20 boxes
    // (16 bytes a reading, two a frame: 32); a closure or object per frame would add 32 or more.
    const timed = () => {
      for (let i = 0; i < 20_000; i++) {
        frameEnd(frameStart());
        frameTimer()();
      }
    };
    for (let i = 0; i < 10; i++) timed();
    const bytesPerFrame = (await allocatedBytes(gc, timed)) / 40_000;
    expect(bytesPerFrame).toBeLessThan(40);
    await profiler.stop();
  });
});
