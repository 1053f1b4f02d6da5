import { performance } from 'node:perf_hooks';
import { types } from 'node:util';
import { LoadlightError } from '@loadlight/core';
import { bucketOf, zeroedBuckets } from './latency.js';
import { checkModuleName, checkModuleOptions, PLUGIN_NAME } from './names.js';
import { hot, ModuleSlot, runtime, slotFor } from './runtime.js';
import { ASYNC, traceCall } from './trace.js';

/** Options of `profileModule`, `@profile` and `moduleSpan`. */
export interface ModuleOptions {
  /** Words that describe the module to rules (`verbose`, `heatmap`, `optional`): the `module` fact's `$.tags`. */
  tags?: string[];
}

const apply = Reflect.apply;
const construct = Reflect.construct;
const promiseThen = Promise.prototype.then;
// ~40 ns, like process.hrtime.bigint(), but a double: nothing allocated per reading.
const now = performance.now.bind(performance);

// ---------------------------------------------------------------------------------------------
// The hot path. Everything below touches only preallocated numbers in the module's slot, which
// each wrapper resolves once, when it is made: no lookup by name, no allocation per sync call.
// ---------------------------------------------------------------------------------------------

/** Ends a synchronous run of `ms`: charges its self time and hands its whole time to its parent. */
function closeRun(slot: ModuleSlot, ms: number, savedChildMs: number): void {
  const selfMs = ms - hot.childMs;
  if (selfMs > 0) slot.cpuSyncMs += selfMs;
  hot.childMs = savedChildMs + ms;
}

/**
 * Counts one finished call (or span) that began at `t0` and took `ms`; `failed` is 0 or 1,
 * `async` 0 or ASYNC (it ran across an await). While a trace records, the call is appended to it.
 * Exported for the package's tests (index.ts does not export it).
 */
export function countCall(slot: ModuleSlot, t0: number, ms: number, failed: number, async: number): void {
  slot.calls++;
  slot.errors += failed;
  slot.totalMs += ms;
  if (ms < slot.minMs) {
    slot.minMs = ms;
    // The first call of every epoch comes here (minMs starts at +Infinity): it takes the
    // module's latency array for the epoch (latency.ts, NO_BUCKETS), with no test on every call.
    if (slot.buckets.length === 0) slot.buckets = zeroedBuckets();
  }
  if (ms > slot.maxMs) slot.maxMs = ms;
  slot.buckets[bucketOf(ms * 1e6)]!++;
  if (hot.tracing !== 0) traceCall(slot, t0, ms, failed | async);
}

/** Off the hot path (the precise mode's async context): a call or a construction. */
function invoke(fn: Function, thisArg: unknown, args: ArrayLike<unknown>, newTarget: Function | undefined): unknown {
  return newTarget === undefined ? apply(fn, thisArg, args) : construct(fn, args, newTarget);
}

/** Wraps `fn` for `slot`. Keeps `this`, arguments, results, throws, `name` and `length`. */
export function wrapFunction<F extends Function>(fn: F, slot: ModuleSlot): F {
  // An async function's promise is fresh and nobody else holds it: answering a derived one
  // (same value, same rejection) keeps Node's unhandled-rejection reporting as it was.
  const isAsync = types.isAsyncFunction(fn);
  // Whether calls must run inside the precise mode's async context (promise-returning functions).
  let returnsPromises = isAsync;
  // Code that runs after the call returned (continuations, a generator's body): the CPU
  // sampler will have work as soon as a profiler starts.
  if (isAsync || types.isGeneratorFunction(fn)) hot.continuations = true;

  // The running path, out of line (see `profiled`). `let`, assigned apart from its declaration:
  // V8 then does not treat it as a constant, so it never inlines it into the wrapper or into the
  // wrapper's callers, whose optimised code stays small whether or not a profiler ran.
  let live: Function;
  live = function (this: unknown): unknown {
    const savedChildMs = hot.childMs;
    hot.childMs = 0;
    const t0 = now();
    let result: unknown;
    try {
      if (returnsPromises && hot.precise > 0) result = preciseCall(slot, fn, this, arguments, new.target);
      else result = new.target === undefined ? apply(fn, this, arguments) : construct(fn, arguments, new.target);
    } catch (error) {
      const ms = now() - t0;
      closeRun(slot, ms, savedChildMs);
      countCall(slot, t0, ms, 1, 0);
      throw error;
    }
    const ms = now() - t0;
    closeRun(slot, ms, savedChildMs);
    if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
      returnsPromises = true;
      return settleLater(slot, result as PromiseLike<unknown>, t0, isAsync);
    }
    countCall(slot, t0, ms, 0, 0);
    return result;
  };
  // With no profiler running this must cost about a bare call, also after a profiler stopped.
  // V8 forwards `arguments` without building the object, and inlines `fn`, only if every other
  // use of `arguments` here is already a spread or array-like call when it compiles the off
  // path: a second Reflect.apply (a plain call until V8 rewrites it) made that depend on which
  // of the two it rewrote first, and after a stop `fn` was not inlined about half the time
  // (6.5 ns instead of 2). So the running path receives them as a spread.
  const profiled = function (this: unknown): unknown {
    if (hot.running === 0) return new.target === undefined ? apply(fn, this, arguments) : construct(fn, arguments, new.target);
    return new.target === undefined ? live.call(this, ...arguments) : construct(live, arguments, new.target);
  };
  Object.defineProperty(profiled, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(profiled, 'length', { value: fn.length, configurable: true });
  if (Object.hasOwn(fn, 'prototype')) {
    Object.defineProperty(profiled, 'prototype', { value: (fn as { prototype?: unknown }).prototype, writable: true });
  }
  registerFunction(slot, fn);
  return profiled as unknown as F;
}

/** A returned thenable: the call ends when it settles. */
function settleLater(slot: ModuleSlot, result: PromiseLike<unknown>, t0: number, derive: boolean): unknown {
  if (!(result instanceof Promise) && !types.isPromise(result)) {
    // A query builder or a lazy job starts work when then() is called: leave it alone.
    countCall(slot, t0, now() - t0, 0, 0);
    slot.warnOnce(
      'thenable',
      `module "${slot.name}" returned a thenable that is not a promise; its latency covers only the synchronous call, ` +
        'because calling its then() could start work (a query builder, a lazy job)',
    );
    return result;
  }
  hot.continuations = true;
  if (derive) {
    return apply(promiseThen, result, [
      (value: unknown) => {
        countCall(slot, t0, now() - t0, 0, ASYNC);
        return value;
      },
      (error: unknown) => {
        countCall(slot, t0, now() - t0, 1, ASYNC);
        throw error;
      },
    ]);
  }
  // Handed back untouched (the caller may compare it or cache it); observed on the side.
  apply(promiseThen, result, [() => countCall(slot, t0, now() - t0, 0, ASYNC), () => countCall(slot, t0, now() - t0, 1, ASYNC)]);
  return result;
}

/** `cpu: 'precise'`: runs the call in the module's async context, so its continuations are timed. */
function preciseCall(slot: ModuleSlot, fn: Function, thisArg: unknown, args: ArrayLike<unknown>, newTarget: Function | undefined): unknown {
  const als = runtime.als;
  return als ? als.run(slot, invoke, fn, thisArg, args, newTarget) : invoke(fn, thisArg, args, newTarget);
}

/** Remembers `fn` (weakly) so that samplers can find its frames by source location. */
function registerFunction(slot: ModuleSlot, fn: Function): void {
  if (slot.id < 0) return; // the wrapper sample below
  // Wrapping per call (a closure each time) would grow this list: keep the first ones.
  if (slot.functions.length >= MAX_FUNCTIONS_PER_MODULE) {
    slot.warnOnce(
      'functions',
      `module "${slot.name}" wraps more than ${MAX_FUNCTIONS_PER_MODULE} functions; wrap each function once, ` +
        'not on every call. CPU and memory of the further ones are not attributed',
    );
    return;
  }
  slot.functions.push({ fn: new WeakRef(fn as (...args: never[]) => unknown), located: false });
  runtime.unlocated++;
}

const MAX_FUNCTIONS_PER_MODULE = 256;

// All wrappers share the code of `profiled` (their running path, `live`, runs beneath it): one of
// them tells the samplers where that code is.
runtime.wrapperSamples.push(wrapFunction(function wrapperSample() {}, new ModuleSlot(-1, 'loadlight.wrapper', 'code', [])));

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

function fail(message: string): never {
  throw new LoadlightError('PLUGIN_OPTIONS_INVALID', message, { plugin: PLUGIN_NAME });
}

/**
 * Profiles a function as (part of) a module: calls, errors, latency, CPU and memory are
 * attributed to `name`. Sync functions stay sync; an async function's promise settles with the
 * same value or rejection. With no profiler running it calls straight through.
 *
 * ```ts
 * const recognise = profileModule('core.ocr', async (image: Buffer) => worker.recognize(image));
 * ```
 */
export function profileModule<F extends (...args: never[]) => unknown>(name: string, fn: F, options?: ModuleOptions): F {
  const call = `profileModule(${JSON.stringify(name)}, …)`;
  checkModuleName(name, 'profileModule()');
  if (typeof fn !== 'function') fail(`${call}: the second argument must be the function to profile, got ${typeof fn}`);
  const tags = checkModuleOptions(options, call);
  return wrapFunction(fn, slotFor(name, 'code', tags, call, fail));
}

/**
 * A standard (TC39, TypeScript 5) method decorator: the method is profiled as module `name`.
 * Not for `experimentalDecorators`.
 *
 * ```ts
 * class Reader {
 *   @profile('core.ocr', { tags: ['ocr'] })
 *   async read(frame: Frame) { ... }
 * }
 * ```
 */
export function profile(name: string, options?: ModuleOptions) {
  const call = `@profile(${JSON.stringify(name)})`;
  checkModuleName(name, '@profile()');
  const tags = checkModuleOptions(options, call);
  const slot = slotFor(name, 'code', tags, call, fail);
  return function decorate<This, Args extends unknown[], Return>(
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): (this: This, ...args: Args) => Return {
    if (typeof context !== 'object' || context === null || typeof (context as { kind?: unknown }).kind !== 'string') {
      fail(`${call}: used as a legacy decorator. @profile is a standard decorator (TypeScript 5); turn "experimentalDecorators" off`);
    }
    if (context.kind !== 'method') {
      fail(`${call}: decorates methods only, not a ${String((context as { kind: string }).kind)}. Wrap other code with profileModule() or moduleSpan()`);
    }
    if (typeof method !== 'function') fail(`${call}: the decorated member is not a function`);
    return wrapFunction(method, slot);
  };
}

/** Ends a span; pass the error (anything but undefined) when the work failed. Calling it again does nothing. */
export type EndSpan = (error?: unknown) => void;

const endNothing: EndSpan = () => undefined;

/**
 * Profiles code that is not one function: `const end = moduleSpan('io.save'); ...; end()`.
 * Calls, errors and latency are counted; CPU is charged for a span that ends before its code
 * returns to the event loop (a span across an `await` is timed but its CPU is not attributed:
 * wrap such work with `profileModule`).
 */
export function moduleSpan(name: string, options?: ModuleOptions): EndSpan {
  let slot = runtime.slots.get(name);
  if (slot === undefined || options !== undefined || slot.kind !== 'code') {
    const call = `moduleSpan(${JSON.stringify(name)})`;
    checkModuleName(name, 'moduleSpan()');
    slot = slotFor(name, 'code', checkModuleOptions(options, call), call, fail);
  }
  if (hot.running === 0) return endNothing;
  const savedChildMs = hot.childMs;
  hot.childMs = 0;
  // One microtask per synchronous run (not per span) tells a later end() that it crossed an await.
  if (!hot.probePending) {
    hot.probePending = true;
    queueMicrotask(nextRun);
  }
  const run = hot.run;
  const t0 = now();
  let ended = false;
  const owner = slot;
  return (error?: unknown): void => {
    if (ended) return;
    ended = true;
    const ms = now() - t0;
    const sameRun = hot.run === run;
    if (sameRun) closeRun(owner, ms, savedChildMs);
    else {
      owner.warnOnce(
        'async-span',
        `module "${owner.name}": a moduleSpan stayed open across an await; it is timed, but its CPU is not attributed. ` +
          'Wrap async work with profileModule() to have its continuations charged',
      );
    }
    countCall(owner, t0, ms, error === undefined ? 0 : 1, sameRun ? 0 : ASYNC);
  };
}

function nextRun(): void {
  hot.run++;
  hot.probePending = false;
}
