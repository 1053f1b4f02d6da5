import type { Plugin, Profiler } from '@loadlight/core';
import { NAME, resolveSettings, uiDirFor, type DashboardOptions } from './options.js';
import { DashboardServer, newToken } from './server.js';

export type { DashboardOptions } from './options.js';
export { DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV, isLoopback } from './options.js';
export { DashboardServer, newToken, type ServerOptions } from './server.js';
export { dashboardSnapshot } from './view.js';
export * from './protocol.js';

/** The `dashboard` reporter; `url` tells programs and tests where the panel is. */
export interface DashboardReporter extends Plugin {
  readonly name: 'dashboard';
  /** `http://<host>:<port>/?token=<token>` while the server listens, else null. */
  readonly url: string | null;
  /** The server of the latest started profiler, while it listens. */
  readonly server: DashboardServer | null;
}

/**
 * Serves the live performance panel from the profiled process: the built page, a JSON API and
 * Server-Sent Events at each report. Loopback only by default; every API request needs the
 * session's token (printed in the URL at start) and writes need the same origin.
 *
 * @example new Profiler({ plugins: [system()], reporters: [dashboard({ port: 0 })] })
 */
export default function dashboard(options: DashboardOptions = {}): DashboardReporter {
  options ??= {};
  const settings = resolveSettings(options);
  // Per profiler, so that one reporter object can serve two profilers without mixing them.
  const servers = new WeakMap<Profiler, DashboardServer>();
  let current: DashboardServer | null = null;

  const close = async (profiler: Profiler): Promise<void> => {
    const server = servers.get(profiler);
    if (!server) return;
    servers.delete(profiler);
    if (current === server) current = null;
    await server.close();
  };

  return {
    name: NAME,
    get url() {
      return current?.url ?? null;
    },
    get server() {
      return current;
    },
    apply(profiler: Profiler) {
      profiler.hooks.start.tapPromise(NAME, async () => {
        await close(profiler);
        const server = new DashboardServer(profiler, {
          ...settings,
          uiDir: uiDirFor(settings, profiler.config.baseDir),
          token: settings.token ?? newToken(),
        });
        await server.listen();
        servers.set(profiler, server);
        current = server;
        if (settings.remote) {
          profiler.warn(
            `the dashboard listens on ${settings.host}, beyond loopback: anyone who can reach this machine and has the token can run actions`,
          );
        }
        if (!settings.quiet) process.stderr.write(`loadlight dashboard: ${server.url}\n`);
      });

      profiler.hooks.report.tapPromise(NAME, async (snapshot) => {
        servers.get(profiler)?.publishSnapshot(snapshot);
      });

      profiler.hooks.stop.tapPromise(NAME, () => close(profiler));
    },
  };
}

export { dashboard };
