import { performance } from 'node:perf_hooks';
import { describeError } from '@loadlight/core';
import { InspectorLink, type LocationKey } from './inspector.js';
import { disablePrecise, enablePrecise } from './precise.js';
import { hot, runtime, type ModuleSlot, type WorkerWatch } from './runtime.js';
import { CpuSampler, HeapSampler, type FrameIndex } from './samplers.js';
import { WorkerMonitor } from './workers.js';
import { bucketOf, NO_BUCKETS, recycleBuckets, sizeSpares, zeroedBuckets } from './latency.js';

export type CpuMode = 'auto' | 'sampling' | 'precise';

/** What one plugin instance (one profiler) asks of the process-wide engine. */
export interface RecorderNeeds {
  cpu: CpuMode;
  cpuSampleIntervalMs: number;
  memory: 'sampling' | 'off';
  memorySampleIntervalKb: number;
  memoryReadIntervalMs: number;
}

/** One module's events since a plugin instance's previous collect. */
export class Pending {
  calls = 0;
  errors = 0;
  totalMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = 0;
  cpuSyncMs = 0;
  cpuSampledMs = 0;
  cpuPreciseMs = 0;
  cpuWorkerMs = 0;
  /** Latency counts of the calls since the previous collect: only while there are some. */
  buckets: Uint32Array | null = null;

  /** Adds a module's epoch; with `only` (a single instance running) its latency counts are taken over, not copied. */
  add(slot: ModuleSlot, only: boolean): void {
    this.errors += slot.errors;
    this.totalMs += slot.totalMs;
    this.cpuSyncMs += slot.cpuSyncMs;
    this.cpuSampledMs += slot.cpuSampledMs;
    this.cpuPreciseMs += slot.cpuPreciseMs;
    this.cpuWorkerMs += slot.cpuWorkerMs;
    if (slot.calls > 0) {
      if (only && this.calls === 0 && this.buckets === null) {
        // Take the slot's counts, no copy; its next call takes a zeroed array (wrap.ts, countCall).
        this.buckets = slot.buckets;
        slot.buckets = NO_BUCKETS;
      } else {
        const into = (this.buckets ??= zeroedBuckets());
        const from = slot.buckets;
        // Exact extremes bound the buckets that hold anything.
        const last = bucketOf(slot.maxMs * 1e6);
        for (let i = bucketOf(slot.minMs * 1e6); i <= last; i++) into[i]! += from[i]!;
      }
    }
    if (slot.minMs < this.minMs) this.minMs = slot.minMs;
    if (slot.maxMs > this.maxMs) this.maxMs = slot.maxMs;
    this.calls += slot.calls;
  }

  reset(): void {
    if (this.buckets) {
      if (this.calls > 0) this.buckets.fill(0, bucketOf(this.minMs * 1e6), bucketOf(this.maxMs * 1e6) + 1);
      recycleBuckets(this.buckets);
      this.buckets = null;
    }
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
}

/** The engine's view of a plugin instance: what it needs, where its events go, how to warn. */
export interface RecorderLink {
  readonly needs: RecorderNeeds;
  readonly pending: Map<ModuleSlot, Pending>;
  warn(message: string): void;
}

/** The samplers' cost, for tests and the README's figures. */
export interface EngineStats {
  cpuRotations: number;
  cpuRotationMs: number;
  cpuSamples: number;
  heapReads: number;
  heapReadMs: number;
  /** The last memory read's cost (its forced collection included), ms; it spaces the next read. */
  lastHeapReadMs: number | null;
  locatedFunctions: number;
  locateMs: number;
  cpuSamplerStartMs: number | null;
  /** `cpu: 'auto'`: when (performance.now()) the untimed share of the loop's busy time asked for the CPU sampler; null before. */
  cpuSamplerRequestedAt: number | null;
  heapSamplerStartMs: number | null;
  harvests: number;
  /** Main-thread time of the harvests' synchronous part (heap reads and first location included). */
  harvestMs: number;
  writes: number;
  /** Time spent turning pending counts into metrics, over all instances. */
  writeMs: number;
}

const LOCATE_BUDGET_MS = 2;
const LOCATE_BATCH = 64;
/** The first heap read comes sooner than the interval, so that memory shows early. */
const FIRST_HEAP_READ_MS = 5_000;
/**
 * Each memory read is a full garbage collection (its cost grows with the heap): reads are spaced
 * so that they cost at most this share of one core (a 15 ms read: 30 s apart; a 100 ms read, in a
 * program with a large heap: 200 s apart), and at least `memoryReadIntervalMs` apart.
 */
export const HEAP_READ_BUDGET = 0.0005;

/**
 * Process-wide: drains the modules' counters into every running plugin instance, and owns
 * what exists once per thread (the inspector session, V8's samplers, async hooks, the worker
 * watch). Started by the first plugin instance, released by the last.
 */
export class Engine {
  private readonly recorders = new Set<RecorderLink>();
  private link: InspectorLink | null = null;
  /** Why there is no inspector session, once tried and failed. */
  linkProblem: string | null = null;
  private cpu: CpuSampler | null = null;
  private cpuStarting = false;
  private heap: HeapSampler | null = null;
  private workers: WorkerMonitor | null = null;
  private readonly index: FrameIndex = { owners: new Map(), wrapperKeys: new Set<LocationKey>() };
  private wrappersLocated = 0;
  /** Locations wrapped by several modules (closures of one piece of code): charged to none. */
  private readonly sharedKeys = new Map<LocationKey, Set<ModuleSlot>>();
  /** How many locations each module owns alone: without any, its memory cannot be attributed. */
  private readonly ownedKeys = new Map<ModuleSlot, number>();
  private heapFailed = false;
  /** `cpu: 'auto'`: an instance saw enough untimed JavaScript to want the CPU sampler (until release). */
  private samplerRequested = false;
  /** performance.now() of the next heap read: each read forces a full GC (see README). */
  private nextHeapReadAt = 0;
  /** Live sampled bytes per module from the last heap read; null before the sampler runs. */
  private heapBytes: Map<ModuleSlot, number> | null = null;
  readonly stats: EngineStats = {
    cpuRotations: 0,
    cpuRotationMs: 0,
    cpuSamples: 0,
    heapReads: 0,
    heapReadMs: 0,
    lastHeapReadMs: null,
    locatedFunctions: 0,
    locateMs: 0,
    cpuSamplerStartMs: null,
    cpuSamplerRequestedAt: null,
    heapSamplerStartMs: null,
    harvests: 0,
    harvestMs: 0,
    writes: 0,
    writeMs: 0,
  };

  get running(): number {
    return this.recorders.size;
  }

  attach(recorder: RecorderLink): void {
    if (this.recorders.has(recorder)) return;
    // Events from before this instance started belong to those already running (or nobody).
    this.drain();
    this.recorders.add(recorder);
    hot.running = this.recorders.size;
    if (recorder.needs.cpu === 'precise') enablePrecise();
  }

  detach(recorder: RecorderLink): void {
    if (!this.recorders.delete(recorder)) return;
    this.drain();
    hot.running = this.recorders.size;
    if (recorder.needs.cpu === 'precise') disablePrecise();
    if (this.recorders.size === 0) this.release();
    else if (this.cpu && !this.wantsCpuSampler()) this.stopCpu();
  }

  /** Memory per module as the heap sampler last saw it: bytes, 0 when none, null when not measured. */
  memoryOf(slot: ModuleSlot): number | null {
    if (!this.heapBytes || !this.ownedKeys.get(slot)) return null;
    return this.heapBytes.get(slot) ?? 0;
  }

  get heapRunning(): boolean {
    return this.heap?.running ?? false;
  }

  /**
   * One harvest per collect of any profiler: rotate the CPU profile, read worker threads, drain
   * every module into the running instances, read the heap profile, locate new functions.
   */
  async harvest(): Promise<void> {
    const started = performance.now();
    this.flushWarnings();
    const watches = this.workerWatches();
    const cpuSampling = hot.continuations && this.wantsCpuSampler();
    const memory = this.wantsMemory() && this.hasCodeModules();
    if (cpuSampling || memory || watches.length > 0) this.openLink();
    // Before the rotation: the samples of a function located now are charged this tick.
    if (this.link && (cpuSampling || memory)) this.locateFunctions();
    if (this.cpu?.running) {
      const harvest = this.cpu.rotate(this.index);
      this.stats.cpuRotations++;
      this.stats.cpuRotationMs += harvest.costMs;
      this.stats.cpuSamples += harvest.samples;
    }
    // Reads the threads' CPU time at once; the heap answers come later.
    const asking = this.link && this.workers ? this.workers.read(watches) : Promise.resolve();
    this.drain();
    if (this.link) {
      if (this.heap?.running && started >= this.nextHeapReadAt) this.readHeap(started);
      this.startHeapSampler();
    }
    this.stats.harvests++;
    this.stats.harvestMs += performance.now() - started;
    await asking;
  }

  /** Live worker watches, and those that ended, dropped. */
  workerWatches(): WorkerWatch[] {
    const out: WorkerWatch[] = [];
    for (const slot of runtime.slots.values()) {
      if (slot.kind !== 'worker') continue;
      for (const watch of slot.workers) if (!watch.exited) out.push(watch);
    }
    return out;
  }

  /** Moves every module's epoch counters into each running instance's pending ones. */
  drain(): void {
    const only = this.recorders.size === 1;
    // The pool keeps an array for each busy module, and with several instances one more per
    // instance (their copies), sized before the arrays come back. Several instances drain one
    // after another in a tick, the later ones finding no calls: those leave the pool as it is.
    let busy = 0;
    for (const slot of runtime.slots.values()) if (slot.active && slot.calls > 0) busy++;
    if (only) sizeSpares(busy);
    else if (busy > 0) sizeSpares(busy * (this.recorders.size + 1));
    for (const slot of runtime.slots.values()) {
      if (!slot.active) continue;
      slot.seen = true;
      for (const recorder of this.recorders) {
        let pending = recorder.pending.get(slot);
        if (!pending) recorder.pending.set(slot, (pending = new Pending()));
        pending.add(slot, only);
      }
      slot.resetEpoch();
      // Copied (or nobody ran): its array, zeroed, goes back too. A module holds a latency array
      // only while it has calls in the current epoch; the first call of an epoch takes one.
      if (slot.buckets.length !== 0) {
        recycleBuckets(slot.buckets);
        slot.buckets = NO_BUCKETS;
      }
    }
  }

  private wants(cpu: CpuMode): boolean {
    for (const recorder of this.recorders) if (recorder.needs.cpu === cpu) return true;
    return false;
  }

  /** V8's CPU sampler is for `sampling` instances, and for `auto` ones once they asked for it. */
  private wantsCpuSampler(): boolean {
    return this.wants('sampling') || (this.samplerRequested && this.wants('auto'));
  }

  /** `cpu: 'auto'`: the program runs enough JavaScript outside wrapped synchronous runs that continuations may matter. */
  requestCpuSampler(): void {
    if (this.samplerRequested) return;
    this.samplerRequested = true;
    this.stats.cpuSamplerRequestedAt = performance.now();
  }

  get cpuSamplerRequested(): boolean {
    return this.samplerRequested;
  }

  /** V8's CPU sampler is running (tests, diagnostics). */
  get cpuSamplerRunning(): boolean {
    return this.cpu?.running ?? false;
  }

  private wantsMemory(): boolean {
    for (const recorder of this.recorders) if (recorder.needs.memory === 'sampling') return true;
    return false;
  }

  /** The first instance's choice wins; a different one is said once. */
  private firstNeeds(): RecorderNeeds | null {
    for (const recorder of this.recorders) return recorder.needs;
    return null;
  }

  private openLink(): void {
    if (this.link || this.linkProblem) return;
    const link = InspectorLink.open();
    if (typeof link === 'string') {
      this.linkProblem = link;
      this.warnAll(`modules: ${link}; CPU of async continuations and memory per module are not measured`);
      return;
    }
    this.link = link;
    this.workers = new WorkerMonitor(link);
  }

  /** The heap sampler starts with the first harvest (about 0.1 ms); its first read comes later. */
  private startHeapSampler(): void {
    const needs = this.firstNeeds();
    if (!needs || !this.link || this.heap || this.heapFailed || !this.wantsMemory() || !this.hasCodeModules()) return;
    try {
      const started = performance.now();
      const heap = new HeapSampler(this.link, Math.round(needs.memorySampleIntervalKb * 1024));
      heap.start();
      this.heap = heap;
      this.stats.heapSamplerStartMs = performance.now() - started;
      this.nextHeapReadAt = started + Math.min(FIRST_HEAP_READ_MS, needs.memoryReadIntervalMs);
    } catch (error) {
      this.heapFailed = true;
      this.warnAll(`modules: cannot start V8's heap sampler (${describeError(error)}); memory per module is not measured`);
    }
  }

  /**
   * Called once a tick's sample is committed. Starting V8's CPU profiler logs every compiled
   * function (20 to 130 ms in a program that has loaded a few libraries), so it starts here, in
   * the check phase after a committed sample: never inside a tick, and never before the first
   * sample.
   */
  afterCommit(): void {
    if (this.cpu || this.cpuStarting || !this.link || !hot.continuations || !this.wantsCpuSampler()) return;
    const needs = this.firstNeeds();
    if (!needs) return;
    this.cpuStarting = true;
    const immediate = setImmediate(() => {
      this.cpuStarting = false;
      if (!this.link || this.cpu || !this.wantsCpuSampler()) return;
      const started = performance.now();
      try {
        const cpu = new CpuSampler(this.link, Math.round(needs.cpuSampleIntervalMs * 1000));
        cpu.start();
        this.cpu = cpu;
        this.stats.cpuSamplerStartMs = performance.now() - started;
      } catch (error) {
        this.warnAll(`modules: cannot start V8's CPU sampler (${describeError(error)}); CPU of async continuations is not measured`);
      }
    });
    immediate.unref();
  }

  private hasCodeModules(): boolean {
    for (const slot of runtime.slots.values()) if (slot.kind === 'code') return true;
    return false;
  }

  private readHeap(at: number): void {
    const intervalMs = this.firstNeeds()?.memoryReadIntervalMs ?? 30_000;
    this.nextHeapReadAt = at + intervalMs;
    try {
      const { bytes, costMs } = this.heap!.read(this.index);
      this.heapBytes = bytes;
      this.stats.heapReads++;
      this.stats.heapReadMs += costMs;
      this.stats.lastHeapReadMs = costMs;
      this.nextHeapReadAt = at + Math.max(intervalMs, costMs / HEAP_READ_BUDGET);
    } catch (error) {
      this.heapBytes = null;
      this.warnAll(`modules: reading V8's heap sampler failed (${describeError(error)}); memory per module is null this tick`);
    }
  }

  /** Finds the source location of wrapped functions of modules that ran, within a time budget. */
  private locateFunctions(): void {
    const link = this.link!;
    const started = performance.now();
    const deadline = started + LOCATE_BUDGET_MS;
    const batch: Function[] = [];
    const owners: ModuleSlot[] = [];
    const entries: Array<{ located: boolean }> = [];
    if (this.wrappersLocated < runtime.wrapperSamples.length) {
      for (const sample of runtime.wrapperSamples.slice(this.wrappersLocated)) {
        batch.push(sample);
        owners.push(null as unknown as ModuleSlot);
        entries.push({ located: false });
      }
    }
    // Modules that ran first, then the others (so that continuations are charged from the start).
    for (const seen of runtime.unlocated > 0 ? [true, false] : []) {
      for (const slot of runtime.slots.values()) {
        if (slot.seen !== seen || slot.kind !== 'code') continue;
        for (const entry of slot.functions) {
          if (entry.located || batch.length >= LOCATE_BATCH) continue;
          const fn = entry.fn.deref();
          if (!fn) {
            entry.located = true;
            runtime.unlocated--;
            continue;
          }
          batch.push(fn);
          owners.push(slot);
          entries.push(entry);
        }
      }
    }
    if (batch.length === 0) return;
    const confused = new Set<ModuleSlot>();
    let keys: ReturnType<InspectorLink['locate']>;
    try {
      keys = link.locate(batch, deadline);
    } catch (error) {
      this.warnAll(`modules: cannot locate profiled functions (${describeError(error)}); their async CPU and memory are not attributed`);
      for (let i = 0; i < entries.length; i++) {
        entries[i]!.located = true;
        if (owners[i] !== null) runtime.unlocated--;
      }
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const key = keys[i];
      if (key === undefined) continue; // out of time: next tick
      entries[i]!.located = true;
      const slot = owners[i];
      if (slot !== null) runtime.unlocated--;
      if (slot === null) {
        this.wrappersLocated++;
        if (key) this.index.wrapperKeys.add(key);
        continue;
      }
      if (!key) continue;
      this.stats.locatedFunctions++;
      const sharers = this.sharedKeys.get(key);
      if (sharers) {
        if (!sharers.has(slot!)) {
          sharers.add(slot!);
          confused.add(slot!);
        }
        continue;
      }
      const owner = this.index.owners.get(key);
      if (owner && owner !== slot!) {
        // Closures made from one piece of code, wrapped as different modules: V8's profiles
        // name the code, not the closure, so nobody can be charged for it.
        this.index.owners.delete(key);
        this.changeOwned(owner, -1);
        this.sharedKeys.set(key, new Set([owner, slot!]));
        confused.add(owner);
        confused.add(slot!);
        continue;
      }
      if (!owner) {
        this.index.owners.set(key, slot!);
        this.changeOwned(slot!, 1);
      }
    }
    if (confused.size > 0) {
      const names = [...confused].map((slot) => `"${slot.name}"`);
      const listed = names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
      this.warnAll(
        `modules ${listed} wrap closures made from the same source code as another module's; V8's samplers name code, ` +
          'not closures, so their async CPU and memory are not attributed (their calls, latency and synchronous CPU are). ' +
          'Wrap distinct functions to have them attributed',
      );
    }
    this.stats.locateMs += performance.now() - started;
  }

  private changeOwned(slot: ModuleSlot, by: number): void {
    this.ownedKeys.set(slot, (this.ownedKeys.get(slot) ?? 0) + by);
  }

  private flushWarnings(): void {
    if (runtime.warnings.length === 0) return;
    for (const message of runtime.warnings.splice(0)) this.warnAll(message);
  }

  private warnAll(message: string): void {
    for (const recorder of this.recorders) recorder.warn(message);
  }

  private stopCpu(): void {
    this.cpu?.stop();
    this.cpu = null;
  }

  /** The last instance stopped: release the samplers, hooks and the session, so the process can exit. */
  private release(): void {
    this.stopCpu();
    this.heap?.stop();
    this.heap = null;
    this.heapBytes = null;
    this.workers?.close();
    this.workers = null;
    // Open /proc files are no event-loop handles, but nothing should outlive the last profiler.
    for (const watch of this.workerWatches()) watch.clock?.close();
    this.link?.close();
    this.link = null;
    this.linkProblem = null;
    this.heapFailed = false;
    this.samplerRequested = false;
    runtime.warnings.length = 0;
  }
}

export function engine(): Engine {
  return (runtime.engine ??= new Engine()) as Engine;
}
