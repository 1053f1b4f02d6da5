import { createRequire } from 'node:module';
import { createCanvas } from '@napi-rs/canvas';
import { isLoadlightError } from '@loadlight/core';
import { createTestProfiler, moreSamples, present, stopTestProfilers, total } from '@loadlight/core/testing';
import { createWorker, type RecognizeResult, type Worker } from 'tesseract.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hotPathState } from './hot.js';
import ocr, { instrumentTesseract, isTesseractInstrumented, uninstrumentTesseract } from './index.js';

// A real tesseract.js worker with the English data from @tesseract.js-data/eng: nothing is fetched.
const eng = createRequire(import.meta.url)('@tesseract.js-data/eng') as { langPath: string };

/** A white PNG with black text, as a HUD line on screen. */
function renderText(text: string): Buffer {
  const canvas = createCanvas(420, 80);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, 420, 80);
  ctx.fillStyle = '#000000';
  ctx.font = '36px sans-serif';
  ctx.fillText(text, 16, 54);
  return canvas.toBuffer('image/png');
}

let worker: Worker;

beforeAll(async () => {
  // errorHandler: tesseract.js otherwise throws a worker's job failure out of its message handler.
  worker = await createWorker('eng', 1, { langPath: eng.langPath, gzip: true, cacheMethod: 'none', errorHandler: () => undefined });
}, 120_000);

afterAll(async () => {
  await worker?.terminate();
});

afterEach(async () => {
  uninstrumentTesseract(worker);
  await stopTestProfilers();
});

describe('instrumentTesseract', () => {
  it('leaves a real recognition unchanged and measures it', async () => {
    const png = renderText('SCORE 4821');
    const plain = await worker.recognize(png);
    expect(plain.data.text.trim()).toBe('SCORE 4821');

    // Observe what tesseract.js itself resolves with, under the instrumentation.
    const tesseractRecognize = worker.recognize;
    const resolvedByTesseract: RecognizeResult[] = [];
    worker.recognize = async (...args: Parameters<Worker['recognize']>) => {
      const result = await tesseractRecognize(...args);
      resolvedByTesseract.push(result);
      return result;
    };
    const observed = worker.recognize;

    const { profiler } = createTestProfiler([ocr()], { sampleIntervalMs: 100 });
    await profiler.start();
    expect(instrumentTesseract(worker)).toBe(worker);
    const wrapped = worker.recognize;
    expect(wrapped).not.toBe(observed);
    expect(instrumentTesseract(worker)).toBe(worker); // idempotent: not wrapped twice
    expect(worker.recognize).toBe(wrapped);
    expect(isTesseractInstrumented(worker)).toBe(true);

    const before = hotPathState.totals();
    const first = await worker.recognize(png);
    const second = await worker.recognize(png, {}, { text: true });
    // The very objects tesseract.js resolved with.
    expect(resolvedByTesseract).toHaveLength(2);
    expect(first).toBe(resolvedByTesseract[0]);
    expect(second).toBe(resolvedByTesseract[1]);
    for (const result of [first, second]) {
      expect(result.data.text).toBe(plain.data.text);
      expect(result.data.confidence).toBe(plain.data.confidence);
      expect(Object.keys(result)).toEqual(Object.keys(plain));
      expect(Object.keys(result.data)).toEqual(Object.keys(plain.data));
    }
    const after = hotPathState.totals();
    expect(after.calls - before.calls).toBe(2);
    expect(after.chars - before.chars).toBe(2 * plain.data.text.length);
    expect(after.confidenceCount - before.confidenceCount).toBe(2);
    expect(after.unchanged - before.unchanged).toBe(1); // the same text twice

    await moreSamples(profiler, 2);
    await profiler.stop();
    expect(total(profiler, 'ocr.calls.count')).toBe(2);
    const confidence = present(profiler, 'ocr.confidence.mean');
    expect(confidence.length).toBeGreaterThanOrEqual(1);
    for (const value of confidence) expect(value).toBe(plain.data.confidence);
    expect(plain.data.confidence).toBeGreaterThan(80);
    expect(present(profiler, 'ocr.chars.per_minute').some((v) => v > 0)).toBe(true);
    const latencies = present(profiler, 'ocr.latency.max_ms');
    expect(latencies.length).toBeGreaterThanOrEqual(1);
    for (const ms of latencies) expect(ms).toBeGreaterThan(1); // a real recognition takes tens of ms

    expect(uninstrumentTesseract(worker)).toBe(true);
    expect(worker.recognize).toBe(observed);
    expect(isTesseractInstrumented(worker)).toBe(false);
    expect(uninstrumentTesseract(worker)).toBe(false);
    worker.recognize = tesseractRecognize;
  });

  it('lets a failed recognition reject with the same reason, counted as an error', async () => {
    const notAnImage = Buffer.from('this is not a PNG');
    const plainReason = await worker.recognize(notAnImage).then(
      () => 'resolved',
      (reason: unknown) => reason,
    );
    expect(plainReason).not.toBe('resolved');

    const { profiler } = createTestProfiler([ocr()], { sampleIntervalMs: 100 });
    await profiler.start();
    instrumentTesseract(worker);
    const before = hotPathState.totals();
    const reason = await worker.recognize(notAnImage).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(reason).toEqual(plainReason);
    expect(hotPathState.totals().errors - before.errors).toBe(1);
    await moreSamples(profiler, 2);
    await profiler.stop();
    expect(present(profiler, 'ocr.errors.per_minute').some((v) => v > 0)).toBe(true);

    // The worker still reads after the failure.
    const { data } = await worker.recognize(renderText('LEVEL 7'));
    expect(data.text.trim()).toBe('LEVEL 7');
  });

  it('passes recognitions through while no profiler runs, and rejects what is not a worker', async () => {
    instrumentTesseract(worker);
    const before = hotPathState.totals();
    const { data } = await worker.recognize(renderText('HP 100'));
    expect(data.text.trim()).toBe('HP 100');
    expect(hotPathState.totals()).toEqual(before);

    let caught: unknown;
    try {
      instrumentTesseract({} as never);
    } catch (error) {
      caught = error;
    }
    expect(isLoadlightError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/expected a tesseract\.js worker \(an object with a recognize\(\) method/);
  });
});
