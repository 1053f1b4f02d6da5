import { LoadlightError } from '@loadlight/core';
import { timeOcr } from './hot.js';
import { PLUGIN_NAME } from './options.js';

/**
 * What `instrumentTesseract` needs of a worker: a `recognize` method (tesseract.js's
 * `createWorker()` result has one). tesseract.js itself is never imported.
 */
export interface RecognizingWorker {
  recognize(...args: never[]): unknown;
}

interface Instrumented {
  /** `recognize` as it was before instrumentation. */
  original: unknown;
  /** Whether `recognize` was the worker's own property (tesseract.js: yes) or inherited. */
  own: boolean;
  /** The wrapper put in its place. */
  wrapper: (...args: unknown[]) => unknown;
}

// On globalThis so that the ESM and CJS builds of this package (a program may load both) see the
// same instrumented workers: instrumenting one twice, through either, still wraps it once.
const INSTRUMENTED_KEY = Symbol.for('loadlight.plugin-ocr.tesseract.v1');
const instrumented = ((globalThis as Record<symbol, unknown>)[INSTRUMENTED_KEY] ??= new WeakMap()) as WeakMap<object, Instrumented>;

/**
 * Wraps a tesseract.js worker's `recognize` so that each call is timed as one OCR call, with the
 * confidence and the characters of `data`. Same signature, same resolved object, same
 * rejection; returns the same worker. Calling it again on the same worker changes nothing.
 *
 * ```ts
 * const worker = instrumentTesseract(await createWorker('eng'));
 * const { data } = await worker.recognize(png); // counted in ocr.* metrics while profiling
 * ```
 */
export function instrumentTesseract<W extends RecognizingWorker>(worker: W): W {
  if (worker === null || typeof worker !== 'object' || typeof (worker as { recognize?: unknown }).recognize !== 'function') {
    throw new LoadlightError(
      'PLUGIN_ERROR',
      'instrumentTesseract(worker): expected a tesseract.js worker (an object with a recognize() method, as createWorker() resolves to)',
      { plugin: PLUGIN_NAME },
    );
  }
  if (instrumented.has(worker)) return worker;
  const target = worker as unknown as Record<'recognize', (...args: unknown[]) => unknown>;
  const original = target.recognize;
  const wrapper = function recognize(this: unknown, ...args: unknown[]): unknown {
    return timeOcr(() => original.apply(this, args));
  };
  instrumented.set(worker, { original, own: Object.hasOwn(worker, 'recognize'), wrapper });
  target.recognize = wrapper;
  return worker;
}

/**
 * Puts back the worker's own `recognize`. Returns false when the worker was not instrumented, or
 * when something else replaced `recognize` since (that replacement is left alone).
 */
export function uninstrumentTesseract(worker: RecognizingWorker): boolean {
  const entry = instrumented.get(worker);
  if (!entry) return false;
  instrumented.delete(worker);
  const target = worker as unknown as Record<string, unknown>;
  if (target.recognize !== entry.wrapper) return false;
  if (entry.own) target.recognize = entry.original;
  else delete target.recognize;
  return true;
}

/** Whether `instrumentTesseract` wrapped this worker (and it was not uninstrumented since). */
export function isTesseractInstrumented(worker: RecognizingWorker): boolean {
  return instrumented.has(worker);
}
