// @ts-check
// Counters: trackOcrCall() and trackIoWait(ms) against prom-client's Counter.inc(), a bare
// JavaScript increment and OpenTelemetry's Counter.add, under a running profiler (ocr or io).
import { Counter, Registry } from 'prom-client';
import { collectOnce, loadOurs, MASK, MS, otelMeter, recordedNote, startProfiler } from './common.mjs';

/**
 * `params.of`: 'ocr' (trackOcrCall() against Counter.inc()) or 'io' (trackIoWait(ms) against
 * Counter.inc(ms)). Each runs in its own process: the peers' inc() and inc(ms) share one method,
 * and timing both in one process lets whichever V8 optimised first shape the other.
 * @type {import('../../lib/topic.mjs').GroupModule['run']}
 */
export async function run(ctx, params) {
  const io = params.of === 'io';
  /** @type {string[]} */
  const notes = [];
  const pluginName = io ? 'plugin-io' : 'plugin-ocr';
  const { modules, missing } = await loadOurs([pluginName]);
  const ours = modules[pluginName];
  const profiler = await startProfiler([ours?.default()].filter(Boolean), notes);
  const running = `profiler running: ${ours ? pluginName : 'no plugin built'}, reporters: [], rules: []`;

  const registry = new Registry();
  const { meter } = otelMeter();
  /** @type {import('../../lib/measure.mjs').MicroCase[]} */
  let cases;
  /** @type {import('../../lib/results.mjs').ComparisonDef} */
  let comparison;
  if (!io) {
    const promCalls = new Counter({ name: 'bench_ocr_calls_total', help: 'OCR calls', registers: [registry] });
    const otelCalls = meter.createCounter('ocr.calls');
    let count = 0;
    cases = [
      ours
        ? { id: 'trackOcrCall', label: 'loadlight trackOcrCall()', who: 'loadlight', op: () => ours.trackOcrCall() }
        : { id: 'trackOcrCall', label: 'loadlight trackOcrCall()', who: 'loadlight', unavailable: missing[pluginName] },
      { id: 'prom.inc', label: 'prom-client Counter.inc()', who: 'prom-client', op: () => promCalls.inc() },
      { id: 'js.count', label: 'bare count++', who: 'js', op: () => count++ },
      { id: 'otel.add', label: 'OpenTelemetry Counter.add(1)', who: 'opentelemetry', op: () => otelCalls.add(1) },
    ];
    comparison = {
      id: 'ocr-call',
      title: 'trackOcrCall() vs prom-client Counter.inc()',
      note: running,
      baseline: 'prom.inc',
      cases: cases.map((c) => c.id),
      bounds: { trackOcrCall: { ratio: 2 } },
    };
  } else {
    const promWaitMs = new Counter({ name: 'bench_io_wait_ms_total', help: 'IO wait in ms', registers: [registry] });
    const otelWaitMs = meter.createCounter('io.wait', { unit: 'ms' });
    let totalMs = 0;
    let k = 0;
    cases = [
      ours
        ? { id: 'trackIoWait', label: 'loadlight trackIoWait(ms)', who: 'loadlight', op: () => ours.trackIoWait(MS[(k = (k + 1) & MASK)]) }
        : { id: 'trackIoWait', label: 'loadlight trackIoWait(ms)', who: 'loadlight', unavailable: missing[pluginName] },
      { id: 'prom.inc.ms', label: 'prom-client Counter.inc(ms)', who: 'prom-client', op: () => promWaitMs.inc(MS[(k = (k + 1) & MASK)]) },
      { id: 'js.sum', label: 'bare total += ms', who: 'js', op: () => (totalMs += MS[(k = (k + 1) & MASK)]) },
      { id: 'otel.add.ms', label: 'OpenTelemetry Counter.add(ms)', who: 'opentelemetry', op: () => otelWaitMs.add(MS[(k = (k + 1) & MASK)]) },
    ];
    comparison = {
      id: 'io-wait',
      title: 'trackIoWait(ms) vs prom-client Counter.inc(ms)',
      note: `${running}; ms values vary over 1,024 durations`,
      baseline: 'prom.inc.ms',
      cases: cases.map((c) => c.id),
      bounds: { trackIoWait: { ratio: 2 } },
    };
  }

  const measured = ctx.measure(cases);
  if (ours) {
    const values = await collectOnce(profiler);
    const calls = measured.find((m) => m.id === 'trackOcrCall')?.calls ?? 0;
    notes.push(io ? recordedNote(values, 'io.', 'trackIoWait(ms)') : recordedNote(values, 'ocr.', 'trackOcrCall()', { metric: 'ocr.calls.count', calls }));
  }
  await profiler.stop();
  return { measured, notes, comparisons: [comparison] };
}
