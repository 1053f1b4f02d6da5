import { performance } from 'node:perf_hooks';
import pidusage from 'pidusage';
import { describeError, getProfiler, LoadlightError, type Profiler, type SampleWriter } from '@loadlight/core';
import { MB, processMetrics } from './metrics.js';
import { processModuleName } from './names.js';
import { PLUGIN_NAME } from './options.js';

interface Watch {
  pid: number;
  name: string;
  cpuMetric: string;
  memoryMetric: string;
  /** CPU time (user + system) at the previous reading, in ms; -1 before the first. */
  lastCpuMs: number;
  lastAt: number;
  gone: boolean;
}

/**
 * pidusage keeps a module-wide history and an (unref'd) interval to expire it. It is cleared
 * when the last watcher in this process stops, so that other profilers keep theirs.
 */
let pidusageUsers = 0;

/** Watched processes of one profiler; found through `watchers`, a WeakMap keyed by the profiler. */
class ProcessWatcher {
  private readonly profiler: Profiler;
  private readonly watches = new Map<string, Watch>();
  private reading = false;
  private usingPidusage = false;

  constructor(profiler: Profiler) {
    this.profiler = profiler;
    profiler.hooks.collect.tapPromise(PLUGIN_NAME, (w) => this.collect(w));
    profiler.hooks.stop.tapPromise(PLUGIN_NAME, async () => this.stop());
  }

  watch(pid: number, name: string): () => void {
    const metrics = processMetrics(name, pid);
    this.profiler.declareMetric(metrics.cpu.name, metrics.cpu.declaration, PLUGIN_NAME);
    this.profiler.declareMetric(metrics.memory.name, metrics.memory.declaration, PLUGIN_NAME);
    // Watching a name again (a restarted worker) moves it to the new pid; the series carries on.
    const watch: Watch = {
      pid,
      name,
      cpuMetric: metrics.cpu.name,
      memoryMetric: metrics.memory.name,
      lastCpuMs: -1,
      lastAt: 0,
      gone: false,
    };
    this.watches.set(name, watch);
    return () => {
      if (this.watches.get(name) === watch) this.watches.delete(name);
    };
  }

  private async collect(w: SampleWriter): Promise<void> {
    // A read that outlived the collect time-out is still running: skip rather than pile up.
    if (this.watches.size === 0 || this.reading) return;
    const live: Watch[] = [];
    for (const watch of this.watches.values()) {
      if (watch.gone) {
        w.set(watch.cpuMetric, null);
        w.set(watch.memoryMetric, null);
      } else {
        live.push(watch);
      }
    }
    if (live.length === 0) return;

    this.reading = true;
    if (!this.usingPidusage) {
      this.usingPidusage = true;
      pidusageUsers++;
    }
    let stats: Record<string, pidusage.Status | undefined>;
    let readError: string | null = null;
    try {
      // One call for every pid; with several, pidusage leaves out the ones it cannot read.
      stats = await pidusage([...new Set(live.map((watch) => watch.pid))]);
    } catch (error) {
      stats = {};
      readError = describeError(error);
    } finally {
      this.reading = false;
    }
    const at = performance.now();

    for (const watch of live) {
      const stat = stats[watch.pid];
      if (!stat) {
        this.lost(watch, readError);
        w.set(watch.cpuMetric, null);
        w.set(watch.memoryMetric, null);
        continue;
      }
      w.set(watch.memoryMetric, stat.memory / MB);
      // pidusage's own `cpu` is relative to its process-wide history (shared by every caller);
      // the CPU time since this watcher's previous reading is exact for this profiler.
      w.set(
        watch.cpuMetric,
        watch.lastCpuMs >= 0 && at > watch.lastAt ? Math.max(0, ((stat.ctime - watch.lastCpuMs) / (at - watch.lastAt)) * 100) : null,
      );
      watch.lastCpuMs = stat.ctime;
      watch.lastAt = at;
    }
  }

  /** A pid that could not be read: gone for good when it no longer exists (its pid may be reused). */
  private lost(watch: Watch, reason: string | null): void {
    if (!isAlive(watch.pid)) {
      watch.gone = true;
      this.profiler.warn(
        `watched process "${watch.name}" (pid ${watch.pid}) is not running; ${watch.cpuMetric} and ${watch.memoryMetric} are null from now on`,
      );
      return;
    }
    this.profiler.warn(
      `cannot read watched process "${watch.name}" (pid ${watch.pid})${reason ? `: ${reason}` : ''}; its metrics are null while this lasts`,
    );
  }

  private stop(): void {
    if (!this.usingPidusage) return;
    this.usingPidusage = false;
    pidusageUsers--;
    // Drops pidusage's history and its expiry interval.
    if (pidusageUsers === 0) pidusage.clear();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const watchers = new WeakMap<Profiler, ProcessWatcher>();

/**
 * Watches another process (a worker, a child program) through pidusage: its CPU (% of one core)
 * and resident memory become `module.<name>.cpu_percent` and `module.<name>.memory_mb`. When the
 * process exits its values become null, with one warning. Returns a function that stops watching.
 *
 * ```ts
 * const worker = spawn(process.execPath, ['worker.js']);
 * const unwatch = watchProcess(worker.pid!, 'ocr-worker', profiler);
 * ```
 *
 * `profiler` defaults to the process-wide one (`startProfiling()`). `name` is trimmed and lower
 * cased; spaces and dots become `_`.
 */
export function watchProcess(pid: number, name: string, profiler?: Profiler): () => void {
  const call = `watchProcess(${describeArgument(pid)}, ${describeArgument(name)})`;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) {
    throw new LoadlightError('PLUGIN_OPTIONS_INVALID', `${call}: the pid must be a whole number of at least 1.`, { plugin: PLUGIN_NAME });
  }
  let moduleName: string;
  try {
    moduleName = processModuleName(name);
  } catch (error) {
    throw new LoadlightError('PLUGIN_OPTIONS_INVALID', `${call}: the name ${(error as Error).message}`, { plugin: PLUGIN_NAME, cause: error });
  }
  const target = profiler ?? getProfiler();
  if (!target) {
    throw new LoadlightError(
      'PROFILER_STATE',
      `${call}: no profiler to report to. Pass one as the third argument, or call startProfiling() first.`,
      { plugin: PLUGIN_NAME },
    );
  }
  let watcher = watchers.get(target);
  if (!watcher) {
    watcher = new ProcessWatcher(target);
    watchers.set(target, watcher);
  }
  return watcher.watch(pid, moduleName);
}

function describeArgument(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
