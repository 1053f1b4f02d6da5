import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFormula, atResolution, formulaOperand, resolutionOf, statistics, Store, type WindowStats } from './store.js';
import { referenceWindow } from './store-reference.js';
import type { MetricInfo, MetricUnit } from './types.js';

const gauge = (name: string): MetricInfo => ({ name, plugin: 'test', unit: 'percent', kind: 'gauge', description: name });
const metric = (name: string, unit: MetricUnit, extra: Partial<MetricInfo> = {}): MetricInfo => ({ name, plugin: 'test', unit, kind: 'gauge', description: name, ...extra });

/** The Store's semantics on plain arrays: every row kept, values at their unit's resolution. */
class Reference {
  readonly times: number[] = [];
  readonly columns: number[][];
  constructor(
    readonly capacity: number,
    readonly originT: number,
    readonly units: MetricUnit[],
  ) {
    this.columns = units.map(() => []);
  }
  commit(t: number, row: ArrayLike<number>): void {
    this.times.push(t);
    this.units.forEach((unit, i) => this.columns[i]!.push(Number.isNaN(row[i]!) ? NaN : atResolution(row[i]!, unit)));
  }
  series(i: number): Array<number | null> {
    return this.columns[i]!.slice(-this.capacity).map((v) => (Number.isNaN(v) ? null : v));
  }
  window(values: number[], seconds: number, now?: number): WindowStats {
    const size = Math.min(this.times.length, this.capacity);
    return referenceWindow(this.times.slice(-size), values.slice(-size), this.originT, seconds, now);
  }
}

/** Window figures compared as the Store computes them: sums in a different order may differ in the last bits. */
function expectWindow(actual: WindowStats, expected: WindowStats): void {
  expect({ ...actual, mean: null, sum: null, ratePerMinute: null, slopePerMinute: null }).toEqual({
    ...expected,
    mean: null,
    sum: null,
    ratePerMinute: null,
    slopePerMinute: null,
  });
  for (const key of ['mean', 'sum', 'ratePerMinute', 'slopePerMinute'] as const) {
    const a = actual[key];
    const e = expected[key];
    if (e === null || a === null || !Number.isFinite(e)) expect(a).toBe(e);
    else expect(Math.abs(a - e)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e)));
  }
}

describe('Store', () => {
  it('holds at most maxSamples rows and keeps the newest', () => {
    const store = new Store(5, 0);
    store.declare(gauge('a.value'));
    for (let i = 1; i <= 12; i++) store.commit(i * 1000, [i]);
    expect(store.size).toBe(5);
    expect(store.timeSeries()).toEqual([8000, 9000, 10000, 11000, 12000]);
    expect(store.series('a.value')).toEqual([8, 9, 10, 11, 12]);
    expect(store.latest('a.value')).toBe(12);
  });

  it('computes window statistics on known data', () => {
    const store = new Store(100, 0);
    store.declare(gauge('a.value'));
    // values 1..20 at t = 1s..20s
    for (let i = 1; i <= 20; i++) store.commit(i * 1000, [i]);
    const w = store.window('a.value', 10); // t in (10s, 20s] -> 11..20
    expect(w.count).toBe(10);
    expect(w.mean).toBeCloseTo(15.5);
    expect(w.min).toBe(11);
    expect(w.max).toBe(20);
    expect(w.p95).toBe(20); // nearest rank: ceil(0.95*10) = 10th
    expect(w.last).toBe(20);
    expect(w.sum).toBe(155);
    // 155 events over the 10 s the window covers = 930 per minute
    expect(w.ratePerMinute).toBeCloseTo(930);
    // values grow by 1 per second = 60 per minute
    expect(w.slopePerMinute).toBeCloseTo(60);
  });

  it('skips missing values and reports nulls for an empty window', () => {
    const store = new Store(10, 0);
    store.declare(gauge('a.value'));
    store.commit(1000, [NaN]);
    store.commit(2000, [4]);
    store.commit(3000, [NaN]);
    expect(store.series('a.value')).toEqual([null, 4, null]);
    const w = store.window('a.value', 60);
    expect(w.count).toBe(1);
    expect(w.mean).toBe(4);
    expect(w.last).toBe(4);
    const empty = store.window('a.value', 0.5, 3000);
    expect(empty).toMatchObject({ count: 0, mean: null, p95: null, ratePerMinute: null });
  });

  it('counts the first ticks from the origin for rates', () => {
    const store = new Store(10, 0);
    store.declare({ ...gauge('a.events'), kind: 'counter', unit: 'count' });
    store.commit(500, [1]);
    store.commit(1000, [1]);
    // 2 events in the first second = 120 per minute
    expect(store.window('a.events', 60).ratePerMinute).toBeCloseTo(120);
  });

  it('adds columns for metrics declared later, empty for earlier rows, across blocks', () => {
    const store = new Store(20, 0, { blockRows: 4 });
    store.declare(gauge('a.one'));
    for (let i = 1; i <= 6; i++) store.commit(i * 1000, [i]);
    store.declare(gauge('a.two'));
    for (let i = 7; i <= 10; i++) store.commit(i * 1000, [i, i * 10]);
    expect(store.series('a.two')).toEqual([null, null, null, null, null, null, 70, 80, 90, 100]);
    expect(store.series('a.one')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(store.window('a.two', 60)).toMatchObject({ count: 4, min: 70, max: 100, last: 100 });
  });

  it('computes derived metrics from their source column', () => {
    const store = new Store(10, 0);
    store.declare(gauge('p.heap_mb'));
    store.declare({ ...gauge('p.growth'), derivedFrom: 'p.heap_mb', aggregate: 'slope_per_minute' });
    for (let i = 0; i < 5; i++) store.commit(i * 30_000, [10 + i]); // +1 MB per 30 s
    expect(store.window('p.growth', 600).slopePerMinute).toBeCloseTo(2);
    expect(store.series('p.growth')).toEqual([null, null, null, null, null]);
  });

  it('rejects bad metric names, bad formulas and double declarations by two plugins', () => {
    const store = new Store(10, 0);
    expect(() => store.declare(gauge('NoDots'))).toThrow(/must be dotted lower case/);
    store.declare(gauge('a.b'));
    expect(() => store.declare({ ...gauge('a.b'), plugin: 'other' })).toThrow(/declared by both "test" and "other"/);
    expect(() => store.declare({ ...gauge('a.c'), formula: { op: 'ratio', of: 'b' } as never })).toThrow(/bad formula/);
    expect(() => store.declare({ ...gauge('a.d'), formula: { op: 'sum', of: 'b' } as never })).toThrow(/bad formula/);
  });

  it('reads a ring position as commit returned it, and null once it is overwritten', () => {
    const store = new Store(3, 0, { blockRows: 2 });
    store.declare(gauge('a.value'));
    const positions = Array.from({ length: 7 }, (_, i) => store.commit((i + 1) * 1000, [i]));
    expect(positions).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(store.valueAt('a.value', positions[6]!)).toBe(6);
    expect(store.valueAt('a.value', positions[5]!)).toBe(5);
    expect(store.valueAt('a.value', positions[4]!)).toBe(4);
    expect(store.valueAt('a.value', 3)).toBeNull();
    expect(store.valueAt('a.value', 1.5)).toBeNull();
  });
});

describe('Store: resolution and encoding', () => {
  it('holds values at the resolution of their unit', () => {
    expect(resolutionOf('ms')).toEqual({ scale: 1000, rounded: true });
    expect(resolutionOf('count')).toEqual({ scale: 1, rounded: false });
    expect(resolutionOf('no-such-unit')).toEqual({ scale: 1, rounded: false });
    const store = new Store(10, 0);
    const units: MetricUnit[] = ['ms', 'percent', 'mb', 'ratio', 'bytes_per_second', 'count', 'bytes'];
    units.forEach((unit, i) => store.declare(metric(`a.m${i}`, unit)));
    store.commit(1000, [1.2345678, 33.33333, 512.123456, 0.123456, 1234.56, 2.5, 7]);
    expect(units.map((_, i) => store.latest(`a.m${i}`))).toEqual([1.235, 33.33, 512.123, 0.1235, 1235, 2.5, 7]);
  });

  it('latestRowInto reads the newest row as valueAt does, for metrics declared before and after rows, computed ones NaN', () => {
    const units: MetricUnit[] = ['ms', 'percent', 'count', 'bytes', 'mb'];
    const value = fc.oneof(fc.constant(Number.NaN), fc.double({ min: -1e6, max: 1e6 }), fc.integer({ min: -5, max: 5 }), fc.constantFrom(Infinity, 1e300, -0));
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 39 }), (rows, lateAt) => {
        const store = new Store(16, 0, { blockRows: 8 });
        units.forEach((unit, i) => store.declare(metric(`a.m${i}`, unit)));
        store.declare(metric('a.m0_per_minute', 'per_minute', { formula: { op: 'per_minute', of: 'a.m2' } }));
        const out = new Float64Array(8);
        expect(store.latestRowInto(out)).toBe(false);
        rows.forEach((row, r) => {
          if (r === lateAt) store.declare(metric('a.late', 'ms'));
          const position = store.commit((r + 1) * 1000, row);
          expect(store.latestRowInto(out)).toBe(true);
          store.catalogue().forEach((info, i) => {
            const expected = info.formula ? null : store.valueAt(info.name, position);
            expect(Number.isNaN(out[i]!) ? null : out[i]).toBe(expected);
          });
        });
      }),
      { numRuns: 150 },
    );
  });

  it('keeps what the steps cannot hold exactly: huge, tiny, negative and infinite values', () => {
    const values = [1e300, -1e300, 5e-324, -5e-324, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 0.1 + 0.2, -7.25, 123456789.123];
    for (const unit of ['count', 'bytes', 'ms', 'percent'] as const) {
      for (const blockRows of [2, 256]) {
        const store = new Store(64, 0, { blockRows });
        store.declare(metric('a.value', unit));
        values.forEach((v, i) => store.commit((i + 1) * 1000, [v]));
        // Interleaved with encodable values, so the raw ones sit among deltas and runs.
        values.forEach((v, i) => store.commit((i + 100) * 1000, [i % 2 === 0 ? v : 3]));
        const expected = [...values, ...values.map((v, i) => (i % 2 === 0 ? v : 3))].map((v) => atResolution(v, unit));
        expect(store.series('a.value')).toEqual(expected);
      }
    }
    // Exact units hold a non-whole value as written, rounded units round within range.
    expect(atResolution(0.1 + 0.2, 'count')).toBe(0.30000000000000004);
    expect(atResolution(5e-324, 'ms')).toBe(0);
    expect(atResolution(1e300, 'ms')).toBe(1e300);
    expect(atResolution(-0.0001, 'ms')).toBe(0);
  });

  it('round-trips random data at stored resolution, across ring wrap-around and block boundaries', () => {
    const unitArb = fc.constantFrom<MetricUnit>('ms', 'count', 'percent', 'mb', 'bytes');
    const cellArb = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: -2_000_000, max: 2_000_000 }) },
      { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
      { weight: 2, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.maxSafeInteger().map((k) => k * 2 ** -4) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(unitArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(cellArb, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 120 }),
        (capacity, blockRows, units, rows) => {
          const store = new Store(capacity, 0, { blockRows });
          const reference = new Reference(capacity, 0, units);
          units.forEach((unit, i) => store.declare(metric(`a.m${i}`, unit)));
          rows.forEach((cells, r) => {
            // whole steps of the unit: at stored resolution
            const row = units.map((unit, i) => (cells[i] === null ? NaN : cells[i]! / resolutionOf(unit).scale));
            store.commit((r + 1) * 1000, row);
            reference.commit((r + 1) * 1000, row);
          });
          units.forEach((_, i) => expect(store.series(`a.m${i}`)).toEqual(reference.series(i)));
          const typed = new Float64Array(capacity);
          expect(store.seriesInto('a.m0', typed)).toBe(store.size);
          expect(Array.from(typed.subarray(0, store.size), (v) => (Number.isNaN(v) ? null : v))).toEqual(reference.series(0));
          expect(store.timeSeries()).toEqual(reference.times.slice(-capacity));
          expect(store.size).toBe(Math.min(rows.length, capacity));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('computes windows on compressed blocks as a plain ring does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 300 }),
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.option(fc.integer({ min: -5000, max: 5000 }), { freq: 4 })), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 400 }),
        fc.option(fc.integer({ min: -2000, max: 400_000 })),
        (capacity, blockRows, rows, seconds, now) => {
          const store = new Store(capacity, 0, { blockRows });
          const reference = new Reference(capacity, 0, ['ms']);
          store.declare(metric('a.value', 'ms'));
          let t = 0;
          for (const [step, k] of rows) {
            // steps of 0 to 3 s, some repeated times; values in whole us
            t += step;
            const row = [k === null ? NaN : k / 1000];
            store.commit(t, row);
            reference.commit(t, row);
          }
          expectWindow(store.window('a.value', seconds, now ?? undefined), reference.window(reference.columns[0]!, seconds, now ?? undefined));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes a column like its reference almost for free (a module called once a tick)', () => {
    const fill = (latencies: 'same' | 'different' | 'none') => {
      const store = new Store(3600, 0);
      const fields = ['total_ms', 'latency_min_ms', 'latency_max_ms', 'latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms'];
      for (const field of latencies === 'none' ? ['total_ms'] : fields) store.declare(metric(`module.one.${field}`, 'ms'));
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let r = 0; r < 3600; r++) {
        const called = random() < 0.3;
        const total = called ? Math.round(5000 + 4000 * random()) / 1000 : 0;
        const latency = () => (called ? (latencies === 'same' ? total : Math.round(5000 + 4000 * random()) / 1000) : NaN);
        store.commit(r * 1000, [total, latency(), latency(), latency(), latency(), latency()]);
      }
      return store;
    };
    const same = fill('same');
    const different = fill('different');
    const totalOnly = fill('none');
    // The five latency columns equal total_ms where called: min pays for where it is missing
    // (total_ms is 0 there), the four others are one run of "as min" per block.
    expect(same.bytes - totalOnly.bytes).toBeLessThan((different.bytes - totalOnly.bytes) / 2.5);
    const reference = fill('different');
    expect(different.series('module.one.latency_p95_ms')).toEqual(reference.series('module.one.latency_p95_ms'));
    for (const field of ['latency_min_ms', 'latency_p99_ms']) {
      expect(same.series(`module.one.${field}`)).toEqual(same.series('module.one.total_ms').map((v) => (v === 0 ? null : v)));
    }
  });

  it('reads every encoding back the same: direct, relative and bit-packed blocks', () => {
    // Noisy values every row (bit-packed), values like their reference (relative), runs (direct).
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 2, max: 40 }), (seed, blockRows) => {
        let state = seed;
        const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
        const store = new Store(200, 0, { blockRows });
        const names = ['module.x.total_ms', 'module.x.latency_min_ms', 'module.x.latency_p95_ms', 'module.x.cpu_ms', 'module.x.calls'];
        const units: MetricUnit[] = ['ms', 'ms', 'ms', 'ms', 'count'];
        names.forEach((name, i) => store.declare(metric(name, units[i]!)));
        const reference = new Reference(200, 0, units);
        for (let r = 0; r < 250; r++) {
          const total = Math.round(random() * 1e6) / 1000;
          const present = random() < 0.8;
          const row = [
            total,
            present ? (random() < 0.5 ? total : Math.round(random() * 1e6) / 1000) : NaN,
            present ? (random() < 0.5 ? total : Math.round(random() * 1e5) / 1000) : NaN,
            random() < 0.1 ? Infinity : Math.round(total * 900) / 1000,
            random() < 0.5 ? 0 : Math.floor(random() * 40),
          ];
          store.commit(r * 1000, row);
          reference.commit(r * 1000, row);
        }
        names.forEach((name, i) => expect(store.series(name)).toEqual(reference.series(i)));
        names.forEach((name, i) => expectWindow(store.window(name, 45, 180_000), reference.window(reference.columns[i]!, 45, 180_000)));
      }),
      { numRuns: 60 },
    );
  });

  it('holds -0 as 0 in every unit, whatever the encoding (a session relies on it)', () => {
    const units: MetricUnit[] = ['ms', 'count', 'bytes', 'percent', 'ratio'];
    const store = new Store(100, 0, { blockRows: 8 });
    units.forEach((unit, i) => store.declare(metric(`app.m${i}.value`, unit)));
    for (let r = 0; r < 120; r++) store.commit(r * 1000, units.map((_, i) => (r % (i + 2) === 0 ? -0 : r % 3 === 0 ? -r / 8 : 0)));
    units.forEach((_, i) => {
      const series = store.series(`app.m${i}.value`);
      expect(series.some((v) => Object.is(v, -0))).toBe(false);
      expect(series.filter((v) => v === 0).length).toBeGreaterThan(0);
    });
  });

  it('reads a whole series the same whatever was read before it, and after new rows (the references kept)', () => {
    // A relative column applies its deltas to its reference's values when they were just read
    // (kept until the next commit), else decodes the reference itself: both must agree.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 30 }), (seed, reads) => {
        let state = seed;
        const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
        const store = new Store(300, 0, { blockRows: 16 });
        const names = ['module.x.total_ms', 'module.x.latency_min_ms', 'module.x.latency_p95_ms', 'module.x.latency_p99_ms', 'module.x.cpu_ms', 'module.y.total_ms', 'module.y.latency_min_ms'];
        const units: MetricUnit[] = names.map(() => 'ms');
        names.forEach((name) => store.declare(metric(name, 'ms')));
        const reference = new Reference(300, 0, units);
        let r = 0;
        const commit = (rows: number) => {
          for (const end = r + rows; r < end; r++) {
            const total = Math.round(random() * 1e6) / 1000;
            const row = names.map((_, i) => (random() < 0.15 ? NaN : random() < 0.6 ? total : Math.round(random() * 1e5 * (i + 1)) / 1000));
            store.commit(r * 1000, row);
            reference.commit(r * 1000, row);
          }
        };
        commit(310);
        for (const [k, read] of reads.entries()) {
          if (read === 6) commit(1 + (k % 20));
          else expect(store.series(names[read]!), names[read]).toEqual(reference.series(read));
        }
        names.forEach((name, i) => expect(store.series(name)).toEqual(reference.series(i)));
      }),
      { numRuns: 80 },
    );
  });

  it('holds memory by what the values hold, and no more over many wraps', () => {
    const store = new Store(3600, 0);
    for (let i = 0; i < 100; i++) store.declare(metric(`a.m${i}`, 'count'));
    const zeros = new Float64Array(100);
    for (let i = 0; i < 3600; i++) store.commit(i * 1000, zeros);
    const full = store.bytes;
    // 100 columns of 3,600 zeros: a few bytes per column and block, not 100 x 3,600 x 8 bytes.
    expect(full).toBeLessThan(100_000);
    for (let i = 3600; i < 20_000; i++) store.commit(i * 1000, zeros);
    expect(store.bytes).toBeLessThanOrEqual(full);
    expect(store.size).toBe(3600);
    expect(store.window('a.m5', 60)).toMatchObject({ count: 60, mean: 0 });
  });
});

describe('Store: computed metrics (formula)', () => {
  const declareModule = (store: Store) => {
    store.declare({ ...metric('module.m.calls', 'count'), kind: 'counter' });
    store.declare(metric('module.m.calls_per_minute', 'per_minute', { formula: { op: 'per_minute', of: 'calls' } }));
    store.declare({ ...metric('module.m.total_ms', 'ms'), kind: 'counter' });
    store.declare(metric('module.m.latency_mean_ms', 'ms', { formula: { op: 'ratio', of: 'total_ms', by: 'calls' } }));
    store.declare({ ...metric('module.m.cpu_ms', 'ms'), kind: 'counter' });
    store.declare(metric('module.m.cpu_percent', 'percent', { formula: { op: 'percent_of_interval', of: 'module.m.cpu_ms' } }));
  };

  it('computes per-minute rates, ratios and percents of the interval from the same row', () => {
    const store = new Store(100, 10_000, { blockRows: 4 });
    declareModule(store);
    const rows: Array<[number, number, number, number]> = [
      // t, calls, total_ms, cpu_ms
      [10_500, 3, 1.5, 100],
      [11_500, 0, 0, 0],
      [12_500, 4, 10, 250],
      [12_500, 2, 1, 5], // no interval: no rate, no percent; the ratio still holds
      [14_500, 10, 25, 1000],
    ];
    for (const [t, calls, total, cpu] of rows) store.commit(t, [calls, 999, total, 999, cpu, 999]);
    expect(store.series('module.m.calls_per_minute')).toEqual([360, 0, 240, null, 300]);
    expect(store.series('module.m.latency_mean_ms')).toEqual([0.5, null, 2.5, 0.5, 2.5]);
    expect(store.series('module.m.cpu_percent')).toEqual([20, 0, 25, null, 50]);
    expect(store.latest('module.m.cpu_percent')).toBe(50);
    expect(store.window('module.m.calls_per_minute', 60)).toMatchObject({ count: 4, min: 0, max: 360, mean: 225, last: 300 });
    // t in (12 s, 14.5 s]: the rows at 12.5 s (twice) and 14.5 s
    expect(store.window('module.m.latency_mean_ms', 2.5)).toMatchObject({ count: 3, min: 0.5, max: 2.5, last: 2.5 });
  });

  it('reads null where an operand is missing or never declared, and costs no memory', () => {
    const store = new Store(10, 0);
    declareModule(store);
    store.declare(metric('module.m.orphan_per_minute', 'per_minute', { formula: { op: 'per_minute', of: 'nothing' } }));
    const bytes = store.bytes;
    store.declare(metric('module.m.more_per_minute', 'per_minute', { formula: { op: 'per_minute', of: 'calls' } }));
    expect(store.bytes).toBe(bytes);
    store.commit(1000, [NaN, 0, 1, 0, 1, 0]);
    expect(store.latest('module.m.calls_per_minute')).toBeNull();
    expect(store.latest('module.m.latency_mean_ms')).toBeNull();
    expect(store.latest('module.m.orphan_per_minute')).toBeNull();
    expect(store.window('module.m.orphan_per_minute', 60).count).toBe(0);
  });

  it('rounds computed values to their unit\'s resolution, as stored values are', () => {
    const store = new Store(100, 0);
    declareModule(store);
    const rows: Array<[number, number, number, number]> = [
      // t, calls, total_ms, cpu_ms: intervals of 1003, 997 and 1000 ms
      [1003, 3, 1, 1],
      [2000, 7, 10, 333.333],
      [3000, 3, 2.5, 0.001],
    ];
    for (const [t, calls, total, cpu] of rows) store.commit(t, [calls, NaN, total, NaN, cpu, NaN]);
    const intervals = [1003, 997, 1000];
    const expected = (f: (row: (typeof rows)[number], interval: number) => number, unit: MetricUnit) =>
      rows.map((row, i) => atResolution(f(row, intervals[i]!), unit));
    expect(store.series('module.m.calls_per_minute')).toEqual(expected(([, calls], ms) => (calls * 60_000) / ms, 'per_minute'));
    expect(store.series('module.m.calls_per_minute')).toEqual([179.46, 421.26, 180]);
    expect(store.series('module.m.latency_mean_ms')).toEqual([0.333, 1.429, 0.833]);
    expect(store.series('module.m.cpu_percent')).toEqual(expected(([, , , cpu], ms) => (cpu * 100) / ms, 'percent'));
    expect(store.series('module.m.cpu_percent')).toEqual([0.1, 33.43, 0]);
    // Windows and single reads see the same rounded values.
    expect(store.latest('module.m.latency_mean_ms')).toBe(0.833);
    expect(store.window('module.m.latency_mean_ms', 60)).toMatchObject({ min: 0.333, max: 1.429, last: 0.833, sum: 0.833 + 1.429 + 0.333 }); // summed newest first
    const typed = new Float64Array(3);
    store.seriesInto('module.m.calls_per_minute', typed);
    expect([...typed]).toEqual([179.46, 421.26, 180]);
  });

  it('applyFormula: rates of the interval, ratios, no value without an interval, a divisor or an operand', () => {
    const values = Float64Array.from([6, 6, NaN, 1, -0.0004]);
    applyFormula('per_minute', 'per_minute', values, [1000, 0, 1000, 3, 60_000], 5);
    expect([...values]).toEqual([360, NaN, NaN, 20_000, 0]);
    const ratio = Float64Array.from([1, 2, 1, NaN]);
    applyFormula('ratio', 'ms', ratio, [3, 0, NaN, 1], 4);
    expect([...ratio]).toEqual([0.333, NaN, NaN, NaN]);
    const counts = Float64Array.from([1]);
    applyFormula('ratio', 'count', counts, [3], 1); // a unit held exactly: not rounded
    expect(counts[0]).toBe(1 / 3);
    expect(formulaOperand('module.a.b.calls_per_minute', 'calls')).toBe('module.a.b.calls');
    expect(formulaOperand('module.a.b.calls_per_minute', 'app.calls')).toBe('app.calls');
  });

  it('knows when the interval of the oldest row held begins (timeBeforeFirst)', () => {
    const store = new Store(3, 500, { blockRows: 2 });
    expect(store.timeBeforeFirst()).toBe(500);
    store.commit(1000, []);
    store.commit(2000, []);
    expect(store.timeBeforeFirst()).toBe(500);
    store.commit(3000, []);
    store.commit(4000, []);
    expect(store.timeSeries()).toEqual([2000, 3000, 4000]);
    expect(store.timeBeforeFirst()).toBe(1000);
  });

  it('keeps a computed value for the oldest row of a full ring (its interval is still known)', () => {
    const store = new Store(3, 0, { blockRows: 2 });
    declareModule(store);
    for (let i = 1; i <= 9; i++) store.commit(i * 2000, [i, 0, 0, 0, i * 20, 0]);
    expect(store.series('module.m.calls_per_minute')).toEqual([210, 240, 270]);
    expect(store.series('module.m.cpu_percent')).toEqual([7, 8, 9]);
  });
});

describe('statistics', () => {
  it('gives min, max, mean and nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(statistics([...values, null])).toEqual({ count: 100, min: 1, max: 100, mean: 50.5, p50: 50, p95: 95, p99: 99, last: 100 });
    expect(statistics([]).mean).toBeNull();
  });
});
