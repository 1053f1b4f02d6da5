import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Worker } from 'node:worker_threads';
import { bucketOf, NO_BUCKETS } from './latency.js';
import type { ThreadClock } from './thread-cpu.js';

/**
 * What the hot path reads and writes. One object per process (see `runtime`), so that a
 * wrapper from the ESM build and a plugin from the CJS build (a perf.config.ts read through
 * jiti) see the same modules.
 */
export interface HotState {
  /** Plugin instances running (one per profiler). 0: wrappers call straight through. */
  running: number;
  /**
   * Time spent in wrapped calls nested in the current frame, in ms. A frame sets it to 0 on
   * entry and, on exit, charges itself `its time - hot.childMs` (its self time) and restores
   * `saved + its time` for its parent.
   */
  childMs: number;
  /** Plugin instances charging async continuations with async hooks (`cpu: 'precise'`). */
  precise: number;
  /** Set once a wrapped function returned a promise: the CPU sampler has work to do. */
  continuations: boolean;
  /** Counts synchronous runs that opened a span: a span whose end sees another run crossed an await. */
  run: number;
  /** A microtask is queued to end the current run. */
  probePending: boolean;
  /** Plugin instances recording a trace (trace.ts): each finished call is also appended to `runtime.trace`. */
  tracing: number;
}

/** A function wrapped for a module, kept weakly until its source location is known. */
export interface WrappedFunction {
  fn: WeakRef<(...args: never[]) => unknown>;
  located: boolean;
}

/** One watched worker thread (see watchWorker). */
export interface WorkerWatch {
  worker: Worker;
  threadId: number;
  slot: ModuleSlot;
  /** OS thread id, once the worker told us (Linux). */
  tid: number | null;
  /** Reads that thread's CPU time. */
  clock: ThreadClock | null;
  /** Why its CPU time cannot be read, when it cannot. */
  cpuProblem: string | null;
  /** The thread's CPU time at the previous read, ms; -1 before the first. */
  lastCpuMs: number;
  /** The worker's heap in use plus external memory, bytes, from itself; null until known. */
  memoryBytes: number | null;
  exited: boolean;
  tidAttempts: number;
  /** performance.now() when watching began: the start of its span in a trace. */
  watchedAt: number;
}

/**
 * A profiled module. The fields the hot path touches accumulate since the last drain (an
 * "epoch"); each collect drains them into every running plugin instance, so two profilers
 * never take each other's counts.
 */
export class ModuleSlot {
  readonly id: number;
  readonly name: string;
  readonly kind: 'code' | 'worker';
  tags: string[];
  /** Bumped when the tags change, so that declarations are refreshed. */
  tagsVersion = 0;

  calls = 0;
  errors = 0;
  totalMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = 0;
  /** Self time of synchronous runs (calls and the part of async calls before their first await). */
  cpuSyncMs = 0;
  /** Async continuations, from the V8 CPU sampler. */
  cpuSampledMs = 0;
  /** Async continuations, timed with async hooks. */
  cpuPreciseMs = 0;
  /** On-CPU time of watched worker threads. */
  cpuWorkerMs = 0;
  /**
   * Latency counts of this epoch (see latency.ts). Empty (`NO_BUCKETS`) until the first call of
   * an epoch takes a zeroed one (wrap.ts, `countCall`); the drain takes it away (engine.ts).
   */
  buckets: Uint32Array = NO_BUCKETS;

  /** Live bytes the heap sampler attributes to this module's functions; null when not measured. */
  memoryBytes: number | null = null;

  readonly functions: WrappedFunction[] = [];
  readonly workers = new Set<WorkerWatch>();
  readonly warned = new Set<string>();
  /** Had activity while a profiler ran: its functions are worth locating. */
  seen = false;

  constructor(id: number, name: string, kind: 'code' | 'worker', tags: string[]) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.tags = tags;
  }

  /** Something happened since the last drain. */
  get active(): boolean {
    return this.calls > 0 || this.cpuSyncMs > 0 || this.cpuSampledMs > 0 || this.cpuPreciseMs > 0 || this.cpuWorkerMs > 0;
  }

  resetEpoch(): void {
    if (this.calls > 0) this.buckets.fill(0, bucketOf(this.minMs * 1e6), bucketOf(this.maxMs * 1e6) + 1);
    this.calls = 0;
    this.errors = 0;
    this.totalMs = 0;
    this.minMs = Number.POSITIVE_INFINITY;
    this.maxMs = 0;
    this.cpuSyncMs = 0;
    this.cpuSampledMs = 0;
    this.cpuPreciseMs = 0;
    this.cpuWorkerMs = 0;
  }

  /** Queues a warning once per slot and `key`; never throws into the caller. */
  warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    if (runtime.warnings.length < 100) runtime.warnings.push(message);
  }

  addTags(tags: string[]): void {
    const merged = [...new Set([...this.tags, ...tags])].sort();
    if (merged.length !== this.tags.length) {
      this.tags = merged;
      this.tagsVersion++;
    }
  }
}

export interface Runtime {
  readonly version: 1;
  readonly hot: HotState;
  readonly slots: Map<string, ModuleSlot>;
  /** Anything the engine (engine.ts) keeps process-wide; typed there. */
  engine: unknown;
  nextId: number;
  /** Wrapped functions whose source location is not known yet. */
  unlocated: number;
  /** The async context of `cpu: 'precise'` (precise.ts), created when first needed. */
  als: AsyncLocalStorage<ModuleSlot> | null;
  /**
   * One wrapper made by each copy of this package loaded (ESM and CJS builds): samplers find
   * wrapper frames by the location of their code.
   */
  readonly wrapperSamples: Function[];
  /** Warnings raised on the hot path, printed through the profilers at the next collect. */
  readonly warnings: string[];
  /** The calls recorded for traces (trace.ts), while any plugin instance traces; typed there. */
  trace: unknown;
}

const KEY = Symbol.for('loadlight.plugin-modules.runtime');

function createRuntime(): Runtime {
  return {
    version: 1,
    hot: { running: 0, childMs: 0, precise: 0, continuations: false, run: 0, probePending: false, tracing: 0 },
    slots: new Map(),
    engine: null,
    nextId: 0,
    unlocated: 0,
    warnings: [],
    wrapperSamples: [],
    als: null,
    trace: null,
  };
}

export const runtime: Runtime = ((globalThis as Record<symbol, unknown>)[KEY] ??= createRuntime()) as Runtime;
export const hot: HotState = runtime.hot;

/** The slot of a module, created on first use. The kind of a name cannot change. */
export function slotFor(name: string, kind: 'code' | 'worker', tags: string[], call: string, onConflict: (message: string) => never): ModuleSlot {
  let slot = runtime.slots.get(name);
  if (!slot) {
    slot = new ModuleSlot(runtime.nextId++, name, kind, tags);
    runtime.slots.set(name, slot);
    return slot;
  }
  if (slot.kind !== kind) {
    onConflict(
      `${call}: the name "${name}" is already used by ${slot.kind === 'worker' ? 'a watched worker' : 'a profiled module'}; ` +
        'a module name is either code in this thread or a worker, not both',
    );
  }
  slot.addTags(tags);
  return slot;
}
