import type { MetricDeclaration, Plugin } from './types.js';
import type { Profiler } from './profiler.js';

/**
 * Types a plugin; adds nothing at run time.
 *
 * ```ts
 * export default definePlugin({
 *   name: 'queue',
 *   metrics: { 'queue.depth': { unit: 'count', kind: 'gauge', description: 'jobs waiting' } },
 *   apply(profiler) {
 *     profiler.hooks.collect.tapPromise('queue', async (w) => w.set('queue.depth', queue.length));
 *   },
 * });
 * ```
 */
export function definePlugin<const M extends Record<string, MetricDeclaration>>(plugin: {
  name: string;
  metrics?: M;
  apply(profiler: Profiler): void;
}): Plugin & { metrics: M } {
  return plugin as Plugin & { metrics: M };
}
