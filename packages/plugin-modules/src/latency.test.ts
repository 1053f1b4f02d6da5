import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, bucketValueNs, quantilesNs } from './latency.js';

describe('latency buckets', () => {
  it('are exact to the ns below 32 ns and within 3.2% above, up to the top bucket', () => {
    for (let ns = 0; ns < 32; ns++) {
      expect(bucketValueNs(bucketOf(ns))).toBe(ns);
      expect(bucketValueNs(bucketOf(ns + 0.9))).toBe(ns);
    }
    fc.assert(
      fc.property(fc.double({ min: 32, max: 2 ** 39 - 1, noNaN: true }), (ns) => {
        const index = bucketOf(ns);
        expect(index).toBeGreaterThanOrEqual(0);
        expect(index).toBeLessThan(BUCKETS);
        expect(Math.abs(bucketValueNs(index) - ns) / ns).toBeLessThanOrEqual(0.032);
      }),
      { numRuns: 5000 },
    );
  });

  it('are ordered like the values, and clamp what is beyond the top', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 ** 41, noNaN: true }), fc.double({ min: 0, max: 2 ** 41, noNaN: true }), (a, b) => {
        if (a <= b) expect(bucketOf(a)).toBeLessThanOrEqual(bucketOf(b));
      }),
    );
    expect(bucketOf(2 ** 45)).toBe(BUCKETS - 1);
    expect(bucketOf(-5)).toBe(0);
  });

  it('give nearest-rank quantiles', () => {
    const counts = new Uint32Array(BUCKETS);
    const values = [5, 5, 10, 20, 1_000, 1_000_000, 50_000_000];
    for (const v of values) counts[bucketOf(v)]!++;
    const out = [0, 0, 0];
    quantilesNs(counts, values.length, [0.5, 0.95, 0.99], out);
    expect(out[0]).toBe(20);
    expect(Math.abs(out[1]! - 50_000_000) / 50_000_000).toBeLessThan(0.032);
    expect(out[2]).toBe(out[1]);
  });
});
