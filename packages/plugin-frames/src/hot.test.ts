import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordingWriter } from '@loadlight/core/testing';
import * as hot from './hot.js';
import { closeWindow, openWindow, trackFrame } from './hot.js';

type Hot = typeof import('./hot.js');

/** One collect of a window: the values it wrote (`get` throws for a metric it did not write). */
function collect(window: ReturnType<typeof openWindow>): RecordingWriter {
  const w = new RecordingWriter();
  window.collect(w);
  return w;
}

describe('frame-time histograms per window', () => {
  it('a window running alone holds no histogram of its own; beside another it gets one, and drops it once alone and read', () => {
    const a = openWindow(10);
    try {
      trackFrame(10);
      trackFrame(30);
      expect(a.latency).toBeNull();
      const first = collect(a);
      expect(first.get('frames.analysed.count')).toBe(2);
      expect(first.get('frames.latency.max_ms')).toBeCloseTo(30, 1);
      expect(first.get('frames.latency.p50_ms')).toBeCloseTo(10, 1);
      expect(a.latency).toBeNull();
      expect(collect(a).get('frames.latency.p50_ms')).toBeNull();

      trackFrame(50); // before b opens: a's alone
      const b = openWindow(20);
      try {
        expect(a.latency?.count).toBe(1);
        trackFrame(70);
        const ofB = collect(b);
        expect(ofB.get('frames.analysed.count')).toBe(1);
        expect(ofB.get('frames.latency.max_ms')).toBeCloseTo(70, 1);
        expect(b.latency).not.toBeNull();
        trackFrame(90);
      } finally {
        closeWindow(b);
      }
      expect(b.latency).toBeNull();
      const ofA = collect(a);
      expect(ofA.get('frames.analysed.count')).toBe(3);
      expect(ofA.get('frames.latency.p50_ms')).toBeCloseTo(70, 1);
      expect(ofA.get('frames.latency.max_ms')).toBeCloseTo(90, 1);
      expect(a.latency).toBeNull();
      trackFrame(20);
      expect(collect(a).get('frames.latency.max_ms')).toBeCloseTo(20, 1);
    } finally {
      closeWindow(a);
    }
  });

  it('a window left alone with an emptied histogram of its own lets it go at its next collect', () => {
    const a = openWindow(10);
    const b = openWindow(10);
    try {
      trackFrame(40);
      expect(collect(a).get('frames.latency.max_ms')).toBeCloseTo(40, 1); // a's own, read and emptied
      expect(a.latency?.count).toBe(0);
      closeWindow(b); // nothing pending: nothing handed on
      trackFrame(60);
      const alone = collect(a);
      expect(alone.get('frames.analysed.count')).toBe(1);
      expect(alone.get('frames.latency.max_ms')).toBeCloseTo(60, 1);
      expect(a.latency).toBeNull();
    } finally {
      closeWindow(b);
      closeWindow(a);
    }
  });
});

describe('one hub for every copy of the module (the ESM and CJS builds)', () => {
  /** Windows opened by these tests, each with the copy that opened it (which closes it). */
  const opened: Array<{ copy: Hot; window: ReturnType<Hot['openWindow']> }> = [];
  function open(copy: Hot, targetFps: number): ReturnType<Hot['openWindow']> {
    const window = copy.openWindow(targetFps);
    opened.push({ copy, window });
    return window;
  }
  function close(window: ReturnType<Hot['openWindow']>): void {
    const at = opened.findIndex((o) => o.window === window);
    opened.splice(at, 1)[0]!.copy.closeWindow(window);
  }
  afterEach(() => {
    for (const { copy, window } of opened.splice(0).reverse()) copy.closeWindow(window);
  });

  /** A second, separately evaluated copy of hot.ts, as a program that loads both builds has. */
  async function secondCopy(): Promise<Hot> {
    vi.resetModules();
    const copy = await import('./hot.js');
    expect(copy.trackFrame).not.toBe(hot.trackFrame);
    return copy;
  }

  const live = (copy: Hot) => copy.hotPathState.isLive();

  /**
   * 6 frames of 10 ms through `a`; through `b`, 4 of 30 ms, one untimed, one each by
   * frameStart/frameEnd and frameTimer, and one dropped.
   */
  function trackThrough(a: Hot, b: Hot): void {
    for (let i = 0; i < 6; i++) a.trackFrame(10);
    for (let i = 0; i < 4; i++) b.trackFrame(30);
    b.trackFrame();
    b.frameEnd(b.frameStart());
    b.frameTimer()();
    b.trackFrameDropped();
  }

  /** What one collect wrote, for the frames `trackThrough` tracks (the budget: 20 ms). */
  function expectAllFrames(w: RecordingWriter): void {
    expect(w.get('frames.analysed.count')).toBe(13);
    expect(w.get('frames.late.percent')).toBeCloseTo((4 / 13) * 100, 9);
    expect((w.get('frames.dropped.per_minute') as number) / (w.get('frames.analysed.per_minute') as number)).toBeCloseTo(1 / 13, 9);
    expect(w.get('frames.latency.p50_ms')).toBeCloseTo(10, 1);
    expect(w.get('frames.latency.max_ms')).toBeCloseTo(30, 1);
  }

  it('turns every copy on and off together, and a window of either sees the frames tracked through the other', async () => {
    const copy = await secondCopy();
    expect([live(hot), live(copy)]).toEqual([false, false]);

    const here = open(hot, 50);
    expect([live(hot), live(copy)]).toEqual([true, true]);
    trackThrough(hot, copy);
    expectAllFrames(collect(here));
    close(here);
    expect([live(hot), live(copy)]).toEqual([false, false]);
    expect(copy.frameStart()).toBe(0);

    // and the other way round, after an open and close
    const there = open(copy, 50);
    expect([live(hot), live(copy)]).toEqual([true, true]);
    trackThrough(copy, hot);
    const w = new RecordingWriter();
    there.collect(w);
    expectAllFrames(w);
    close(there);
    expect([live(hot), live(copy)]).toEqual([false, false]);
    expect(hot.frameTimer()).toBe(hot.hotPathState.noopEnd);
    // the last window closed through the other copy: the budgets are cleared for both
    expect(hot.hotPathState.totals().budgets).toBe(0);
  });

  it('a copy evaluated while windows with two budgets are open starts live, and counts late frames against both', async () => {
    const a = open(hot, 50); // 20 ms
    const b = open(hot, 10); // 100 ms
    const copy = await secondCopy();
    expect(live(copy)).toBe(true);
    copy.trackFrame(50);
    copy.trackFrame(150);
    const wa = collect(a);
    const wb = collect(b);
    expect(wa.get('frames.analysed.count')).toBe(2);
    expect(wa.get('frames.late.percent')).toBe(100);
    expect(wb.get('frames.late.percent')).toBe(50);
  });

  it('two windows of different copies, with different budgets, both see every frame', async () => {
    const copy = await secondCopy();
    const a = open(hot, 50); // 20 ms
    const b = open(copy, 10); // 100 ms: late frames counted per budget through either copy
    for (let i = 0; i < 3; i++) hot.trackFrame(150);
    for (let i = 0; i < 3; i++) copy.trackFrame(50);
    hot.trackFrame(5);
    copy.trackFrame(5);
    const wb = new RecordingWriter();
    b.collect(wb);
    for (const [w, late] of [[collect(a), 6], [wb, 3]] as const) {
      expect(w.get('frames.analysed.count')).toBe(8);
      expect(w.get('frames.late.percent')).toBeCloseTo((late / 8) * 100, 9);
      expect(w.get('frames.latency.p50_ms')).toBeCloseTo(50, 1);
      expect(w.get('frames.latency.max_ms')).toBeCloseTo(150, 0);
    }
    expect(a.latency).not.toBeNull();
    expect(b.latency).not.toBeNull();

    // the first copy's window closes: the second still counts, through both copies
    close(a);
    expect([live(hot), live(copy)]).toEqual([true, true]);
    hot.trackFrame(120);
    copy.trackFrame(7);
    const alone = new RecordingWriter();
    b.collect(alone);
    expect(alone.get('frames.analysed.count')).toBe(2);
    expect(alone.get('frames.late.percent')).toBeCloseTo(50, 9);
    expect(alone.get('frames.latency.max_ms')).toBeCloseTo(120, 0);
    // alone now, it reads the one pending histogram both copies record into
    expect(b.latency).toBeNull();
  });

  it('the built packages: frames tracked through require() reach a profiler whose plugin came from import, and the other way round', () => {
    // A fresh process, so that the two builds are what a program gets from `import` and
    // `require`. Each profiler (budget 20 ms) gets 6 frames of 10 ms through its own build and
    // 4 of 30 ms, 1 by frameStart/frameEnd and 1 dropped through the other.
    const script = `
      import { createRequire } from 'node:module';
      import { Profiler, sessionSeries } from '@loadlight/core';
      import * as esm from '@loadlight/plugin-frames';
      const cjs = createRequire(import.meta.url)('@loadlight/plugin-frames');
      if (cjs.trackFrame === esm.trackFrame) throw new Error('one build loaded, not two');
      const seen = [];
      for (const [plugin, other] of [[esm, cjs], [cjs, esm]]) {
        const profiler = new Profiler({ plugins: [plugin.default({ targetFps: 50 })], reporters: [], rules: [], sampleIntervalMs: 3600000 }, { handleExit: false });
        await profiler.start();
        for (let i = 0; i < 6; i++) plugin.trackFrame(10);
        for (let i = 0; i < 4; i++) other.trackFrame(30);
        other.frameEnd(other.frameStart());
        other.trackFrameDropped();
        // stop() takes its last sample (the one with these frames) once 100 ms passed since start's
        await new Promise((resolve) => setTimeout(resolve, 250));
        const session = await profiler.stop();
        const series = (name) => sessionSeries(session, name);
        const at = series('frames.analysed.count').findLastIndex((v) => v > 0);
        seen.push({
          count: series('frames.analysed.count').reduce((sum, v) => sum + (v ?? 0), 0),
          late: series('frames.late.percent')[at],
          dropped: series('frames.dropped.per_minute')[at] / series('frames.analysed.per_minute')[at],
          max: series('frames.latency.max_ms')[at],
        });
      }
      process.stdout.write(JSON.stringify(seen));
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    const seen = JSON.parse(result.stdout) as Array<{ count: number; late: number; dropped: number; max: number }>;
    expect(seen).toHaveLength(2);
    for (const { count, late, dropped, max } of seen) {
      expect(count).toBe(11);
      expect(late).toBeCloseTo((4 / 11) * 100, 1);
      expect(dropped).toBeCloseTo(1 / 11, 3);
      expect(max).toBeCloseTo(30, 1);
    }
  });
});
