import type { Plugin, Profiler } from '@loadlight/core';
import { closeWindow, openWindow, type FramesWindow } from './hot.js';
import { FRAMES_METRICS } from './metrics.js';
import { PLUGIN_NAME, resolveOptions, type FramesOptions } from './options.js';

/**
 * The frames source: frames analysed per minute, achieved fps against `targetFps`, a frame-time
 * histogram, late frames (over the budget, `1000 / targetFps` ms) and dropped frames, from
 * `trackFrame`, `frameStart`/`frameEnd`, `frameTimer` and `trackFrameDropped`.
 *
 * ```ts
 * import frames from '@loadlight/plugin-frames';
 * const profiler = new Profiler({ plugins: [frames({ targetFps: 30 })] });
 * ```
 */
export function frames(options?: FramesOptions): Plugin {
  const { targetFps } = resolveOptions(options);
  /** One window per profiler this plugin object serves. */
  const states = new WeakMap<Profiler, { window: FramesWindow | null }>();
  return {
    name: PLUGIN_NAME,
    metrics: FRAMES_METRICS,
    apply(profiler: Profiler): void {
      const state: { window: FramesWindow | null } = { window: null };
      states.set(profiler, state);
      // Last of the start taps: if another plugin's start fails, the hot path was never switched on.
      profiler.hooks.start.tapPromise({ name: PLUGIN_NAME, stage: 100 }, async () => {
        state.window = openWindow(targetFps);
      });
      profiler.hooks.collect.tap(PLUGIN_NAME, (w) => state.window?.collect(w));
      profiler.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
        if (state.window) closeWindow(state.window);
        state.window = null;
      });
    },
  };
}
