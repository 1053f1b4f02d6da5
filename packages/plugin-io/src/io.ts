import type { MetricDeclaration, Plugin, Profiler } from '@loadlight/core';
import { HostIoSampler } from './host.js';
import { HOST_METRICS, WAIT_METRICS } from './metrics.js';
import { PLUGIN_NAME, resolveOptions, type IoOptions } from './options.js';
import { MAX_WAIT_MS, WaitReader } from './waits.js';

interface IoState {
  waits: WaitReader;
  host: HostIoSampler | null;
}

/** What one `io` plugin runs for one profiler (a plugin object may serve several profilers). */
const states = new WeakMap<Profiler, IoState>();

/**
 * The IO source: this program's IO waits (`trackIoWait()`, `timeIo()`), and, unless
 * `host: false`, the host's disk and network throughput and CPU iowait.
 *
 * ```ts
 * import io, { timeIo } from '@loadlight/plugin-io';
 * const profiler = new Profiler({ plugins: [io()] });
 * ```
 */
export function io(options?: IoOptions): Plugin {
  const resolved = resolveOptions(options);
  // Only what is measured is declared: a metric in the catalogue is one that is measured.
  const metrics: Record<string, MetricDeclaration> = { ...WAIT_METRICS, ...(resolved.host ? HOST_METRICS : {}) };
  return {
    name: PLUGIN_NAME,
    metrics,
    apply(profiler: Profiler): void {
      const host = resolved.host ? new HostIoSampler({ onError: (error) => profiler.recordFault(PLUGIN_NAME, 'collect', error) }) : null;
      const state: IoState = { waits: new WaitReader(), host };
      states.set(profiler, state);
      const { waits } = state;

      if (host) for (const [name, reason] of Object.entries(host.unavailable())) profiler.markUnavailable(name, reason);

      profiler.hooks.start.tapPromise(PLUGIN_NAME, async () => {
        waits.start();
        if (host) for (const [name, reason] of Object.entries(await host.start())) profiler.markUnavailable(name, reason);
      });
      // Separate taps: a failing host read must not null the wait metrics, and the other way round.
      profiler.hooks.collect.tap(PLUGIN_NAME, (w) => {
        if (waits.read(w) > 0) {
          profiler.warn(
            `trackIoWait() was given values that are not a wait in milliseconds (NaN, negative or over ${MAX_WAIT_MS} ms); they were ignored`,
          );
        }
      });
      if (host) profiler.hooks.collect.tap(PLUGIN_NAME, (w) => host.collect(w));
      profiler.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
        waits.stop();
        host?.stop();
      });
    },
  };
}
