import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFormula, atResolution, SeriesRuns, Store } from './store.js';
import type { MetricFormula, MetricInfo, MetricUnit } from './types.js';

const metric = (name: string, unit: MetricUnit, extra: Partial<MetricInfo> = {}): MetricInfo => ({ name, plugin: 'test', unit, kind: 'gauge', description: name, ...extra });

/** The rows of `runs`, oldest first, null where missing, checking the runs' shape on the way. */
function rowsOf(runs: SeriesRuns): Array<number | null> {
  const rows: Array<number | null> = [];
  expect(runs.starts[0]).toBe(0);
  for (let r = 0; r < runs.count; r++) {
    const from = runs.starts[r]!;
    const to = runs.starts[r + 1]!;
    expect(to).toBeGreaterThan(from);
    const v = runs.heads[r]!;
    // Runs next to each other differ (NaN equals NaN, 0 and -0 differ).
    if (r > 0) expect(Object.is(runs.heads[r - 1], v)).toBe(false);
    for (let i = from; i < to; i++) rows.push(Number.isNaN(v) ? null : v);
  }
  expect(runs.starts[runs.count]).toBe(runs.rows);
  expect(rows.length).toBe(runs.rows);
  return rows;
}

/**
 * A module's fields as plugin-modules declares them (one prefix: the Store makes most of them
 * relative to `total_ms` or `latency_min_ms`), formulas of each kind among them, and a metric
 * of its own group.
 */
const FIELDS: Array<{ field: string; unit: MetricUnit; formula?: MetricFormula }> = [
  { field: 'calls', unit: 'count' },
  { field: 'calls_per_minute', unit: 'per_minute', formula: { op: 'per_minute', of: 'calls' } },
  { field: 'errors', unit: 'count' },
  { field: 'total_ms', unit: 'ms' },
  { field: 'latency_mean_ms', unit: 'ms', formula: { op: 'ratio', of: 'total_ms', by: 'calls' } },
  { field: 'latency_min_ms', unit: 'ms' },
  { field: 'latency_max_ms', unit: 'ms' },
  { field: 'latency_p95_ms', unit: 'ms' },
  { field: 'cpu_ms', unit: 'ms' },
  { field: 'cpu_percent', unit: 'percent', formula: { op: 'percent_of_interval', of: 'cpu_ms' } },
  { field: 'share', unit: 'count', formula: { op: 'ratio', of: 'errors', by: 'calls' } },
  { field: 'memory_mb', unit: 'mb' },
];

/** What a module does in a tick: not called (zeros and missing latencies), called (values), or odd values. */
type Tick = 'idle' | [number, number, number, number] | [number, number, number];
const tick: fc.Arbitrary<Tick> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('idle' as const) },
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 400_000 }), fc.integer({ min: 0, max: 3 })) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(-2, 0, 1 / 3, 2 ** 60, Infinity, -Infinity, NaN),
      fc.constantFrom(-1, 0, 1.5, -0.25, 2 ** 55, NaN),
      fc.constantFrom(-3.5, 1 / 7, 1e300, -Infinity, NaN, 0),
    ),
  },
);

/** Each field's value in a tick (NaN: missing), by FIELDS index; a formula's value is not written. */
function rowOf(t: Tick, memory: number): number[] {
  if (t === 'idle') return [0, NaN, 0, 0, NaN, NaN, NaN, NaN, 0, NaN, NaN, memory];
  if (t.length === 4) {
    const [calls, errors, micros, spread] = t;
    const total = micros / 1000;
    const min = Math.floor(total / calls) / 1000;
    return [calls, NaN, errors, total, NaN, min, min + spread / 1000, min + spread / 2000, total * 0.8, NaN, NaN, memory];
  }
  const [a, b, c] = t;
  return [a, NaN, b, c, NaN, c, b, a, c, NaN, NaN, a];
}

describe('Store.seriesRuns', () => {
  it('reads every series as store.series() and as a plain ring holds it, in runs, across blocks, ring wrap-around and interleaved commits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom(1, 2, 4, 8, 16),
        fc.array(fc.tuple(tick, fc.integer({ min: -2, max: 3000 })), { minLength: 0, maxLength: 160 }),
        fc.array(fc.integer({ min: 0, max: 160 }), { maxLength: 3 }),
        (capacity, blockRows, ticks, readAt) => {
          const store = new Store(capacity, 0, { blockRows });
          const names = FIELDS.map(({ field }) => `module.m.${field}`);
          FIELDS.forEach(({ unit, formula }, i) => store.declare(metric(names[i]!, unit, formula ? { formula } : {})));
          store.declare(metric('app.queue.depth', 'count'));
          store.declare(metric('app.queue.depth_max', 'count', { derivedFrom: 'app.queue.depth' }));
          // The plain ring: every row kept, each value at its unit's resolution.
          const plain: number[][] = names.map(() => []);
          const times: number[] = [];
          let t = 0;
          let memory = 12.5;
          const runs = new SeriesRuns();
          const check = () => {
            const size = store.size;
            const first = times.length - size;
            const intervals = Float64Array.from({ length: size }, (_, i) => times[first + i]! - (first + i === 0 ? 0 : times[first + i - 1]!));
            const expectedOf = (name: string): Array<number | null> => {
              const i = names.indexOf(name);
              const { unit, formula } = FIELDS[i]!;
              if (!formula) return plain[i]!.slice(first).map((v) => (Number.isNaN(v) ? null : v));
              const values = Float64Array.from(plain[names.indexOf(`module.m.${formula.of}`)]!.slice(first));
              const second = formula.op === 'ratio' ? Float64Array.from(plain[names.indexOf(`module.m.${formula.by}`)]!.slice(first)) : intervals;
              applyFormula(formula.op, unit, values, second, size);
              return Array.from(values, (v) => (Number.isNaN(v) ? null : v));
            };
            const expectRuns = (name: string) => {
              runs.missing(3); // what a read leaves must not matter
              expect(store.seriesRuns(name, runs)).toBe(size);
              if (size === 0) return;
              const read = rowsOf(runs);
              // toEqual compares numbers with Object.is: -0 (0 / -1 of a unit held exactly) is checked too.
              expect(read).toEqual(expectedOf(name));
              expect(read).toEqual(store.series(name));
            };
            // The last commit emptied the kept series. A column relative to another whose values
            // (not runs) were read just before: its deltas applied to those values.
            store.series('module.m.latency_min_ms');
            expectRuns('module.m.latency_max_ms');
            // Backwards first: columns read before their references, which are decoded alongside;
            // then in catalogue order, as an export reads them: the references' and operands'
            // runs (read by the first pass) kept, a column's deltas applied to them.
            for (const order of [[...names].reverse(), names]) {
              for (const name of order) expectRuns(name);
            }
            expect(store.seriesRuns('app.queue.depth_max', runs)).toBe(0);
            expect(store.seriesRuns('app.unknown.metric', runs)).toBe(0);
          };
          ticks.forEach(([what, step], r) => {
            if (r % 30 === 29) memory += 0.125;
            // Intervals of 0 or less now and then: a formula per interval has no value there.
            t += step;
            const row = rowOf(what, memory);
            const full = [...row, r % 7 === 0 ? NaN : r % 5];
            store.commit(t, full);
            times.push(t);
            FIELDS.forEach(({ unit, formula }, i) => plain[i]!.push(formula || Number.isNaN(row[i]!) ? NaN : atResolution(row[i]!, unit)));
            if (readAt.includes(r)) check();
          });
          check();
        },
      ),
      { numRuns: 250 },
    );
  });

  it('gives a computed metric nothing when an operand has no column, and reads an empty store as nothing', () => {
    const store = new Store(10, 0);
    store.declare(metric('a.x.rate', 'per_minute', { formula: { op: 'per_minute', of: 'count' } }));
    store.declare(metric('a.x.part', 'ratio', { formula: { op: 'ratio', of: 'a.y.v', by: 'a.y.w' } }));
    store.declare(metric('a.y.v', 'count'));
    const runs = new SeriesRuns();
    expect(store.seriesRuns('a.y.v', runs)).toBe(0);
    store.commit(1000, [NaN, NaN, 4]);
    store.commit(2000, [NaN, NaN, 4]);
    runs.missing(5);
    expect(store.seriesRuns('a.x.rate', runs)).toBe(0);
    expect(store.seriesRuns('a.x.part', runs)).toBe(0);
    expect(runs.rows).toBe(5); // untouched
    expect(store.seriesRuns('a.y.v', runs)).toBe(2);
    expect({ count: runs.count, starts: Array.from(runs.starts.subarray(0, 2)), heads: Array.from(runs.heads.subarray(0, 1)), rows: runs.rows }).toEqual({ count: 1, starts: [0, 2], heads: [4], rows: 2 });
  });

  it('reads tokens of every length (1 to 8 bytes) back the same in direct and relative blocks: series, runs, windows before a row', () => {
    // Deltas of 2^0 to 2^46 steps: from one-byte tokens to ones past the 31 bits integer
    // operations hold. Each column like its reference most rows (relative blocks), or alone (direct).
    const store = new Store(400, 0, { blockRows: 16 });
    const names = ['module.x.total_ms', 'module.x.latency_min_ms', 'module.x.latency_max_ms', 'app.big.value'];
    names.forEach((name, i) => store.declare(metric(name, i === 3 ? 'count' : 'ms')));
    const plain: number[][] = names.map(() => []);
    for (let r = 0; r < 300; r++) {
      const total = 2 ** 47 + (r % 7) * 2 ** (r % 40);
      const far = 2 ** (r % 47);
      const steps = [total, r % 5 === 0 ? total - far : total, r % 6 === 0 ? total + far : total, (r % 3 === 0 ? -1 : 1) * 2 ** ((r * 7) % 48)];
      const row = steps.map((k, i) => (r % 11 === 10 && i > 0 ? Number.NaN : i === 3 ? k : k / 1000));
      row.forEach((v, i) => plain[i]!.push(v));
      store.commit(r * 1000, row);
    }
    const expected = (i: number): Array<number | null> => plain[i]!.map((v) => (Number.isNaN(v) ? null : v));
    const runs = new SeriesRuns();
    // References read first (their runs kept, the deltas applied to them), then decoded alongside.
    for (const order of [[0, 1, 2, 3], [3, 2, 1, 0]]) {
      for (const i of order) {
        expect(store.series(names[i]!), names[i]).toEqual(expected(i));
        expect(store.seriesRuns(names[i]!, runs)).toBe(300);
        expect(rowsOf(runs), names[i]).toEqual(expected(i));
      }
    }
    // A window ending before the newest row: the cursor stepped back row by row to it first.
    for (const end of [299, 250, 37, 16]) {
      names.forEach((name, i) => {
        const values = plain[i]!.slice(Math.max(0, end - 29), end + 1).filter((v) => !Number.isNaN(v));
        expect(store.window(name, 30, end * 1000), `${name} to row ${end}`).toMatchObject({ count: values.length, min: Math.min(...values), max: Math.max(...values), last: values.at(-1) });
      });
    }
  });
});
