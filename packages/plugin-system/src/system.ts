import type { MetricDeclaration, Plugin, Profiler } from '@loadlight/core';
import { watchProcess } from './children.js';
import { HostSampler } from './host.js';
import { EVENT_LOOP_METRICS, GC_METRICS, HOST_METRICS, PROCESS_METRICS } from './metrics.js';
import { PLUGIN_NAME, resolveOptions, type SystemOptions } from './options.js';
import { ProcessSampler } from './process.js';

interface SystemState {
  host: HostSampler | null;
  process: ProcessSampler | null;
}

/** What one `system` plugin runs for one profiler (a plugin object may serve several profilers). */
const states = new WeakMap<Profiler, SystemState>();

/**
 * The system source: host CPU, memory and load; this process's CPU, memory and heap; event-loop
 * delay and utilisation; GC; and any processes listed in `processes` (see `watchProcess`).
 *
 * ```ts
 * import system from '@loadlight/plugin-system';
 * const profiler = new Profiler({ plugins: [system({ gc: false })] });
 * ```
 */
export function system(options?: SystemOptions): Plugin {
  const resolved = resolveOptions(options);
  // Only the groups that are on are declared: a metric in the catalogue is one that is measured.
  const metrics: Record<string, MetricDeclaration> = {
    ...(resolved.host ? HOST_METRICS : {}),
    ...(resolved.process ? PROCESS_METRICS : {}),
    ...(resolved.eventLoop ? EVENT_LOOP_METRICS : {}),
    ...(resolved.gc ? GC_METRICS : {}),
  };
  return {
    name: PLUGIN_NAME,
    metrics,
    apply(profiler: Profiler): void {
      const state: SystemState = {
        host: resolved.host ? new HostSampler() : null,
        process: resolved.process || resolved.eventLoop || resolved.gc ? new ProcessSampler(resolved) : null,
      };
      states.set(profiler, state);
      const { host, process: own } = state;

      if (host) {
        for (const [name, reason] of Object.entries(host.unavailable())) profiler.markUnavailable(name, reason);
      }

      profiler.hooks.start.tapPromise(PLUGIN_NAME, async () => {
        own?.start();
        if (host) {
          await host.start();
          const problem = host.memoryProblem;
          if (problem) {
            profiler.markUnavailable('system.memory.used_mb', problem);
            profiler.markUnavailable('system.memory.used_percent', problem);
          }
        }
      });
      // Separate taps: a failing host read must not null this process's metrics, and the other way round.
      if (host) profiler.hooks.collect.tapPromise(PLUGIN_NAME, (w) => host.collect(w));
      if (own) profiler.hooks.collect.tapPromise(PLUGIN_NAME, async (w) => own.collect(w));
      profiler.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
        own?.stop();
        host?.stop();
      });

      for (const { pid, name } of resolved.processes) watchProcess(pid, name, profiler);
    },
  };
}
