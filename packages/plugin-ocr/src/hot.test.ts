import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { RecordingWriter } from '@loadlight/core/testing';
import { closeWindow, hotPathState, openWindow, recordOcrCall, timeOcr, trackOcrCall } from './hot.js';

/** One collect of a window: the values it wrote (`get` throws for a metric it did not write). */
function collect(window: ReturnType<typeof openWindow>): RecordingWriter {
  const w = new RecordingWriter();
  window.collect(w);
  return w;
}

describe('OCR latency histograms per window', () => {
  it('a window running alone holds no histogram of its own; beside another it gets one, and drops it once alone and read', () => {
    const a = openWindow();
    try {
      recordOcrCall(10, null, false);
      recordOcrCall(30, null, false);
      expect(a.latency).toBeNull();
      const first = collect(a);
      expect(first.get('ocr.calls.count')).toBe(2);
      expect(first.get('ocr.latency.max_ms')).toBeCloseTo(30, 1);
      expect(first.get('ocr.latency.p50_ms')).toBeCloseTo(10, 1);
      expect(a.latency).toBeNull();
      // Read and reset: the next tick has no latencies.
      expect(collect(a).get('ocr.latency.p50_ms')).toBeNull();

      recordOcrCall(50, null, false); // before b opens: a's alone
      const b = openWindow();
      try {
        expect(a.latency?.count).toBe(1);
        recordOcrCall(70, null, false);
        const ofB = collect(b);
        expect(ofB.get('ocr.calls.count')).toBe(1);
        expect(ofB.get('ocr.latency.max_ms')).toBeCloseTo(70, 1);
        expect(b.latency).not.toBeNull();
        recordOcrCall(90, null, false);
      } finally {
        closeWindow(b);
      }
      expect(b.latency).toBeNull();
      // a saw all three (50 before b, 70 and 90 while b ran), through its own histogram.
      const ofA = collect(a);
      expect(ofA.get('ocr.calls.count')).toBe(3);
      expect(ofA.get('ocr.latency.p50_ms')).toBeCloseTo(70, 1);
      expect(ofA.get('ocr.latency.max_ms')).toBeCloseTo(90, 1);
      expect(a.latency).toBeNull();
      recordOcrCall(20, null, false);
      expect(collect(a).get('ocr.latency.max_ms')).toBeCloseTo(20, 1);
    } finally {
      closeWindow(a);
    }
  });

  it('a window left alone with an emptied histogram of its own lets it go at its next collect', () => {
    const a = openWindow();
    const b = openWindow();
    try {
      recordOcrCall(40, null, false);
      expect(collect(a).get('ocr.latency.max_ms')).toBeCloseTo(40, 1); // a's own, read and emptied
      expect(a.latency?.count).toBe(0);
      closeWindow(b); // nothing pending: nothing handed on
      recordOcrCall(60, null, false);
      const alone = collect(a);
      expect(alone.get('ocr.calls.count')).toBe(1);
      expect(alone.get('ocr.latency.max_ms')).toBeCloseTo(60, 1);
      expect(a.latency).toBeNull();
    } finally {
      closeWindow(b);
      closeWindow(a);
    }
  });
});

describe('one hub for every copy of the module (the ESM and CJS builds)', () => {
  /** A second, separately evaluated copy of hot.ts, as a program that loads both builds has. */
  async function secondCopy(): Promise<typeof import('./hot.js')> {
    vi.resetModules();
    const copy = await import('./hot.js');
    expect(copy.trackOcrCall).not.toBe(trackOcrCall);
    return copy;
  }

  it('turns every copy on and off together, and a window of either sees the calls made through both', async () => {
    const copy = await secondCopy();
    expect([hotPathState.isLive(), copy.hotPathState.isLive()]).toEqual([false, false]);
    const here = openWindow();
    try {
      expect([hotPathState.isLive(), copy.hotPathState.isLive()]).toEqual([true, true]);
      copy.trackOcrCall();
      copy.recordOcrCall(30, { text: 'HP 1', confidence: 90 }, false);
      copy.recordOcrCall(30, { text: 'HP 1', confidence: 70 }, false);
      recordOcrCall(10, null, true);
      const w = collect(here);
      expect(w.get('ocr.calls.count')).toBe(4);
      expect(w.get('ocr.errors.per_minute')).toBeGreaterThan(0);
      expect(w.get('ocr.confidence.mean')).toBe(80);
      // the second text equals the first, though the two copies read them
      expect(w.get('ocr.unchanged.percent')).toBe(50);
      expect(w.get('ocr.latency.max_ms')).toBeCloseTo(30, 1);
    } finally {
      closeWindow(here);
    }
    expect([hotPathState.isLive(), copy.hotPathState.isLive()]).toEqual([false, false]);
  });

  it('two windows of different copies both see every call', async () => {
    const copy = await secondCopy();
    const a = openWindow();
    const b = copy.openWindow();
    try {
      recordOcrCall(5, null, false);
      copy.recordOcrCall(50, null, false);
      for (const w of [collect(a), collect(b)]) {
        expect(w.get('ocr.calls.count')).toBe(2);
        expect(w.get('ocr.latency.max_ms')).toBeCloseTo(50, 1);
      }
      // the first copy's window closes: the other still counts, through both copies
      closeWindow(a);
      expect([hotPathState.isLive(), copy.hotPathState.isLive()]).toEqual([true, true]);
      trackOcrCall();
      expect(collect(b).get('ocr.calls.count')).toBe(1);
    } finally {
      closeWindow(a);
      copy.closeWindow(b);
    }
    expect([hotPathState.isLive(), copy.hotPathState.isLive()]).toEqual([false, false]);
  });

  it('a copy evaluated while a window is open starts live, and counts into it', async () => {
    const here = openWindow();
    try {
      const copy = await secondCopy();
      expect(copy.hotPathState.isLive()).toBe(true);
      copy.trackOcrCall();
      expect(collect(here).get('ocr.calls.count')).toBe(1);
    } finally {
      closeWindow(here);
    }
  });

  it('a timed call that ends after the last window closed counts nothing, nor sets the text the next session compares with', async () => {
    const first = openWindow();
    let settle: (value: unknown) => void = () => {};
    const pending = timeOcr(() => new Promise((resolve) => (settle = resolve)));
    closeWindow(first);
    settle({ text: 'HP 9', confidence: 50 });
    await pending;
    const next = openWindow();
    try {
      await timeOcr(() => Promise.resolve({ text: 'HP 9', confidence: 50 }));
      const w = collect(next);
      expect(w.get('ocr.calls.count')).toBe(1);
      expect(w.get('ocr.unchanged.percent')).toBe(0);
    } finally {
      closeWindow(next);
    }
  });

  it('instruments a tesseract.js worker once, whichever copy is asked (twice)', async () => {
    const here = await import('./tesseract.js');
    vi.resetModules();
    const other = await import('./tesseract.js');
    expect(other.instrumentTesseract).not.toBe(here.instrumentTesseract);
    const window = openWindow();
    try {
      const worker = { recognize: async () => ({ data: { text: 'x', confidence: 90 } }) };
      here.instrumentTesseract(worker);
      other.instrumentTesseract(worker);
      expect(other.isTesseractInstrumented(worker)).toBe(true);
      await worker.recognize();
      expect(collect(window).get('ocr.calls.count')).toBe(1);
      expect(other.uninstrumentTesseract(worker)).toBe(true);
      expect(here.isTesseractInstrumented(worker)).toBe(false);
    } finally {
      closeWindow(window);
    }
  });

  it('the built packages: calls made through require() reach a profiler whose plugin came from import, and the other way round', () => {
    // A fresh process, so that the two builds are what a program gets from `import` and `require`.
    const script = `
      import { createRequire } from 'node:module';
      import { Profiler, sessionSeries } from '@loadlight/core';
      import * as esm from '@loadlight/plugin-ocr';
      const cjs = createRequire(import.meta.url)('@loadlight/plugin-ocr');
      if (cjs.trackOcrCall === esm.trackOcrCall) throw new Error('one build loaded, not two');
      const counts = [];
      for (const [plugin, other] of [[esm, cjs], [cjs, esm]]) {
        const profiler = new Profiler({ plugins: [plugin.default()], reporters: [], rules: [], sampleIntervalMs: 3600000 }, { handleExit: false });
        await profiler.start();
        for (let i = 0; i < 7; i++) other.trackOcrCall();
        other.timeOcr(() => ({ text: 'x', confidence: 50 }));
        // stop() takes its last sample (the one with these calls) once 100 ms passed since start's
        await new Promise((resolve) => setTimeout(resolve, 250));
        const session = await profiler.stop();
        counts.push(sessionSeries(session, 'ocr.calls.count').reduce((sum, v) => sum + (v ?? 0), 0));
      }
      process.stdout.write(JSON.stringify(counts));
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([8, 8]);
  });
});
