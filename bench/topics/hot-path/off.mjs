// @ts-check
// With no profiler running, every tracking function must cost no more than a bare function call.
// Two situations, each in its own process: no profiler was ever started (`params.after` unset),
// and a profiler ran while the very same call sites were hot, then stopped (`params.after: 'stop'`):
// the call sites then have seen both the live and the no-op implementation, as in a program that
// profiles for a while and stops.
import { loadOurs, MASK, MS, startProfiler, work } from './common.mjs';

/**
 * "No more than a bare call", with an allowance of 10% + 1 ns. V8 inlines a direct call to an
 * empty function completely, so the bare-call row is the timing loop alone (about 0.5 ns). A
 * tracking function turned off by a module-level flag (or chosen at run time) costs one load and
 * one compare more (about 0.5 ns: the `call through a variable` row shows it for a plain
 * function, before any swap): the 1 ns admits that and nothing larger, since a call V8 does not
 * inline, an allocation or a clock read each cost more. The 10% covers noise: the A/A row (the same bare
 * call timed as a second case) shows how far two identical cases drift apart in one run.
 */
export const OFF_TOLERANCE = Object.freeze({ ratio: 1.1, ns: 1 });

function bare() {}
function bareAgain() {}
/** @param {number} ms */
function bareWithArg(ms) {
  void ms;
}
/**
 * Reassigned below, as an implementation swapped on start and stop would be: after a swap, the
 * `call through a variable` row shows what such a call site costs (no longer inlined), which is
 * why our tracking functions test a flag instead.
 */
let swappable = bareAgain;

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const afterStop = params.after === 'stop';
  /** @type {string[]} */
  const notes = [];
  const { modules, missing } = await loadOurs(['plugin-ocr', 'plugin-frames', 'plugin-io', 'plugin-modules']);
  const ocr = modules['plugin-ocr'];
  const frames = modules['plugin-frames'];
  const io = modules['plugin-io'];
  const mod = modules['plugin-modules'];
  /** @type {((x: number) => number) | null} */
  const wrapped = mod ? mod.profileModule('bench.work', work) : null;
  let k = 0;
  let x = 0;
  swappable = bare;
  swappable = bareAgain;

  /**
   * @param {string} id
   * @param {string} label
   * @param {any} pkg
   * @param {string} name
   * @param {() => unknown} op
   * @returns {import('../../lib/measure.mjs').MicroCase}
   */
  const ours = (id, label, pkg, name, op) => (pkg ? { id, label, who: 'loadlight', op } : { id, label, who: 'loadlight', unavailable: missing[name] });
  const cases = [
    { id: 'js.bare', label: 'bare call f()', who: 'js', op: () => bare() },
    { id: 'js.bare.aa', label: 'bare call f() again (A/A: noise)', who: 'js', op: () => bareAgain() },
    { id: 'js.variable', label: 'call through a variable', who: 'js', op: () => swappable() },
    ours('trackOcrCall', 'loadlight trackOcrCall()', ocr, 'plugin-ocr', () => ocr.trackOcrCall()),
    { id: 'js.bare.ms', label: 'bare call f(ms)', who: 'js', op: () => bareWithArg(MS[(k = (k + 1) & MASK)]) },
    ours('trackFrame', 'loadlight trackFrame(ms)', frames, 'plugin-frames', () => frames.trackFrame(MS[(k = (k + 1) & MASK)])),
    ours('trackIoWait', 'loadlight trackIoWait(ms)', io, 'plugin-io', () => io.trackIoWait(MS[(k = (k + 1) & MASK)])),
    { id: 'js.direct', label: 'fn called directly', who: 'js', op: () => work((x = (x + 1) | 0)) },
    ours('profileModule', 'loadlight profileModule(name, fn)', wrapped, 'plugin-modules', () => /** @type {(x: number) => number} */ (wrapped)((x = (x + 1) | 0))),
  ];

  if (afterStop) {
    const plugins = [ocr, frames, io, mod].filter(Boolean).map((m) => m.default());
    const profiler = await startProfiler(plugins, notes);
    swappable = bare; // the plain-function reference swaps along
    // The same op closures the measurement calls, run hot while the profiler is live.
    for (const c of cases) if (c.op) for (let i = 0; i < 200_000; i++) c.op();
    await profiler.stop();
    swappable = bareAgain;
  }
  const measured = ctx.measure(cases);

  const situation = afterStop ? 'after stop()' : 'no profiler started';
  const prefix = afterStop ? 'after-stop' : 'off';
  const allowance = `+${Math.round((OFF_TOLERANCE.ratio - 1) * 100)}% +${OFF_TOLERANCE.ns} ns`;
  const tolerance = `tolerance: bare ${allowance} (why: bench/README.md)`;
  const note = afterStop
    ? `a profiler with every plugin ran while these call sites were hot (200,000 calls each), then stopped; ${tolerance}`
    : `no profiler was ever started in this process; ${tolerance}`;
  /**
   * @param {string} baseline
   * @param {string[]} bounded
   */
  const bounds = (baseline, bounded) => {
    const base = measured.find((m) => m.id === baseline);
    const limit = base && Number.isFinite(base.median) ? base.median * OFF_TOLERANCE.ratio + OFF_TOLERANCE.ns : NaN;
    const text = `≤ bare ${allowance}`;
    return Object.fromEntries(bounded.map((id) => [id, { value: limit, text }]));
  };
  return {
    measured,
    notes,
    comparisons: [
      {
        id: `${prefix}-call`,
        title: `${situation}: trackOcrCall() vs a bare call`,
        note,
        baseline: 'js.bare',
        cases: ['trackOcrCall', 'js.bare', 'js.bare.aa', 'js.variable'],
        bounds: bounds('js.bare', ['trackOcrCall']),
      },
      {
        id: `${prefix}-call-ms`,
        title: `${situation}: trackFrame(ms), trackIoWait(ms) vs a bare call with an argument`,
        note,
        baseline: 'js.bare.ms',
        cases: ['trackFrame', 'trackIoWait', 'js.bare.ms'],
        bounds: bounds('js.bare.ms', ['trackFrame', 'trackIoWait']),
      },
      {
        id: `${prefix}-module`,
        title: `${situation}: profileModule(name, fn) vs calling fn directly`,
        note,
        baseline: 'js.direct',
        cases: ['profileModule', 'js.direct'],
        bounds: bounds('js.direct', ['profileModule']),
      },
    ],
  };
}
