// @ts-check
// Histograms: a tracking function that records into a native histogram, against a perf_hooks
// histogram's record() itself, under a running profiler with the function's plugin. Two
// comparisons, each in its own process (the `histogram` and `io-wait` groups):
// - `of: 'frame'` (the default): trackFrame(ms), with prom-client's Histogram.observe and
//   OpenTelemetry's Histogram.record beside it;
// - `of: 'io'`: trackIoWait(ms), which adds the wait to the IO totals and records it in a native
//   histogram (for io.wait.p95_ms), with prom-client's Counter.inc(ms) (the total alone) and
//   OpenTelemetry's Histogram.record beside it.
import { createHistogram } from 'node:perf_hooks';
import { Counter, Histogram, Registry } from 'prom-client';
import { collectOnce, loadOurs, MASK, MS, otelMeter, recordedNote, SECONDS, startProfiler, US } from './common.mjs';

/** The bound of issue 3 for a tracking function that records into a native histogram. */
const RECORD_BOUND = 1.5;

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  return params.of === 'io' ? runIoWait(ctx) : runFrame(ctx);
}

/** @param {import('../../lib/topic.mjs').GroupContext} ctx */
async function runFrame(ctx) {
  /** @type {string[]} */
  const notes = [];
  const { modules, missing } = await loadOurs(['plugin-frames']);
  const frames = modules['plugin-frames'];
  const profiler = await startProfiler([frames?.default()].filter(Boolean), notes);

  const native = createHistogram();
  const registry = new Registry();
  // prom-client's default buckets are in seconds, its convention for durations.
  const promFrames = new Histogram({ name: 'bench_frame_seconds', help: 'frame time', registers: [registry] });
  const { meter } = otelMeter();
  const otelFrames = meter.createHistogram('frames.latency', { unit: 'ms' });
  let k = 0;

  const measured = ctx.measure([
    frames
      ? { id: 'trackFrame', label: 'loadlight trackFrame(ms)', who: 'loadlight', op: () => frames.trackFrame(MS[(k = (k + 1) & MASK)]) }
      : { id: 'trackFrame', label: 'loadlight trackFrame(ms)', who: 'loadlight', unavailable: missing['plugin-frames'] },
    { id: 'node.record', label: 'perf_hooks createHistogram().record(µs)', who: 'node', op: () => native.record(US[(k = (k + 1) & MASK)]) },
    { id: 'prom.observe', label: 'prom-client Histogram.observe(s)', who: 'prom-client', op: () => promFrames.observe(SECONDS[(k = (k + 1) & MASK)]) },
    { id: 'otel.record', label: 'OpenTelemetry Histogram.record(ms)', who: 'opentelemetry', op: () => otelFrames.record(MS[(k = (k + 1) & MASK)]) },
  ]);

  if (frames) {
    const calls = measured.find((m) => m.id === 'trackFrame')?.calls ?? 0;
    notes.push(recordedNote(await collectOnce(profiler), 'frames.', 'trackFrame(ms)', { metric: 'frames.analysed.count', calls }));
  }
  await profiler.stop();

  return {
    measured,
    notes,
    comparisons: [
      {
        id: 'frame',
        title: 'trackFrame(ms) vs perf_hooks createHistogram().record()',
        note: `profiler running: ${frames ? 'plugin-frames' : 'no plugin built'}, reporters: [], rules: []; values vary over 1,024 durations (0.5-10.5 ms), each peer in its own unit`,
        baseline: 'node.record',
        cases: ['trackFrame', 'node.record', 'prom.observe', 'otel.record'],
        bounds: { trackFrame: { ratio: RECORD_BOUND } },
      },
    ],
  };
}

/** @param {import('../../lib/topic.mjs').GroupContext} ctx */
async function runIoWait(ctx) {
  /** @type {string[]} */
  const notes = [];
  const { modules, missing } = await loadOurs(['plugin-io']);
  const io = modules['plugin-io'];
  // Without the host sampler: its systeminformation reads happen at ticks, not per call, and
  // would only add a subprocess or two to the process being timed.
  const profiler = await startProfiler([io?.default({ host: false })].filter(Boolean), notes);

  const native = createHistogram();
  const registry = new Registry();
  const promWaitMs = new Counter({ name: 'bench_io_wait_ms_total', help: 'IO wait in ms', registers: [registry] });
  const { meter } = otelMeter();
  const otelWaits = meter.createHistogram('io.wait', { unit: 'ms' });
  let k = 0;

  const measured = ctx.measure([
    io
      ? { id: 'trackIoWait', label: 'loadlight trackIoWait(ms)', who: 'loadlight', op: () => io.trackIoWait(MS[(k = (k + 1) & MASK)]) }
      : { id: 'trackIoWait', label: 'loadlight trackIoWait(ms)', who: 'loadlight', unavailable: missing['plugin-io'] },
    { id: 'node.record', label: 'perf_hooks createHistogram().record(µs)', who: 'node', op: () => native.record(US[(k = (k + 1) & MASK)]) },
    { id: 'prom.inc.ms', label: 'prom-client Counter.inc(ms) (a total, no histogram)', who: 'prom-client', op: () => promWaitMs.inc(MS[(k = (k + 1) & MASK)]) },
    { id: 'otel.record', label: 'OpenTelemetry Histogram.record(ms)', who: 'opentelemetry', op: () => otelWaits.record(MS[(k = (k + 1) & MASK)]) },
  ]);

  if (io) notes.push(recordedNote(await collectOnce(profiler), 'io.', 'trackIoWait(ms)'));
  await profiler.stop();

  return {
    measured,
    notes,
    comparisons: [
      {
        id: 'io-wait',
        title: 'trackIoWait(ms) vs perf_hooks createHistogram().record()',
        note:
          `profiler running: ${io ? 'plugin-io (host: false)' : 'no plugin built'}, reporters: [], rules: []; values vary over 1,024 durations (0.5-10.5 ms); ` +
          'trackIoWait adds the wait to the IO totals and records it in a native histogram (for io.wait.p95_ms), so its peer is record(), as for trackFrame',
        baseline: 'node.record',
        cases: ['trackIoWait', 'node.record', 'prom.inc.ms', 'otel.record'],
        bounds: { trackIoWait: { ratio: RECORD_BOUND } },
      },
    ],
  };
}
