import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { hot, runtime, type ModuleSlot } from './runtime.js';

const now = performance.now.bind(performance);
const MAX_DEPTH = 64;

/**
 * `cpu: 'precise'`: a wrapped call that returns a promise runs inside an AsyncLocalStorage
 * context holding its module; async hooks time every callback that runs in that context (its
 * continuations after each await, and anything it scheduled) and charge its self time. Costs a
 * context per async call and a hook around every callback of the program, which is why it is
 * an option.
 */
class PreciseTimer {
  private readonly hook: AsyncHook;
  private readonly als: AsyncLocalStorage<ModuleSlot>;
  private readonly openSlots: Array<ModuleSlot | undefined> = new Array(MAX_DEPTH).fill(undefined);
  private readonly openT0 = new Float64Array(MAX_DEPTH);
  private readonly openSavedChildMs = new Float64Array(MAX_DEPTH);
  private depth = 0;

  constructor() {
    this.als = runtime.als ??= new AsyncLocalStorage<ModuleSlot>();
    this.hook = createHook({ before: () => this.before(), after: () => this.after() });
  }

  private before(): void {
    const d = this.depth++;
    if (d >= MAX_DEPTH) return;
    const slot = this.als.getStore();
    this.openSlots[d] = slot;
    if (slot === undefined) return;
    this.openSavedChildMs[d] = hot.childMs;
    hot.childMs = 0;
    this.openT0[d] = now();
  }

  private after(): void {
    // A callback that threw may skip its `after`: never go below the bottom.
    const d = this.depth > 0 ? --this.depth : 0;
    if (d >= MAX_DEPTH) return;
    const slot = this.openSlots[d];
    if (slot === undefined) return;
    this.openSlots[d] = undefined;
    const ms = now() - this.openT0[d]!;
    const selfMs = ms - hot.childMs;
    if (selfMs > 0) slot.cpuPreciseMs += selfMs;
    hot.childMs = this.openSavedChildMs[d]! + ms;
  }

  enable(): void {
    if (hot.precise++ === 0) this.hook.enable();
  }

  disable(): void {
    if (hot.precise === 0) return;
    if (--hot.precise === 0) {
      this.hook.disable();
      this.depth = 0;
      this.openSlots.fill(undefined);
    }
  }
}

let timer: PreciseTimer | null = null;

export function enablePrecise(): void {
  (timer ??= new PreciseTimer()).enable();
}

export function disablePrecise(): void {
  timer?.disable();
}
