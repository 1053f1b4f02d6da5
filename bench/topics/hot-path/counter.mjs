// @ts-check
// Counters: trackOcrCall() against prom-client's unlabelled Counter.inc(), a bare JavaScript
// increment and OpenTelemetry's Counter.add, under a running profiler (ocr).
import { Counter, Registry } from 'prom-client';
import { collectOnce, loadOurs, otelMeter, recordedNote, startProfiler } from './common.mjs';

/**
 * trackOcrCall() against Counter.inc(). (trackIoWait(ms) records every wait in a native
 * histogram, so its comparison is in histogram.mjs, against record().)
 * @type {import('../../lib/topic.mjs').GroupModule['run']}
 */
export async function run(ctx) {
  /** @type {string[]} */
  const notes = [];
  const { modules, missing } = await loadOurs(['plugin-ocr']);
  const ocr = modules['plugin-ocr'];
  const profiler = await startProfiler([ocr?.default()].filter(Boolean), notes);

  const registry = new Registry();
  const { meter } = otelMeter();
  const promCalls = new Counter({ name: 'bench_ocr_calls_total', help: 'OCR calls', registers: [registry] });
  const otelCalls = meter.createCounter('ocr.calls');
  let count = 0;
  const measured = ctx.measure([
    ocr
      ? { id: 'trackOcrCall', label: 'loadlight trackOcrCall()', who: 'loadlight', op: () => ocr.trackOcrCall() }
      : { id: 'trackOcrCall', label: 'loadlight trackOcrCall()', who: 'loadlight', unavailable: missing['plugin-ocr'] },
    { id: 'prom.inc', label: 'prom-client Counter.inc()', who: 'prom-client', op: () => promCalls.inc() },
    { id: 'js.count', label: 'bare count++', who: 'js', op: () => count++ },
    { id: 'otel.add', label: 'OpenTelemetry Counter.add(1)', who: 'opentelemetry', op: () => otelCalls.add(1) },
  ]);

  if (ocr) {
    const calls = measured.find((m) => m.id === 'trackOcrCall')?.calls ?? 0;
    notes.push(recordedNote(await collectOnce(profiler), 'ocr.', 'trackOcrCall()', { metric: 'ocr.calls.count', calls }));
  }
  await profiler.stop();
  return {
    measured,
    notes,
    comparisons: [
      {
        id: 'ocr-call',
        title: 'trackOcrCall() vs prom-client Counter.inc()',
        note: `profiler running: ${ocr ? 'plugin-ocr' : 'no plugin built'}, reporters: [], rules: []`,
        baseline: 'prom.inc',
        cases: ['trackOcrCall', 'prom.inc', 'js.count', 'otel.add'],
        bounds: { trackOcrCall: { ratio: 2 } },
      },
    ],
  };
}
