import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import {
  describeError,
  validateOptions,
  type JsonSchema,
  type MetricDeclaration,
  type Plugin,
  type Profiler,
  type SampleWriter,
} from '@loadlight/core';
import { engine, Pending, type CpuMode, type RecorderLink, type RecorderNeeds } from './engine.js';
import { bucketOf, quantilesNs } from './latency.js';
import { PLUGIN_NAME } from './names.js';
import { hot, runtime, type ModuleSlot } from './runtime.js';
import { ownThreadClock, threadCpuAvailable } from './thread-cpu.js';
import { ModuleTrace } from './trace.js';

export interface ModulesOptions {
  /**
   * How the CPU of async continuations (the code after each `await` of a profiled async
   * function) is charged. Synchronous runs are always timed exactly by the wrappers.
   * - `auto` (default): V8's sampling CPU profiler, started only once the JavaScript thread
   *   spends more than 5% of a core (over 5 s) outside wrapped synchronous runs, the only place
   *   continuations can be; until then they are not charged. Starting the sampler costs 20 to
   *   130 ms once and running it about 0.1% of a core (see the README).
   * - `sampling`: V8's sampling CPU profiler, started right after the first sample; no cost per call.
   * - `precise`: async hooks time every continuation; costs on every async callback of the program.
   */
  cpu?: CpuMode;
  /**
   * Period of V8's CPU sampler (`sampling`, and `auto` once it started it), which runs only once
   * an async (or generator) function is profiled. Default 100 (each sample costs the process
   * about 50-80 us here; see the README), at least 1.
   */
  cpuSampleIntervalMs?: number;
  /** Memory per module from V8's sampling heap profiler (`sampling`, default) or not at all (`off`). */
  memory?: 'sampling' | 'off';
  /** Mean bytes allocated between two heap samples, in KB. Default 512, at least 16. */
  memorySampleIntervalKb?: number;
  /**
   * How often memory per module is read. Each read makes V8 collect garbage first (so that only
   * live objects count), which is why it is not every tick. Default 30000, at least 1000.
   */
  memoryReadIntervalMs?: number;
}

export const DEFAULT_OPTIONS: Readonly<Required<ModulesOptions>> = Object.freeze({
  cpu: 'auto',
  cpuSampleIntervalMs: 100,
  memory: 'sampling',
  memorySampleIntervalKb: 512,
  memoryReadIntervalMs: 30_000,
});

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cpu: { enum: ['auto', 'sampling', 'precise'] },
    cpuSampleIntervalMs: { type: 'number', minimum: 1, maximum: 1000 },
    memory: { enum: ['sampling', 'off'] },
    memorySampleIntervalKb: { type: 'number', minimum: 16, maximum: 65536 },
    memoryReadIntervalMs: { type: 'number', minimum: 1000, maximum: 3_600_000 },
  },
};

const MB = 1024 * 1024;
/**
 * `cpu: 'auto'`: the CPU of the JavaScript thread outside wrapped synchronous runs (percent of
 * one core) that starts the CPU sampler, and the window it is measured over. Not an option;
 * tests shorten the window.
 */
export const autoSampler = { thresholdPercent: 5, windowMs: 5_000 };
const QUANTILES = [0.5, 0.95, 0.99] as const;

type FieldDeclaration = Omit<MetricDeclaration, 'module'>;

/** The metrics of a profiled module, `module.<name>.<field>`. */
export const MODULE_METRICS: Readonly<Record<string, FieldDeclaration>> = Object.freeze({
  calls: { unit: 'count', kind: 'counter', description: 'calls (and spans) that finished since the previous tick' },
  calls_per_minute: { unit: 'per_minute', kind: 'gauge', formula: { op: 'per_minute', of: 'calls' }, description: 'calls that finished per minute, over the tick' },
  errors: { unit: 'count', kind: 'counter', description: 'calls that threw or rejected since the previous tick' },
  errors_per_minute: { unit: 'per_minute', kind: 'gauge', formula: { op: 'per_minute', of: 'errors' }, description: 'calls that threw or rejected per minute, over the tick' },
  total_ms: { unit: 'ms', kind: 'counter', description: 'summed latency of the calls that finished since the previous tick' },
  latency_mean_ms: { unit: 'ms', kind: 'gauge', formula: { op: 'ratio', of: 'total_ms', by: 'calls' }, description: 'mean latency of the calls of the tick (null without calls)' },
  latency_min_ms: { unit: 'ms', kind: 'gauge', aggregate: 'min', description: 'shortest call of the tick' },
  latency_max_ms: { unit: 'ms', kind: 'gauge', aggregate: 'max', description: 'longest call of the tick' },
  latency_p50_ms: { unit: 'ms', kind: 'gauge', description: 'median latency of the calls of the tick' },
  latency_p95_ms: { unit: 'ms', kind: 'gauge', description: '95th percentile latency of the calls of the tick' },
  latency_p99_ms: { unit: 'ms', kind: 'gauge', description: '99th percentile latency of the calls of the tick' },
  cpu_ms: { unit: 'ms', kind: 'counter', description: "on-CPU time of the module's own code since the previous tick (not its profiled callees')" },
  cpu_percent: { unit: 'percent', kind: 'gauge', formula: { op: 'percent_of_interval', of: 'cpu_ms' }, description: "the module's on-CPU time as a percent of one core over the tick" },
  memory_mb: { unit: 'mb', kind: 'gauge', description: "live heap allocated by the module's functions (V8's sampling heap profiler)" },
});

/** The metrics of a watched worker thread. */
export const WORKER_METRICS: Readonly<Record<string, FieldDeclaration>> = Object.freeze({
  cpu_ms: { unit: 'ms', kind: 'counter', description: "the worker thread's on-CPU time since the previous tick" },
  cpu_percent: { unit: 'percent', kind: 'gauge', formula: { op: 'percent_of_interval', of: 'cpu_ms' }, description: "the worker thread's on-CPU time as a percent of one core" },
  memory_mb: { unit: 'mb', kind: 'gauge', description: "the worker's heap in use plus its external memory (ArrayBuffers, WebAssembly)" },
});

interface Declared {
  tagsVersion: number;
  names: Record<string, string>;
  memoryUnavailable: boolean;
}

/** One plugin instance running in one profiler. */
class Recorder implements RecorderLink {
  readonly needs: RecorderNeeds;
  readonly pending = new Map<ModuleSlot, Pending>();
  private readonly profiler: Profiler;
  private readonly declared = new Map<ModuleSlot, Declared>();
  private readonly refused = new Set<ModuleSlot>();
  private lastAt = 0;
  private lastThreadCpuMs = 0;
  private clock: ReturnType<typeof ownThreadClock> | null = null;
  private readonly quantiles = [0, 0, 0];
  /** `cpu: 'auto'`: the loop's busy time, and what the wrappers timed of it, since the last decision. */
  private lastElu: EventLoopUtilization | null = null;
  private readonly untimed = { busyMs: 0, ownMs: 0, timedMs: 0, cpuMs: 0, elapsedMs: 0, lastOwnMs: 0, windows: 0 };

  constructor(profiler: Profiler, needs: RecorderNeeds) {
    this.profiler = profiler;
    this.needs = needs;
  }

  warn(message: string): void {
    this.profiler.warn(message);
  }

  start(): void {
    this.clock = ownThreadClock();
    this.lastAt = performance.now();
    this.lastThreadCpuMs = this.clock.readMs();
    this.lastElu = null;
    Object.assign(this.untimed, { busyMs: 0, ownMs: 0, timedMs: 0, cpuMs: 0, elapsedMs: 0, lastOwnMs: 0, windows: 0 });
    engine().attach(this);
  }

  stop(): void {
    engine().detach(this);
    this.clock?.close();
    this.clock = null;
  }

  async collect(w: SampleWriter): Promise<void> {
    const shared = engine();
    await shared.harvest();
    const started = performance.now();
    this.write(w);
    shared.stats.writes++;
    shared.stats.writeMs += performance.now() - started;
  }

  private write(w: SampleWriter): void {
    const at = performance.now();
    const elapsedMs = Math.max(1e-3, at - this.lastAt);
    this.lastAt = at;
    const threadMs = this.clock?.readMs() ?? this.lastThreadCpuMs;
    const threadDeltaMs = Math.max(0, threadMs - this.lastThreadCpuMs);
    this.lastThreadCpuMs = threadMs;

    // Wall-clock timings overstate CPU when the OS takes the core away (a loaded machine):
    // never charge the modules more than this thread really ran.
    // (forEach, not for-of over entries: at one tick a second this runs in V8's interpreter,
    // where each entry of a for-of allocates.)
    let chargedMs = 0;
    let syncMs = 0;
    this.pending.forEach((pending, slot) => {
      if (slot.kind !== 'code') return;
      chargedMs += this.cpuOf(pending);
      syncMs += pending.cpuSyncMs;
    });
    const scale = chargedMs > threadDeltaMs ? threadDeltaMs / chargedMs : 1;
    if (this.needs.cpu === 'auto') this.watchUntimed(syncMs, threadDeltaMs, elapsedMs);

    this.pending.forEach((pending, slot) => {
      if (!this.declared.has(slot) && (pending.calls > 0 || this.cpuOf(pending) > 0)) this.declare(slot);
    });
    runtime.slots.forEach((slot) => {
      if (slot.kind === 'worker' && slot.workers.size > 0 && !this.declared.has(slot)) this.declare(slot);
    });
    this.declared.forEach((declared, slot) => {
      if (declared.tagsVersion !== slot.tagsVersion) this.declare(slot);
      const pending = this.pending.get(slot);
      if (slot.kind === 'code') this.writeModule(w, slot, declared, pending, elapsedMs, scale);
      else this.writeWorker(w, slot, declared, pending, elapsedMs);
      pending?.reset();
    });
    this.pending.forEach((pending) => pending.reset());
  }

  /**
   * `cpu: 'auto'`: continuations run outside the wrapped synchronous runs, so they are at most
   * the loop's busy time minus what the wrappers timed (the rest of the profiler's own ticks
   * included). Once that exceeds the threshold over a window, the CPU sampler is worth its cost:
   * ask for it. The first tick (from start to the first collect) and the first window are left
   * out: they hold the profiler's start-up.
   */
  private watchUntimed(timedMs: number, threadCpuMs: number, elapsedMs: number): void {
    const shared = engine();
    if (shared.cpuSamplerRequested || !hot.continuations) {
      this.lastElu = null;
      return;
    }
    const elu = performance.eventLoopUtilization();
    const last = this.lastElu;
    this.lastElu = elu;
    // This plugin's own work (memory reads with their forced collection, locating functions,
    // writing the metrics) is busy time too, and no continuation's.
    const ownMs = shared.stats.harvestMs + shared.stats.writeMs;
    const u = this.untimed;
    const ownDeltaMs = ownMs - u.lastOwnMs;
    u.lastOwnMs = ownMs;
    if (!last) return;
    u.busyMs += elu.active - last.active;
    u.ownMs += ownDeltaMs;
    u.timedMs += timedMs;
    u.cpuMs += threadCpuMs;
    u.elapsedMs += elapsedMs;
    if (u.elapsedMs < autoSampler.windowMs) return;
    // Busy time and the wrappers' timings are wall-clock, which a loaded machine stretches (the
    // OS takes the core away): their untimed share is applied to the thread's CPU time instead.
    const untimedShare = u.busyMs > 0 ? Math.max(0, u.busyMs - u.ownMs - u.timedMs) / u.busyMs : 0;
    const untimedPercent = ((u.cpuMs * untimedShare) / u.elapsedMs) * 100;
    u.busyMs = u.ownMs = u.timedMs = u.cpuMs = u.elapsedMs = 0;
    // The first window holds the start-up (code compiled for the first time, metrics declared): not judged.
    if (u.windows++ === 0) return;
    if (untimedPercent >= autoSampler.thresholdPercent) shared.requestCpuSampler();
  }

  private cpuOf(pending: Pending): number {
    return pending.cpuSyncMs + (this.needs.cpu === 'precise' ? pending.cpuPreciseMs : pending.cpuSampledMs);
  }

  private writeModule(w: SampleWriter, slot: ModuleSlot, declared: Declared, pending: Pending | undefined, elapsedMs: number, scale: number): void {
    const n = declared.names;
    const calls = pending?.calls ?? 0;
    // calls_per_minute, errors_per_minute, latency_mean_ms and cpu_percent are computed by the
    // Store from these fields and the tick's interval (their `formula`): not written.
    w.set(n.calls!, calls);
    w.set(n.errors!, pending?.errors ?? 0);
    w.set(n.total_ms!, pending?.totalMs ?? 0);
    if (pending && calls > 0) {
      const q = this.quantiles;
      quantilesNs(pending.buckets!, calls, QUANTILES, q, bucketOf(pending.minMs * 1e6));
      w.set(n.latency_min_ms!, pending.minMs);
      w.set(n.latency_max_ms!, pending.maxMs);
      // Bucket midpoints are within 3.2%; the exact extremes bound them.
      w.set(n.latency_p50_ms!, Math.min(pending.maxMs, Math.max(pending.minMs, q[0]! / 1e6)));
      w.set(n.latency_p95_ms!, Math.min(pending.maxMs, Math.max(pending.minMs, q[1]! / 1e6)));
      w.set(n.latency_p99_ms!, Math.min(pending.maxMs, Math.max(pending.minMs, q[2]! / 1e6)));
    }
    // Without calls the latency fields stay unwritten: null, as every row starts.
    const cpuMs = pending ? this.cpuOf(pending) * scale : 0;
    w.set(n.cpu_ms!, cpuMs);
    if (!declared.memoryUnavailable) {
      const problem = engine().linkProblem;
      if (problem) {
        this.markUnavailable(n.memory_mb!, problem);
        declared.memoryUnavailable = true;
      } else {
        const bytes = engine().memoryOf(slot);
        w.set(n.memory_mb!, bytes === null ? null : bytes / MB);
      }
    }
  }

  private writeWorker(w: SampleWriter, slot: ModuleSlot, declared: Declared, pending: Pending | undefined, elapsedMs: number): void {
    const n = declared.names;
    let live = 0;
    let measured = 0;
    let heapBytes: number | null = null;
    for (const watch of slot.workers) {
      if (watch.exited) continue;
      live++;
      if (watch.tid !== null) measured++;
      if (watch.memoryBytes !== null) heapBytes = (heapBytes ?? 0) + watch.memoryBytes;
    }
    if (threadCpuAvailable) {
      const cpuMs = live > 0 && measured > 0 ? (pending?.cpuWorkerMs ?? 0) : null;
      w.set(n.cpu_ms!, cpuMs); // cpu_percent: computed by the Store (its formula)
    }
    w.set(n.memory_mb!, live > 0 && heapBytes !== null ? heapBytes / MB : null);
  }

  /** Declares a module's metrics the first time it is seen (and again when its tags change). */
  private declare(slot: ModuleSlot): void {
    if (this.refused.has(slot)) return;
    const fields = slot.kind === 'code' ? MODULE_METRICS : WORKER_METRICS;
    const names: Record<string, string> = {};
    // One frozen copy of the tags for the module's metrics (not one array per metric).
    const tags = Object.freeze([...slot.tags]) as string[];
    try {
      for (const [field, declaration] of Object.entries(fields)) {
        const name = `module.${slot.name}.${field}`;
        this.profiler.declareMetric(name, { ...declaration, module: { name: slot.name, field, tags } }, PLUGIN_NAME);
        names[field] = name;
      }
    } catch (error) {
      // Another plugin (plugin-system's watchProcess) already has this module name.
      this.refused.add(slot);
      this.declared.delete(slot);
      this.profiler.warn(`modules: module "${slot.name}" is not reported: ${describeError(error)}`);
      return;
    }
    let memoryUnavailable = false;
    if (slot.kind === 'code' && this.needs.memory === 'off') {
      this.markUnavailable(names.memory_mb!, "memory attribution is off (modules plugin option memory: 'off')");
      memoryUnavailable = true;
    }
    if (slot.kind === 'worker' && !threadCpuAvailable) {
      const reason = "a thread's CPU time is read from /proc/self/task/<tid>, which only Linux provides";
      this.markUnavailable(names.cpu_ms!, reason);
      this.markUnavailable(names.cpu_percent!, reason);
    }
    this.declared.set(slot, { tagsVersion: slot.tagsVersion, names, memoryUnavailable });
  }

  private markUnavailable(name: string, reason: string): void {
    try {
      this.profiler.markUnavailable(name, reason);
    } catch {
      // not declared (refused): nothing to mark
    }
  }
}

const recorders = new WeakMap<Profiler, Recorder>();

/**
 * The modules source: calls, errors, latency, CPU and memory of every module profiled with
 * `profileModule`, `@profile` or `moduleSpan`, and of watched worker threads, as
 * `module.<name>.<field>` metrics declared when a module is first seen.
 *
 * ```ts
 * import modules from '@loadlight/plugin-modules';
 * const profiler = new Profiler({ plugins: [modules({ cpu: 'precise' })] });
 * ```
 */
export function modules(options?: ModulesOptions): Plugin {
  validateOptions(PLUGIN_NAME, optionsSchema, options);
  const needs: RecorderNeeds = { ...DEFAULT_OPTIONS, ...stripUndefined(options ?? {}) };
  return {
    name: PLUGIN_NAME,
    metrics: {},
    apply(profiler: Profiler): void {
      const recorder = new Recorder(profiler, needs);
      recorders.set(profiler, recorder);
      // Calls as trace spans, recorded once an exporter enables it (the JSON reporter's `trace`).
      const trace = new ModuleTrace();
      profiler.provide('trace', trace);
      profiler.hooks.start.tap(PLUGIN_NAME, () => {
        recorder.start();
        trace.start();
      });
      profiler.hooks.collect.tapPromise(PLUGIN_NAME, (w) => recorder.collect(w));
      // V8's CPU sampler starts after a committed sample, never inside a tick (see Engine.afterCommit).
      profiler.hooks.sample.tap(PLUGIN_NAME, () => engine().afterCommit());
      profiler.hooks.stop.tap(PLUGIN_NAME, () => {
        try {
          recorder.stop();
        } finally {
          trace.stop();
        }
      });
    },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
