// @ts-check
// Events at 1k, 100k and 1M per second for a few seconds of real time (issue 4, item 6), with
// `params.modules` profiled modules existing (1, 100 or 10,000; one process each): trackOcrCall(),
// trackFrame(ms), trackIoWait(ms) and calls of a profiled module, in equal shares, under a
// running profiler that ticks. Reports the CPU each event costs, the process's CPU, and the tick
// cost at each rate.
import { summarize } from '../../lib/stats.mjs';
import { count, loadPackages, MASK, measuredRow, MS, RATES, rateLabel, sleep, work, timeTicks, unavailableRow, until } from './common.mjs';

export { RATES, rateLabel };
/** Ticks 10 per second: several in every phase (rules and reporters aside: see run). */
export const EVENTS_SAMPLE_INTERVAL_MS = 100;
/** Nothing here reads windows: a short ring keeps the session built at stop small. */
const EVENTS_MAX_SAMPLES = 8;
const WARN_LIMIT = 5;

/** @param {number} n */
function modulesText(n) {
  return `${count(n)} module${n === 1 ? '' : 's'}`;
}

/**
 * How many of the events with index in [from, to) go to kind `k` of `kinds`, events being dealt
 * to the kinds in turn (event j to kind j % kinds).
 * @param {number} from
 * @param {number} to
 * @param {number} k
 * @param {number} kinds
 */
export function share(from, to, k, kinds) {
  const upTo = (/** @type {number} */ m) => Math.floor((m + kinds - 1 - k) / kinds);
  return upTo(to) - upTo(from);
}

/**
 * Events due by `elapsedMs` at `rate` per second, minus those already issued.
 * @param {number} rate
 * @param {number} elapsedMs
 * @param {number} issued
 */
export function due(rate, elapsedMs, issued) {
  return Math.max(0, Math.floor((rate * elapsedMs) / 1000) - issued);
}

// The event functions, set once loaded. Each burst below is its own function with one call site,
// so that every call site sees one target, as in a program.
/** @type {() => void} */
let trackOcrCall = () => {};
/** @type {(ms: number) => void} */
let trackFrame = () => {};
/** @type {(ms: number) => void} */
let trackIoWait = () => {};
/** @type {(x: number) => number} */
let hotModule = work;
let k = 0;
let x = 0;

function bare() {}
/** @param {number} ms */
function bareWithArg(ms) {
  void ms;
}
/** @param {number} ms */
function bareWithArgAgain(ms) {
  void ms;
}

/** @type {Array<(n: number) => void>} */
const OURS = [
  (n) => {
    for (let i = 0; i < n; i++) trackOcrCall();
  },
  (n) => {
    for (let i = 0; i < n; i++) trackFrame(MS[(k = (k + 1) & MASK)]);
  },
  (n) => {
    for (let i = 0; i < n; i++) trackIoWait(MS[(k = (k + 1) & MASK)]);
  },
  (n) => {
    for (let i = 0; i < n; i++) x = hotModule((x + 1) | 0);
  },
];
/**
 * The same loops around a bare call (`fn` itself for the module): what the loop and the timing cost.
 * @type {Array<(n: number) => void>}
 */
const BARE = [
  (n) => {
    for (let i = 0; i < n; i++) bare();
  },
  (n) => {
    for (let i = 0; i < n; i++) bareWithArg(MS[(k = (k + 1) & MASK)]);
  },
  (n) => {
    for (let i = 0; i < n; i++) bareWithArgAgain(MS[(k = (k + 1) & MASK)]);
  },
  (n) => {
    for (let i = 0; i < n; i++) x = work((x + 1) | 0);
  },
];
export const KIND_NAMES = Object.freeze(['trackOcrCall()', 'trackFrame(ms)', 'trackIoWait(ms)', 'profiled module call']);

/**
 * @typedef {object} Phase
 * @property {number} rate events per second (0: no events)
 * @property {number} durationMs the phase's length as asked (a tick may make it run longer)
 * @property {number} startedAt
 * @property {number} endedAt
 * @property {number} events
 * @property {number} cpuUs process CPU (user + system) over the phase
 * @property {number[]} oursNs per kind, time in our bursts
 * @property {number[]} bareNs per kind, time in the bare bursts
 * @property {number[]} kindEvents per kind
 * @property {number[][]} netNs per kind, one value per wake-up: (our burst - the bare one) / its events
 */

/**
 * Issues `rate` events per second for `durationMs`: wakes every millisecond (a timer, as a program
 * would) and issues the events due since the phase began, each kind's share in its own timed
 * burst, with as many bare calls timed beside it, bare first in every other wake-up (the first
 * burst after a wake-up runs on colder caches). Events falling due during a tick are issued
 * after it, as a program's would.
 * @param {number} rate
 * @param {number} durationMs
 * @returns {Promise<Phase>}
 */
async function runPhase(rate, durationMs) {
  const kinds = OURS.length;
  /** @type {Phase} */
  const phase = { rate, durationMs, startedAt: performance.now(), endedAt: 0, events: 0, cpuUs: 0, oursNs: [0, 0, 0, 0], bareNs: [0, 0, 0, 0], kindEvents: [0, 0, 0, 0], netNs: [[], [], [], []] };
  const cpu = process.cpuUsage();
  let bareFirst = false;
  for (;;) {
    const now = performance.now();
    const elapsed = Math.min(now - phase.startedAt, durationMs);
    const n = due(rate, elapsed, phase.events);
    if (n > 0) {
      for (let kind = 0; kind < kinds; kind++) {
        const m = share(phase.events, phase.events + n, kind, kinds);
        if (m === 0) continue;
        let ours;
        let bareNs;
        if (bareFirst) {
          const t0 = performance.now();
          BARE[kind](m);
          const t1 = performance.now();
          OURS[kind](m);
          const t2 = performance.now();
          bareNs = (t1 - t0) * 1e6;
          ours = (t2 - t1) * 1e6;
        } else {
          const t0 = performance.now();
          OURS[kind](m);
          const t1 = performance.now();
          BARE[kind](m);
          const t2 = performance.now();
          ours = (t1 - t0) * 1e6;
          bareNs = (t2 - t1) * 1e6;
        }
        phase.oursNs[kind] += ours;
        phase.bareNs[kind] += bareNs;
        phase.kindEvents[kind] += m;
        phase.netNs[kind].push((ours - bareNs) / m);
      }
      bareFirst = !bareFirst;
      phase.events += n;
    }
    if (now - phase.startedAt >= durationMs) break;
    await sleep(1);
  }
  const used = process.cpuUsage(cpu);
  phase.cpuUs = used.user + used.system;
  phase.endedAt = performance.now();
  return phase;
}

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const modulesExisting = typeof params.modules === 'number' ? params.modules : 1;
  const phaseMs = ctx.quick ? 200 : 1000;
  // Every rate, then every rate again in the reverse order (full runs): a drift of the machine's
  // speed over the run touches every rate alike.
  const order = ctx.quick ? [0, ...RATES] : [0, ...RATES, ...[...RATES].reverse(), 0];
  /** @type {string[]} */
  const notes = [];
  const { modules, why } = await loadPackages(['core', 'plugin-ocr', 'plugin-frames', 'plugin-io', 'plugin-modules']);
  if (why) return eventFigures(modulesExisting, [], [], { unavailable: why, notes });

  const mod = modules['plugin-modules'];
  /** @type {Array<(x: number) => number>} */
  const others = [];
  for (let i = 1; i < modulesExisting; i++) {
    // Distinct source per module, as distinct modules of a program have.
    others.push(mod.profileModule(`bench.other.${i}`, /** @type {(x: number) => number} */ (new Function('x', `return x + ${i};`))));
  }
  hotModule = mod.profileModule('bench.work', work);
  trackOcrCall = modules['plugin-ocr'].trackOcrCall;
  trackFrame = modules['plugin-frames'].trackFrame;
  trackIoWait = modules['plugin-io'].trackIoWait;

  // What the profiler recorded, tick by tick: checked against the calls made (a figure timing a
  // function that counted nothing would be worthless).
  const recorded = { module: 0, ocr: 0 };
  const tally = {
    name: 'bench-tally',
    /** @param {any} p */
    apply(p) {
      p.hooks.sample.tap('bench-tally', (/** @type {{ get(name: string): number | null }} */ sample) => {
        recorded.module += sample.get('module.bench.work.calls') ?? 0;
        recorded.ocr += sample.get('ocr.calls.count') ?? 0;
      });
    },
  };
  const profiler = new modules.core.Profiler(
    {
      plugins: [modules['plugin-ocr'].default(), modules['plugin-frames'].default(), modules['plugin-io'].default({ host: false }), mod.default(), tally],
      // No rules and no reporter: their cost grows with the metrics (the tick tables measure it
      // whole), not with events, and with 10,000 modules (140,000 metrics) it would take most
      // of the time meant for events. The tick here is the sources' collect, the commit and the
      // sample hook.
      reporters: [],
      rules: [],
      sampleIntervalMs: EVENTS_SAMPLE_INTERVAL_MS,
      maxSamples: EVENTS_MAX_SAMPLES,
    },
    {
      handleExit: false,
      warn: (/** @type {string} */ message) => {
        if (notes.length < WARN_LIMIT) notes.push(`loadlight warned: ${message}`);
      },
    },
  );
  const ticks = timeTicks(profiler);
  await profiler.start();
  /** @type {Phase[]} */
  const phases = [];
  const made = { module: 0, ocr: 0 };
  try {
    // Every module is called once while the profiler runs, and a tick declares its metrics: all
    // of them exist in the profiler before the events begin.
    others.forEach((fn, i) => fn(i));
    hotModule(0);
    made.module++;
    const last = modulesExisting > 1 ? `module.bench.other.${modulesExisting - 1}.calls` : 'module.bench.work.calls';
    await until(() => profiler.store.indexOf(last) !== undefined, `the metrics of ${modulesText(modulesExisting)}`, 60_000);
    const declaredAt = ticks.length;
    await until(() => ticks.length >= declaredAt + 1, 'a tick after the modules were declared', 60_000);
    // Untimed: every burst loop runs optimised before the first timed phase, as it would in a
    // program that has been tracking events for a while.
    const warm = await runPhase(RATES[RATES.length - 1], ctx.quick ? 100 : 500);
    made.module += warm.kindEvents[3];
    made.ocr += warm.kindEvents[0];
    for (const rate of order) phases.push(await runPhase(rate, phaseMs));
    // One more tick collects the last events: stop() takes no last sample when the last tick
    // was moments ago (under 20 ms here), and those events would not reach the tally.
    const endedAt = ticks.length;
    await until(() => ticks.length > endedAt, 'a tick after the last phase', 60_000);
  } finally {
    await profiler.stop();
  }
  for (const p of phases) {
    made.module += p.kindEvents[3];
    made.ocr += p.kindEvents[0];
  }
  const check = (/** @type {string} */ what, /** @type {number} */ got, /** @type {number} */ calls) =>
    got === calls ? `${what} ${count(calls)}` : `CHECK: ${what} ${count(calls)} made but ${count(got)} recorded`;
  notes.push(
    `${modulesText(modulesExisting)} existing, ${count(profiler.store.metricCount)} metrics declared; recorded every call (the sum over ticks of ` +
      `module.bench.work.calls and ocr.calls.count): ${check('profiled module calls', recorded.module, made.module)}, ${check('trackOcrCall() calls', recorded.ocr, made.ocr)}`,
  );
  return eventFigures(modulesExisting, phases, ticks, { notes });
}

/**
 * The median and the half interquartile range (absolute) of a list, NaN when empty.
 * @param {number[]} values
 */
function middle(values) {
  if (values.length === 0) return { median: NaN, halfIqr: NaN };
  const { median, spread } = summarize(values);
  return { median, halfIqr: spread * Math.abs(median) };
}

/**
 * Rows and comparisons of one module count. Per rate: each kind's net cost per event (our burst
 * minus the bare one, per event, median over wake-ups: robust to a wake-up the OS or a GC
 * interrupted), the mix (the mean of the four kinds, as they are issued in equal shares), and the
 * process CPU; per rate and with no events, the time of each tick.
 * @param {number} modulesExisting
 * @param {Phase[]} phases
 * @param {import('./common.mjs').TickTiming[]} ticks
 * @param {{ unavailable?: string, notes?: string[] }} options
 * @returns {import('../../lib/topic.mjs').GroupResult}
 */
export function eventFigures(modulesExisting, phases, ticks, options) {
  const notes = options.notes ?? [];
  /** @type {import('../../lib/results.mjs').Measured[]} */
  const measured = [];
  for (const rate of [0, ...RATES]) {
    const name = rate === 0 ? 'no events' : rateLabel(rate);
    const tickId = `tick.${rate}`;
    const tickLabel = `tick, ${name}`;
    const why = options.unavailable;
    if (why) {
      measured.push(unavailableRow(tickId, tickLabel, 'ms/tick', why));
      if (rate > 0) {
        measured.push(unavailableRow(`net.${rate}`, `per event at ${name}`, 'ns/event', why));
        KIND_NAMES.forEach((kind, i) => measured.push(unavailableRow(`kind${i}.${rate}`, `${kind} at ${name}`, 'ns/event', why)));
      }
      continue;
    }
    const mine = phases.filter((p) => p.rate === rate);
    const inPhase = (/** @type {Phase} */ p) => ticks.filter((t) => t.at >= p.startedAt && t.at < p.endedAt);
    measured.push(measuredRow(tickId, tickLabel, 'ms/tick', mine.flatMap((p) => inPhase(p).map((t) => t.ms)), { paired: false }));
    const wallMs = mine.reduce((sum, p) => sum + (p.endedAt - p.startedAt), 0);
    const cpuMs = mine.reduce((sum, p) => sum + p.cpuUs / 1000, 0);
    const tickCpuMs = mine.reduce((sum, p) => sum + inPhase(p).reduce((a, t) => a + t.cpuMs, 0), 0);
    const core = `the process used ${((cpuMs / Math.max(1e-9, wallMs)) * 100).toFixed(1)}% of one core (ticks ${((tickCpuMs / Math.max(1e-9, wallMs)) * 100).toFixed(1)}%)`;
    if (rate === 0) {
      if (mine.length > 0) notes.push(`${modulesText(modulesExisting)}, no events: ${core}`);
      continue;
    }
    const kinds = KIND_NAMES.map((kind, i) => {
      const m = middle(mine.flatMap((p) => p.netNs[i]));
      measured.push({ id: `kind${i}.${rate}`, label: `${kind} at ${name}`, who: 'loadlight', unit: 'ns/event', median: m.median, spread: m.median > 0 ? m.halfIqr / m.median : NaN });
      return m;
    });
    const mix = kinds.reduce((sum, m) => sum + m.median, 0) / kinds.length;
    const mixHalfIqr = kinds.reduce((sum, m) => sum + m.halfIqr, 0) / kinds.length;
    measured.push({ id: `net.${rate}`, label: `per event at ${name}`, who: 'loadlight', unit: 'ns/event', median: mix, spread: mix > 0 ? mixHalfIqr / mix : NaN });
    const events = mine.reduce((sum, p) => sum + p.events, 0);
    const nominalMs = mine.reduce((sum, p) => sum + p.durationMs, 0);
    const stretched = wallMs > nominalMs * 1.2 ? ` (the phases ran ${(wallMs / 1000).toFixed(1)} s: ticks overran their end)` : '';
    notes.push(
      `${modulesText(modulesExisting)} at ${name}: ${count(events)} events in ${(nominalMs / 1000).toFixed(2)} s${stretched}; ${core}; ` +
        `net ns per event: ${KIND_NAMES.map((kind, i) => `${kind} ${kinds[i].median.toFixed(1)}`).join(', ')}`,
    );
  }
  const label = modulesText(modulesExisting);
  return {
    measured,
    notes,
    comparisons: [
      {
        id: `events-tick-${modulesExisting}`,
        title: `tick cost at each event rate, ${label} existing`,
        note: `plugin-ocr, -frames, -io (host: false), -modules; no rules, no reporter (the tick tables time those); a tick every ${EVENTS_SAMPLE_INTERVAL_MS} ms; the ticks that began in that rate's phases`,
        baseline: 'tick.0',
        cases: [0, ...RATES].map((rate) => `tick.${rate}`),
      },
    ],
  };
}
