import { describe, expect, it } from 'vitest';
import { statistics, Store } from './store.js';
import type { MetricInfo } from './types.js';

const gauge = (name: string): MetricInfo => ({ name, plugin: 'test', unit: 'percent', kind: 'gauge', description: name });

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

  it('adds columns for metrics declared later, empty for earlier rows', () => {
    const store = new Store(10, 0);
    store.declare(gauge('a.one'));
    store.commit(1000, [1]);
    store.declare(gauge('a.two'));
    store.commit(2000, [2, 20]);
    expect(store.series('a.two')).toEqual([null, 20]);
  });

  it('computes derived metrics from their source column', () => {
    const store = new Store(10, 0);
    store.declare(gauge('p.heap_mb'));
    store.declare({ ...gauge('p.growth'), derivedFrom: 'p.heap_mb', aggregate: 'slope_per_minute' });
    for (let i = 0; i < 5; i++) store.commit(i * 30_000, [10 + i]); // +1 MB per 30 s
    expect(store.window('p.growth', 600).slopePerMinute).toBeCloseTo(2);
  });

  it('rejects bad metric names and double declarations by two plugins', () => {
    const store = new Store(10, 0);
    expect(() => store.declare(gauge('NoDots'))).toThrow(/must be dotted lower case/);
    store.declare(gauge('a.b'));
    expect(() => store.declare({ ...gauge('a.b'), plugin: 'other' })).toThrow(/declared by both "test" and "other"/);
  });

  it('holds memory fixed by capacity', () => {
    const store = new Store(3600, 0);
    for (let i = 0; i < 10; i++) store.declare(gauge(`a.m${i}`));
    const before = store.bytes;
    for (let i = 0; i < 10_000; i++) store.commit(i, new Float64Array(10));
    expect(store.bytes).toBe(before);
    expect(store.size).toBe(3600);
  });
});

describe('statistics', () => {
  it('gives min, max, mean and nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(statistics([...values, null])).toEqual({ count: 100, min: 1, max: 100, mean: 50.5, p50: 50, p95: 95, p99: 99, last: 100 });
    expect(statistics([]).mean).toBeNull();
  });
});
