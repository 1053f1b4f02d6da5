import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store, type WindowStats } from './store.js';
import { referenceWindow } from './store-reference.js';
import type { MetricAggregate, MetricInfo, MetricUnit } from './types.js';

const metric = (name: string, unit: MetricUnit, extra: Partial<MetricInfo> = {}): MetricInfo => ({ name, plugin: 'test', unit, kind: 'gauge', description: name, ...extra });

/** The `WindowStats` field each aggregate names (what the rules read). */
const FIELD: Record<MetricAggregate, keyof WindowStats> = {
  mean: 'mean',
  min: 'min',
  max: 'max',
  p95: 'p95',
  last: 'last',
  rate_per_minute: 'ratePerMinute',
  slope_per_minute: 'slopePerMinute',
};
const AGGREGATES = Object.keys(FIELD) as MetricAggregate[];

/** The window's statistics from `timeSeries()` and `series()` alone (see store-reference.ts). */
function storeReferenceWindow(store: Store, name: string, seconds: number, now: number | undefined): WindowStats {
  return referenceWindow(store.timeSeries(), store.series(name), store.originT, seconds, now);
}

/** Whether two figures agree: exactly (Object.is), or for a sum's figure within 1e-9 relative. */
function agrees(actual: number | null, expected: number | null, sum: boolean): boolean {
  if (Object.is(actual, expected)) return true;
  if (!sum || actual === null || expected === null) return false;
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

const SUMS = new Set<keyof WindowStats>(['mean', 'sum', 'ratePerMinute', 'slopePerMinute']);

function expectSameFigures(store: Store, name: string, seconds: number, now: number | undefined): void {
  const stats = store.window(name, seconds, now);
  const reference = storeReferenceWindow(store, name, seconds, now);
  for (const key of Object.keys(reference) as Array<keyof WindowStats>) {
    expect(agrees(stats[key], reference[key], SUMS.has(key)), `window ${name} ${key} over ${seconds} s to ${now}: ${stats[key]}, expected ${reference[key]}`).toBe(true);
  }
  for (const aggregate of AGGREGATES) {
    // Object.is: -0 and 0 told apart, null and NaN never confused.
    expect(Object.is(store.windowValue(name, seconds, now, aggregate), stats[FIELD[aggregate]]), `${name} ${aggregate} over ${seconds} s to ${now}`).toBe(true);
  }
}

describe('Store.windowValue', () => {
  it('gives the figure window() gives, for every aggregate, on random rows, both as worked out from series()', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 200 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 2500 }),
            fc.option(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom(-0, 0, 0.5, -0.25, 1e-3, 3.14159, 2 ** 40)), { freq: 4 }),
          ),
          { minLength: 0, maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 300 }),
        fc.option(fc.integer({ min: -2000, max: 400_000 })),
        // times and `now` on a grid of 1 ms, 250 ms or 1 s: rows fall on the windows' edges
        fc.constantFrom(1, 250, 1000),
        fc.nat(),
        (capacity, rows, seconds, at, grid, pick) => {
          const onGrid = (ms: number) => Math.round(ms / grid) * grid;
          const now = at === null ? undefined : onGrid(at);
          const store = new Store(capacity, 0, { blockRows: 8 });
          store.declare(metric('a.value', 'count'));
          store.declare({ ...metric('a.calls', 'count'), kind: 'counter' });
          store.declare(metric('a.calls_per_minute', 'per_minute', { formula: { op: 'per_minute', of: 'calls' } }));
          store.declare(metric('a.ratio', 'ratio', { formula: { op: 'ratio', of: 'value', by: 'calls' } }));
          let t = 0;
          for (const [step, v] of rows) {
            t += onGrid(step);
            store.commit(t, [v ?? Number.NaN, v === null ? Number.NaN : Math.abs(Math.round(v))]);
          }
          // and a window starting exactly at a held row (that row is out, the next one in)
          const times = store.timeSeries();
          const ends = times.length > 0 ? [now, times[pick % times.length]! + seconds * 1000] : [now];
          for (const end of ends) {
            for (const name of ['a.value', 'a.calls', 'a.calls_per_minute', 'a.ratio', 'a.unknown']) expectSameFigures(store, name, seconds, end);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads the same windows while rows arrive as a store that never read one (nothing kept stale)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1500 }), fc.option(fc.integer({ min: -20, max: 20 }), { freq: 5 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.option(fc.integer({ min: 0, max: 30_000 })),
        (rows, seconds, now) => {
          const declare = (store: Store) => {
            store.declare({ ...metric('a.calls', 'count'), kind: 'counter' });
            store.declare(metric('a.calls_per_minute', 'per_minute', { formula: { op: 'per_minute', of: 'calls' } }));
            store.declare(metric('a.cpu_ms', 'ms'));
            store.declare(metric('a.cpu_percent', 'percent', { formula: { op: 'percent_of_interval', of: 'cpu_ms' } }));
          };
          const live = new Store(16, 0, { blockRows: 4 });
          declare(live);
          let t = 0;
          rows.forEach(([step, v], i) => {
            t += step;
            live.commit(t, [v === null ? Number.NaN : Math.abs(v), v === null ? Number.NaN : Math.abs(v) / 8]);
            const fresh = new Store(16, 0, { blockRows: 4 });
            declare(fresh);
            let u = 0;
            for (const [s, w] of rows.slice(0, i + 1)) {
              u += s;
              fresh.commit(u, [w === null ? Number.NaN : Math.abs(w), w === null ? Number.NaN : Math.abs(w) / 8]);
            }
            for (const name of ['a.calls_per_minute', 'a.cpu_percent', 'a.calls', 'a.cpu_ms']) {
              for (const aggregate of AGGREGATES) {
                expect(live.windowValue(name, seconds, now ?? undefined, aggregate)).toStrictEqual(fresh.windowValue(name, seconds, now ?? undefined, aggregate));
              }
              expect(live.window(name, seconds, now ?? undefined)).toStrictEqual(fresh.window(name, seconds, now ?? undefined));
            }
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reads the figures of a known window, null when the window holds no value', () => {
    const store = new Store(100, 0);
    store.declare(metric('a.value', 'count'));
    for (let i = 1; i <= 20; i++) store.commit(i * 1000, [i % 5 === 0 ? Number.NaN : i]);
    // t in (10 s, 20 s]: 11..19 without 15 and 20
    expect(store.windowValue('a.value', 10, undefined, 'mean')).toBeCloseTo((11 + 12 + 13 + 14 + 16 + 17 + 18 + 19) / 8);
    expect(store.windowValue('a.value', 10, undefined, 'min')).toBe(11);
    expect(store.windowValue('a.value', 10, undefined, 'max')).toBe(19);
    expect(store.windowValue('a.value', 10, undefined, 'p95')).toBe(19);
    expect(store.windowValue('a.value', 10, undefined, 'last')).toBe(19);
    expect(store.windowValue('a.value', 10, undefined, 'slope_per_minute')).toBeCloseTo(60); // +1 a second
    expect(store.windowValue('a.value', 0.5, 20_000, 'mean')).toBeNull();
    expect(store.windowValue('a.value', 60, 500, 'last')).toBeNull();
    expect(store.windowValue('a.missing', 60, undefined, 'mean')).toBeNull();
  });

  it('leaves out the rows timed after the window in its span when the clock went back', () => {
    const store = new Store(100, 0);
    store.declare(metric('a.value', 'count'));
    for (let i = 1; i <= 10; i++) store.commit(i * 1000, [i]);
    store.commit(5500, [100]); // the clock went back 4.5 s: rows at 6-10 s lie inside the span, after its end
    // t in (2.5 s, 5.5 s], rows walked newest first up to the first at or before 2.5 s: 100, then 5, 4, 3
    for (const read of [(aggregate: MetricAggregate) => store.windowValue('a.value', 3, undefined, aggregate), (aggregate: MetricAggregate) => store.window('a.value', 3)[FIELD[aggregate]]]) {
      expect(read('mean')).toBe((100 + 5 + 4 + 3) / 4);
      expect(read('max')).toBe(100);
      expect(read('min')).toBe(3);
      expect(read('last')).toBe(100);
    }
  });

  it('gives one object shape for every window, whole or empty', () => {
    const store = new Store(10, 0);
    store.declare(metric('a.value', 'count'));
    store.commit(1000, [2]);
    store.commit(2000, [2.5]);
    const full = store.window('a.value', 60);
    const empty = store.window('a.value', 0.5, 500);
    expect(Object.keys(full)).toEqual(Object.keys(empty));
    expect(full).toMatchObject({ count: 2, mean: 2.25, min: 2, max: 2.5, p95: 2.5, last: 2.5, sum: 4.5, ratePerMinute: 135 });
    expect(full.slopePerMinute).toBeCloseTo(30);
    expect(empty).toEqual({ count: 0, mean: null, min: null, max: null, p95: null, last: null, sum: 0, ratePerMinute: null, slopePerMinute: null });
  });
});
