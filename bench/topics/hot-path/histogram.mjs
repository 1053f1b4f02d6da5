// @ts-check
// Histograms: trackFrame(ms) against a native perf_hooks histogram's record(), prom-client's
// Histogram.observe and OpenTelemetry's Histogram.record, under a running profiler (frames).
import { createHistogram } from 'node:perf_hooks';
import { Histogram, Registry } from 'prom-client';
import { collectOnce, loadOurs, MASK, MS, otelMeter, recordedNote, SECONDS, startProfiler, US } from './common.mjs';

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx) {
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
        bounds: { trackFrame: { ratio: 1.5 } },
      },
    ],
  };
}
