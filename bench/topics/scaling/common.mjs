// @ts-check
// Shared by the scaling topic and its groups: the rates, loading our packages, timing a
// profiler's ticks, a terminal that discards what the console reporter draws, and the summaries
// the groups return. Light on purpose: the topic file imports it in the parent process (the
// hot-path helpers load OpenTelemetry's SDK, 0.1-0.3 s a process, which no group here uses).
import { Writable } from 'node:stream';
import { summarize } from '../../lib/stats.mjs';
import { importOptional } from '../../lib/topic.mjs';

/** Events per second of the events groups. */
export const RATES = Object.freeze([1_000, 100_000, 1_000_000]);

/** @param {number} rate */
export function rateLabel(rate) {
  return rate >= 1e6 ? `${rate / 1e6}M/s` : rate >= 1e3 ? `${rate / 1e3}k/s` : `${rate}/s`;
}

/**
 * 1,024 frame or wait durations in ms (0.5 to 10.5 ms, spread out), so that histograms see
 * varied values; read in turn with `MS[(k = (k + 1) & MASK)]`.
 */
export const MS = Float64Array.from({ length: 1024 }, (_, i) => 0.5 + ((i * 7919) % 1000) / 100);
export const MASK = 1023;

/**
 * What the profiled module of the events does: a few ns of integer work on its argument.
 * @param {number} x
 */
export function work(x) {
  return Math.imul(x, 2654435761) >>> 16;
}

/**
 * Our packages, loaded where built; `why` says why one is not (the figures then show as not
 * measured).
 * @param {string[]} names e.g. ['core', 'plugin-modules']
 * @returns {Promise<{ modules: Record<string, any>, why: string | undefined }>}
 */
export async function loadPackages(names) {
  /** @type {Record<string, any>} */
  const modules = {};
  for (const name of names) {
    const loaded = await importOptional(`@loadlight/${name}`);
    if (loaded.missing !== null) return { modules, why: loaded.missing };
    modules[name] = loaded.module;
  }
  return { modules, why: undefined };
}

/**
 * The ring and window every scaling profiler uses: 60 samples, all of them in the window (as with
 * the default 60 s window at the default 1 Hz), whatever the tick rate of the run.
 */
export const RING = Object.freeze({ maxSamples: 60, windowSeconds: 3600 });

/**
 * A terminal of 120 x 40 that drops what it is given: the console reporter draws its full live
 * view (the most work a report does), and nothing reaches the bench's own output.
 */
export function nullTerminal() {
  const stream = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return Object.assign(stream, { isTTY: true, columns: 120, rows: 40 });
}

/**
 * @typedef {object} TickTiming
 * @property {number} at performance.now() when the tick began (ms)
 * @property {number} ms wall time of the whole tick: collect, commit, sample hook, rules, report
 * @property {number} cpuMs process CPU (user + system) over the same span
 */

/**
 * Times every tick of a profiler from now on: wraps its (private) `tick` so that each call is
 * timed from its start to the end of its promise. Collect, commit, the sample hook, the rules and
 * the report taps (their synchronous part: rendering) all run inside it. With synchronous collect
 * taps and no rule-file watching, nothing in it waits for IO, so its wall time is its CPU time
 * (plus whatever the OS took away; medians over many ticks).
 * @param {any} profiler a @loadlight/core Profiler, not started yet
 * @returns {TickTiming[]} filled as ticks happen
 */
export function timeTicks(profiler) {
  const original = profiler.tick;
  if (typeof original !== 'function') {
    throw new Error('Profiler#tick not found: @loadlight/core changed and bench/topics/scaling/common.mjs must follow it');
  }
  /** @type {TickTiming[]} */
  const ticks = [];
  profiler.tick = async function timedTick(/** @type {unknown[]} */ ...args) {
    const cpu = process.cpuUsage();
    const at = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      const ms = performance.now() - at;
      const used = process.cpuUsage(cpu);
      ticks.push({ at, ms, cpuMs: (used.user + used.system) / 1000 });
    }
  };
  return ticks;
}

/**
 * Resolves once `check()` holds, polling every few ms; rejects after `timeoutMs` with `what`.
 * @param {() => boolean} check
 * @param {string} what
 * @param {number} timeoutMs
 */
export async function until(check, what, timeoutMs) {
  const startedAt = performance.now();
  while (!check()) {
    if (performance.now() - startedAt > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A measured row from per-round values (median, spread and the samples for paired ratios).
 * @param {string} id
 * @param {string} label
 * @param {string} unit
 * @param {number[]} samples
 * @param {{ paired?: boolean }} [options] `paired: false` leaves the samples out, so that ratios
 *   are taken between medians (values of two runs one after the other are not paired by round)
 * @returns {import('../../lib/results.mjs').Measured}
 */
export function measuredRow(id, label, unit, samples, options = {}) {
  if (samples.length === 0) return { id, label, who: 'loadlight', unit, median: NaN, spread: NaN, unavailable: 'no sample was taken' };
  const { median, spread } = summarize(samples);
  /** @type {import('../../lib/results.mjs').Measured} */
  const row = { id, label, who: 'loadlight', unit, median, spread };
  if (options.paired !== false) row.samples = samples;
  return row;
}

/**
 * A row that could not be measured (a package not built), with the reason.
 * @param {string} id
 * @param {string} label
 * @param {string} unit
 * @param {string} why
 * @returns {import('../../lib/results.mjs').Measured}
 */
export function unavailableRow(id, label, unit, why) {
  return { id, label, who: 'loadlight', unit, median: NaN, spread: NaN, unavailable: why };
}

/** @param {number} n */
export function count(n) {
  return n.toLocaleString('en-US');
}
