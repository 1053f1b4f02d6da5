// For this folder's tests: a session profile written by a real Profiler (core's own writer), its
// rows committed by hand so that the values, and so the form of each series, are known. Not part
// of the package's API.
import type { Profiler, SessionProfile } from '@loadlight/core';
import { createTestProfiler } from '@loadlight/core/testing';

/** Rows in the fixture session, 1 s apart. */
export const ROWS = 20;

/**
 * What the fixture holds, and the form core's writer picks for each series:
 * - `fix.cpu.percent`: a value in every row (dense);
 * - `fix.queue.wait_ms`: values in rows 4 and 13 only (sparse);
 * - `fix.jobs.count`: 0 for 15 rows, then 3 (runs);
 * - `fix.cpu.slope_per_minute`: derived (no series);
 * - module `worker`: `calls`, `total_ms`, `cpu_ms` stored, and the computed `calls_per_minute`,
 *   `latency_mean_ms` (null where it was not called) and `cpu_percent` (no series in the file).
 */
export function fixtureSession(): { session: SessionProfile; profiler: Profiler } {
  const { profiler } = createTestProfiler([], { maxSamples: 100 });
  const declare = (name: string, declaration: Parameters<Profiler['declareMetric']>[1]) => profiler.declareMetric(name, declaration, 'fixture');
  const worker = (field: string) => ({ name: 'worker', field });
  declare('fix.cpu.percent', { unit: 'percent', kind: 'gauge', description: 'busy share' });
  declare('fix.queue.wait_ms', { unit: 'ms', kind: 'gauge', description: 'queue wait, when a job waited' });
  declare('fix.jobs.count', { unit: 'count', kind: 'counter', description: 'jobs started' });
  declare('fix.cpu.slope_per_minute', { unit: 'percent', kind: 'gauge', description: 'CPU trend', derivedFrom: 'fix.cpu.percent', aggregate: 'slope_per_minute' });
  declare('module.worker.calls', { unit: 'count', kind: 'counter', description: 'calls', module: worker('calls') });
  declare('module.worker.total_ms', { unit: 'ms', kind: 'counter', description: 'time in calls', module: worker('total_ms') });
  declare('module.worker.cpu_ms', { unit: 'ms', kind: 'counter', description: 'CPU time', module: worker('cpu_ms') });
  declare('module.worker.calls_per_minute', {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'calls per minute',
    module: worker('calls_per_minute'),
    formula: { op: 'per_minute', of: 'calls' },
  });
  declare('module.worker.latency_mean_ms', {
    unit: 'ms',
    kind: 'gauge',
    description: 'mean latency',
    module: worker('latency_mean_ms'),
    formula: { op: 'ratio', of: 'total_ms', by: 'calls' },
  });
  declare('module.worker.cpu_percent', {
    unit: 'percent',
    kind: 'gauge',
    description: 'CPU share',
    module: worker('cpu_percent'),
    formula: { op: 'percent_of_interval', of: 'cpu_ms' },
  });
  // Values in declaration order (NaN: missing); the derived and computed ones are never stored.
  const t0 = profiler.store.originT;
  for (let i = 0; i < ROWS; i++) {
    const calls = i % 4;
    profiler.store.commit(t0 + (i + 1) * 1000, [
      20 + ((i * 37) % 11),
      i === 4 ? 12.5 : i === 13 ? 40 : Number.NaN,
      i < 15 ? 0 : 3,
      Number.NaN,
      calls,
      calls * 7.25,
      calls * 5,
      Number.NaN,
      Number.NaN,
      Number.NaN,
    ]);
  }
  return { session: profiler.session(), profiler };
}
