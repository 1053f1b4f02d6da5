import { performance } from 'node:perf_hooks';
import { locationKey, type InspectorLink, type LocationKey } from './inspector.js';
import type { ModuleSlot } from './runtime.js';

/** Which module owns a frame: wrapped functions by source location, and where wrappers run. */
export interface FrameIndex {
  owners: Map<LocationKey, ModuleSlot>;
  /**
   * Where the wrappers' own code is (all wrappers of one copy of this package share it; the ESM
   * and CJS builds are two copies). A frame under one of them is inside a timed call.
   */
  wrapperKeys: Set<LocationKey>;
}

interface CallFrame {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** What one rotation cost and found, for the README's figures and the tests. */
export interface CpuHarvest {
  /** Main-thread time spent stopping one profile and starting the next, ms. */
  costMs: number;
  samples: number;
  /** Sampled time charged to modules (async continuations), ms. */
  chargedMs: number;
}

/**
 * V8's sampling CPU profiler, read once per tick. Two console profiles overlap at each
 * rotation (start the next, then end the current) so that V8 keeps its code map: stopping the
 * last profile and starting anew would re-log every compiled function, tens of ms in a large
 * program; a rotation costs about 0.2 ms.
 *
 * Only samples outside every wrapped call are charged here (async continuations, generator
 * bodies): synchronous runs are timed exactly by the wrappers themselves.
 */
export class CpuSampler {
  private readonly link: InspectorLink;
  private readonly intervalUs: number;
  private current: string | null = null;
  private expecting: string | null = null;
  private finished: CpuProfile | null = null;
  private sequence = 0;
  private unlisten: (() => void) | null = null;
  private readonly tag = `loadlight-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(link: InspectorLink, intervalUs: number) {
    this.link = link;
    this.intervalUs = intervalUs;
  }

  get running(): boolean {
    return this.current !== null;
  }

  /** Starts sampling; the first start logs every compiled function (once). */
  start(): void {
    this.link.post('Profiler.enable');
    this.link.post('Profiler.setSamplingInterval', { interval: this.intervalUs });
    this.unlisten = this.link.on('Profiler.consoleProfileFinished', (message) => {
      if (message.params.title === this.expecting) this.finished = message.params.profile as CpuProfile;
    });
    this.current = this.nextTitle();
    this.link.inspector.console.profile(this.current);
  }

  /** Ends the current profile (starting the next first) and charges its samples. */
  rotate(index: FrameIndex): CpuHarvest {
    const started = performance.now();
    const ending = this.current;
    if (ending === null) return { costMs: 0, samples: 0, chargedMs: 0 };
    const next = this.nextTitle();
    this.link.inspector.console.profile(next);
    this.expecting = ending;
    this.finished = null;
    this.link.inspector.console.profileEnd(ending);
    this.current = next;
    const profile = this.finished as CpuProfile | null;
    this.finished = null;
    this.expecting = null;
    const costMs = performance.now() - started;
    if (!profile) return { costMs, samples: 0, chargedMs: 0 };
    const { samples, chargedMs } = chargeSamples(profile, index, this.intervalUs);
    return { costMs, samples, chargedMs };
  }

  stop(): void {
    const ending = this.current;
    this.current = null;
    this.unlisten?.();
    this.unlisten = null;
    if (ending === null || !this.link.connected) return;
    try {
      this.link.inspector.console.profileEnd(ending);
      this.link.post('Profiler.disable');
    } catch {
      // the session is going away with everything it started
    }
  }

  private nextTitle(): string {
    return `${this.tag}-${this.sequence++}`;
  }
}

/**
 * Charges each sample's time (until the next sample) to the innermost wrapped function on its
 * stack, unless a wrapper is on the stack (that time is already timed exactly).
 */
export function chargeSamples(profile: CpuProfile, index: FrameIndex, intervalUs: number): { samples: number; chargedMs: number } {
  const nodes = profile.nodes;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (nodes.length === 0 || samples.length === 0) return { samples: samples.length, chargedMs: 0 };
  const position = new Map<number, number>();
  for (let i = 0; i < nodes.length; i++) position.set(nodes[i]!.id, i);
  const owner: Array<ModuleSlot | null> = new Array(nodes.length).fill(null);
  const covered = new Uint8Array(nodes.length);
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (const childId of nodes[i]!.children ?? []) {
      const c = position.get(childId);
      if (c === undefined) continue;
      const frame = nodes[c]!.callFrame;
      const key = locationKey(frame.scriptId, frame.lineNumber, frame.columnNumber);
      covered[c] = covered[i]! === 1 || index.wrapperKeys.has(key) ? 1 : 0;
      owner[c] = index.owners.get(key) ?? owner[i]!;
      stack.push(c);
    }
  }
  // A sample's time runs to the next sample. A gap far longer than the interval (the thread was
  // descheduled, or the sampler starved) is capped rather than charged whole.
  const maxWeightUs = intervalUs * 10;
  let t = profile.startTime;
  let chargedUs = 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    const next = i + 1 < samples.length ? (deltas[i + 1] ?? 0) : profile.endTime - t;
    const weightUs = Math.min(Math.max(0, next), maxWeightUs);
    const node = position.get(samples[i]!);
    if (node === undefined || covered[node] === 1) continue;
    const slot = owner[node];
    if (slot) {
      slot.cpuSampledMs += weightUs / 1000;
      chargedUs += weightUs;
    }
  }
  return { samples: samples.length, chargedMs: chargedUs / 1000 };
}

/**
 * V8's sampling heap profiler: about one allocation per `intervalBytes` is recorded with its
 * stack, and forgotten when the object is collected. Reading it gives, per module, the live
 * bytes its functions allocated (innermost wrapped function on the allocation's stack).
 */
export class HeapSampler {
  private readonly link: InspectorLink;
  private readonly intervalBytes: number;
  private started = false;

  constructor(link: InspectorLink, intervalBytes: number) {
    this.link = link;
    this.intervalBytes = intervalBytes;
  }

  get running(): boolean {
    return this.started;
  }

  start(): void {
    this.link.post('HeapProfiler.startSampling', { samplingInterval: this.intervalBytes });
    this.started = true;
  }

  /** Live sampled bytes per module (modules with none are absent); and the read's cost. */
  read(index: FrameIndex): { bytes: Map<ModuleSlot, number>; costMs: number } {
    const started = performance.now();
    const bytes = new Map<ModuleSlot, number>();
    const { profile } = this.link.post<{ profile: { head: HeapNode } }>('HeapProfiler.getSamplingProfile');
    const stack: Array<[HeapNode, ModuleSlot | null]> = [[profile.head, null]];
    while (stack.length > 0) {
      const [node, inherited] = stack.pop()!;
      const frame = node.callFrame;
      const owner = index.owners.get(locationKey(frame.scriptId, frame.lineNumber, frame.columnNumber)) ?? inherited;
      if (owner && node.selfSize > 0) bytes.set(owner, (bytes.get(owner) ?? 0) + node.selfSize);
      for (const child of node.children) stack.push([child, owner]);
    }
    return { bytes, costMs: performance.now() - started };
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    try {
      if (this.link.connected) this.link.post('HeapProfiler.stopSampling');
    } catch {
      // the session is going away with everything it started
    }
  }
}
