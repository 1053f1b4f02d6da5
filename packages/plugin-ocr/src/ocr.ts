import type { Plugin, Profiler } from '@loadlight/core';
import { closeWindow, openWindow, type OcrWindow } from './hot.js';
import { OCR_METRICS } from './metrics.js';
import { PLUGIN_NAME, resolveOptions, type OcrOptions } from './options.js';

/**
 * The OCR source: calls, errors and characters per minute, a latency histogram, mean confidence
 * and the share of unchanged texts, from `trackOcrCall`, `timeOcr` and instrumented tesseract.js
 * workers.
 *
 * ```ts
 * import ocr from '@loadlight/plugin-ocr';
 * const profiler = new Profiler({ plugins: [ocr()] });
 * ```
 */
export function ocr(options?: OcrOptions): Plugin {
  resolveOptions(options);
  /** One window per profiler this plugin object serves. */
  const windows = new WeakMap<Profiler, { window: OcrWindow | null }>();
  return {
    name: PLUGIN_NAME,
    metrics: OCR_METRICS,
    apply(profiler: Profiler): void {
      const state: { window: OcrWindow | null } = { window: null };
      windows.set(profiler, state);
      // Last of the start taps: if another plugin's start fails, the hot path was never switched on.
      profiler.hooks.start.tapPromise({ name: PLUGIN_NAME, stage: 100 }, async () => {
        state.window = openWindow();
      });
      profiler.hooks.collect.tap(PLUGIN_NAME, (w) => state.window?.collect(w));
      profiler.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
        if (state.window) closeWindow(state.window);
        state.window = null;
      });
    },
  };
}
