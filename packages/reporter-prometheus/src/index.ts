import { LoadlightError, type Plugin, type Profiler } from '@loadlight/core';
import type { Registry } from 'prom-client';
import { Exporter } from './exporter.js';
import { NAME, resolveSettings, type PrometheusOptions } from './options.js';
import { MetricsServer } from './server.js';

export type { PrometheusOptions } from './options.js';
export { DEFAULT_HOST, DEFAULT_PATH, DEFAULT_PORT, DEFAULT_PREFIX } from './options.js';
export { exposedName, exposedType, exposedUnit, MB, type ExposedUnit } from './names.js';
export { LEVEL_VALUES } from './exporter.js';

/** The `prometheus` reporter; `url` tells programs and tests where to scrape. */
export interface PrometheusReporter extends Plugin {
  readonly name: 'prometheus';
  /** `http://<host>:<port>/metrics` while the server listens, else null. */
  readonly url: string | null;
  /**
   * The prom-client Registry of the latest started profiler (kept after it stops, with its final
   * values), or null before any start. It is its own registry, never prom-client's global one.
   */
  readonly registry: Registry | null;
  /** The exposition of the latest started profiler, to serve it from a server of your own. */
  exposition(): Promise<string>;
}

interface State {
  exporter: Exporter;
  server: MetricsServer | null;
}

/**
 * Serves the profiler's metrics at `/metrics` in the Prometheus text format, from a prom-client
 * Registry of its own: every metric with its unit in its name, modules as a `module` label, the
 * load level of each subject and the active alerts. Loopback only unless `host` says otherwise.
 *
 * @example new Profiler({ plugins: [system()], reporters: [prometheus({ port: 0, labels: { bot: 'reader-1' } })] })
 */
export default function prometheus(options: PrometheusOptions = {}): PrometheusReporter {
  options ??= {};
  const settings = resolveSettings(options);
  // Per profiler, so that one reporter object can serve two profilers without mixing them.
  const states = new WeakMap<Profiler, State>();
  let current: State | null = null;

  const close = async (state: State | undefined): Promise<void> => {
    const server = state?.server;
    if (!server || !state) return;
    state.server = null;
    await server.close();
  };

  return {
    name: NAME,
    get url() {
      return current?.server?.url ?? null;
    },
    get registry() {
      return current?.exporter.registry ?? null;
    },
    exposition() {
      if (!current) {
        return Promise.reject(new LoadlightError('PROFILER_STATE', `the ${NAME} reporter has no profiler yet: start one first`, { plugin: NAME }));
      }
      return current.exporter.metrics();
    },
    apply(profiler: Profiler) {
      profiler.hooks.start.tapPromise(NAME, async () => {
        await close(states.get(profiler));
        const exporter = new Exporter(profiler, settings.prefix, settings.labels);
        const state: State = { exporter, server: null };
        states.set(profiler, state);
        current = state;
        const server = new MetricsServer(exporter, settings);
        await server.listen();
        state.server = server;
        if (!settings.quiet) process.stderr.write(`loadlight prometheus: ${server.url}\n`);
      });

      profiler.hooks.sample.tap(NAME, () => states.get(profiler)?.exporter.onSample());

      profiler.hooks.stop.tapPromise(NAME, () => close(states.get(profiler)));
    },
  };
}

export { prometheus };
