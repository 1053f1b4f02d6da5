import { loadConfig } from './config.js';
import { Profiler } from './profiler.js';
import type { LoadlightConfig, SessionProfile } from './types.js';

export interface StartOptions extends LoadlightConfig {
  /** A config file to read, or false to read none. Default: search from `cwd` (cosmiconfig, `perf`). */
  configFile?: string | false;
  /** Where to search for the config. Default: process.cwd(). */
  cwd?: string;
  /** Stop (and export) on SIGINT, SIGTERM and beforeExit. Default true. */
  handleExit?: boolean;
}

// On globalThis so that the ESM and CJS builds of core share one default instance.
const KEY = Symbol.for('loadlight.defaultProfiler');
type Slot = { profiler?: Profiler; starting?: Promise<Profiler> };
const slot = ((globalThis as Record<symbol, unknown>)[KEY] ??= {}) as Slot;

/**
 * Starts the process-wide profiler: reads perf.config.* (or the embedded default when there is
 * none), overrides it with `options`, and starts sampling. Calling it again returns the same one.
 */
export async function startProfiling(options: StartOptions = {}): Promise<Profiler> {
  if (slot.profiler?.running) return slot.profiler;
  if (slot.starting) return slot.starting;
  const { configFile, cwd, handleExit, ...overrides } = options;
  slot.starting = (async () => {
    const loaded = configFile === false ? null : await loadConfig({ ...(cwd ? { cwd } : {}), ...(configFile ? { configFile } : {}) });
    const profiler = new Profiler(
      { ...(loaded?.config ?? {}), ...overrides },
      { configFile: loaded?.filepath ?? null, ...(cwd && !loaded ? { baseDir: cwd } : {}), handleExit: handleExit ?? true },
    );
    await profiler.start();
    slot.profiler = profiler;
    return profiler;
  })();
  try {
    return await slot.starting;
  } finally {
    slot.starting = undefined;
  }
}

/** Stops the process-wide profiler and resolves with its session (null when none runs). */
export async function stopProfiling(): Promise<SessionProfile | null> {
  const profiler = slot.profiler;
  if (!profiler) return null;
  slot.profiler = undefined;
  return profiler.stop();
}

/** The process-wide profiler, or undefined before `startProfiling()`. */
export function getProfiler(): Profiler | undefined {
  return slot.profiler;
}
