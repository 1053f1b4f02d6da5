// @ts-check
// Shared by the hot-path groups: the profiler each group runs under, input values, the work
// function the module wrappers time, and the peers' setups.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { importOptional } from '../../lib/topic.mjs';

const MAX_WARNINGS = 5;

/** Tick once at start, then not again for an hour: ticks must not land inside a timed batch. */
export const QUIET_PROFILER = Object.freeze({ reporters: [], rules: [], sampleIntervalMs: 3_600_000, maxSamples: 16 });

/**
 * 1,024 frame or wait durations in ms (0.5 to 10.5 ms, spread out): histograms see varied values,
 * as they would in a program, rather than one constant a compiler could fold. Every case that
 * takes a value reads it from here the same way, so the read costs all of them alike.
 */
export const MS = Float64Array.from({ length: 1024 }, (_, i) => 0.5 + ((i * 7919) % 1000) / 100);
/** The same durations in whole microseconds: what a native perf_hooks histogram records. */
export const US = Float64Array.from(MS, (ms) => Math.round(ms * 1000));
/** The same durations in seconds: prom-client's convention for histograms. */
export const SECONDS = Float64Array.from(MS, (ms) => ms / 1000);
export const MASK = 1023;

/**
 * The function the module wrappers time: a few nanoseconds of integer work whose result depends
 * on its argument, so that it cannot be folded away or hoisted out of the loop.
 * @param {number} x
 */
export function work(x) {
  return Math.imul(x, 2654435761) >>> 16;
}

/**
 * Starts a loadlight profiler with these plugins, quiet (no reporters, no rules, no ticks during
 * the measurement). Warnings are kept for the notes rather than printed.
 * @param {unknown[]} plugins
 * @param {string[]} warnings
 */
export async function startProfiler(plugins, warnings) {
  const core = await import('@loadlight/core');
  const profiler = new core.Profiler(
    /** @type {any} */ ({ ...QUIET_PROFILER, plugins }),
    {
      handleExit: false,
      // A handful is enough to see what went wrong; thousands of modules could warn thousands of times.
      warn: (/** @type {string} */ message) => {
        if (warnings.length < MAX_WARNINGS) warnings.push(`loadlight warned: ${message}`);
      },
    },
  );
  await profiler.start();
  return profiler;
}

/**
 * Our packages, loaded where built; `missing[name]` says why one is not (its cases then show as
 * not measured, and the peers still run).
 * @param {string[]} names e.g. ['plugin-ocr', 'plugin-io']
 */
export async function loadOurs(names) {
  /** @type {Record<string, any>} */
  const modules = {};
  /** @type {Record<string, string>} */
  const missing = {};
  for (const name of names) {
    const loaded = await importOptional(`@loadlight/${name}`);
    if (loaded.missing === null) modules[name] = loaded.module;
    else missing[name] = loaded.missing;
  }
  return { modules, missing };
}

/** An OpenTelemetry SDK meter with a pull reader attached: instruments aggregate for real. */
export function otelMeter() {
  class PullReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { meter: provider.getMeter('bench'), reader };
}

/**
 * Runs one collect outside the timer and returns what every source wrote: proof that the
 * tracking functions recorded (the profiler was live, not a no-op being timed). The profiler
 * routes each tap's writes to its current row through `writeValue` (internal to core), so this
 * looks at them there, for this one collect only, and passes them on unchanged.
 * @param {any} profiler
 * @returns {Promise<Record<string, number | null>>}
 */
export async function collectOnce(profiler) {
  /** @type {Record<string, number | null>} */
  const values = {};
  const writeValue = profiler.writeValue;
  profiler.writeValue = (/** @type {string} */ name, /** @type {number | null} */ value, /** @type {string} */ plugin) => {
    values[name] = value;
    return writeValue.call(profiler, name, value, plugin);
  };
  try {
    await profiler.hooks.collect.promise({ t: Date.now(), set: () => undefined });
  } finally {
    delete profiler.writeValue;
  }
  return values;
}

/**
 * A note saying what a source recorded during the run, or that it recorded nothing (then the
 * figure timed a function that did not do its work, and the note says so). With `count`, the
 * named counter must equal the calls the harness made.
 * @param {Record<string, number | null>} values
 * @param {string} prefix metric namespace, e.g. `ocr.`
 * @param {string} what e.g. `trackOcrCall()`
 * @param {{ metric: string, calls: number }} [count]
 */
export function recordedNote(values, prefix, what, count) {
  const written = Object.entries(values).filter(([name, value]) => name.startsWith(prefix) && typeof value === 'number' && value > 0);
  if (written.length === 0) return `CHECK: after timing ${what}, no ${prefix}* metric had a value: the figure may time a function that recorded nothing`;
  if (count) {
    const got = values[count.metric];
    const calls = count.calls.toLocaleString('en-US');
    if (got !== count.calls) return `CHECK: ${what} was called ${calls} times but ${count.metric} reads ${got ?? 'nothing'}`;
    return `${what} recorded every call: ${count.metric} = ${calls}, the calls the harness made (one collect after the run)`;
  }
  const shown = written.slice(0, 3).map(([name, value]) => `${name}=${Number(value).toPrecision(4)}`);
  return `${what} recorded: ${shown.join(', ')}${written.length > 3 ? ', ...' : ''} (one collect after the run)`;
}
