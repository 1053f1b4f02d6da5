import { AsyncParallelHook, AsyncSeriesHook, SyncHook, type Tap } from 'tapable';
import type { AlertTransition, Evaluation, SampleWriter, Sample, SessionProfile, Snapshot } from './types.js';

/**
 * The profiler's hooks, created once and frozen (like webpack's `compiler.hooks`).
 * Kinds: async parallel where taps are independent (collect, report, export), sync where order
 * and speed matter (sample, evaluated, alert), async series where set-up and tear-down may
 * depend on each other (start, stop).
 */
export function createHooks() {
  return Object.freeze({
    /** After plugins are applied and rules loaded, before the first tick. */
    start: new AsyncSeriesHook<[]>([]),
    /** Each tick: every source writes its metrics. */
    collect: new AsyncParallelHook<[SampleWriter]>(['writer']),
    /** After a row is committed to the Store. */
    sample: new SyncHook<[Sample]>(['sample']),
    /** After the rules ran. */
    evaluated: new SyncHook<[Evaluation]>(['evaluation']),
    /** One call per alert transition (pending, firing, resolved). */
    alert: new SyncHook<[AlertTransition]>(['transition']),
    /** Live reporters render. */
    report: new AsyncParallelHook<[Snapshot]>(['snapshot']),
    /** Sources release their resources. */
    stop: new AsyncSeriesHook<[]>([]),
    /** Exporters write the session. */
    export: new AsyncParallelHook<[SessionProfile]>(['session']),
  });
}

export type ProfilerHooks = ReturnType<typeof createHooks>;
export type HookName = keyof ProfilerHooks;

type AnyFn = (...args: unknown[]) => unknown;

/** A registered tap as tapable holds it at run time (its typings leave out `type` and `fn`). */
export type RegisteredTap = Tap & { type: 'sync' | 'async' | 'promise'; fn: AnyFn };

/** Calls a callback-style (`tapAsync`) tap and returns a promise of its result. */
export function callbackTap(tap: RegisteredTap, args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    tap.fn(...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`did not finish within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** How many times a time-out whose timer fired late (the event loop was blocked) starts again. */
const MAX_LATE_RESTARTS = 10;

/**
 * Resolves or rejects like `promise`, or rejects with TimeoutError after `ms` (unref'd timer).
 * A timer that fires late by more than half of `ms` means the program blocked the event loop:
 * the work had no chance to run, so the wait starts again (at most MAX_LATE_RESTARTS times)
 * rather than counting a time-out against it.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let restarts = 0;
    let timer: NodeJS.Timeout;
    const arm = () => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        if (performance.now() - due > ms / 2 && restarts++ < MAX_LATE_RESTARTS) arm();
        else reject(new TimeoutError(ms));
      }, ms);
      timer.unref();
    };
    arm();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
