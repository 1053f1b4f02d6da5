import { describe, expect, it } from 'vitest';
import { median, pairedRatio, quantile, summarize } from './stats.mjs';

describe('quantile', () => {
  it('interpolates between closest ranks, as numpy does by default', () => {
    const values = [10, 1, 4, 7];
    expect(quantile(values, 0)).toBe(1);
    expect(quantile(values, 1)).toBe(10);
    expect(quantile(values, 0.5)).toBe(5.5);
    // numpy.quantile([1, 4, 7, 10], 0.25) == 3.25
    expect(quantile(values, 0.25)).toBeCloseTo(3.25, 12);
    expect(quantile(values, 0.75)).toBeCloseTo(7.75, 12);
  });

  it('does not reorder its input, and is NaN for no values', () => {
    const values = [3, 1, 2];
    quantile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('rejects a q outside 0..1', () => {
    expect(() => quantile([1], 1.5)).toThrow(/within 0\.\.1/);
    expect(() => quantile([1], Number.NaN)).toThrow(/within 0\.\.1/);
  });
});

describe('summarize', () => {
  it('gives the median, quartiles and half the IQR relative to the median', () => {
    const s = summarize([9, 10, 10, 11, 100]);
    expect(s.median).toBe(10);
    expect(s.q1).toBe(10);
    expect(s.q3).toBe(11);
    expect(s.min).toBe(9);
    expect(s.max).toBe(100);
    expect(s.spread).toBeCloseTo(0.05, 12);
    expect(s.count).toBe(5);
  });

  it('ignores one wild outlier in the median, unlike a mean', () => {
    expect(median([5, 5, 5, 5, 500])).toBe(5);
  });

  it('refuses an empty sample', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe('pairedRatio', () => {
  it('cancels a drift that slows both cases of a round alike', () => {
    // The subject costs 2x the baseline. The machine slows 3x in rounds 4-5 (both cases), and
    // round 3 is hit on the subject alone.
    const baseline = [10, 10, 10, 30, 30];
    const subject = [20, 20, 60, 60, 60];
    expect(pairedRatio(subject, baseline)).toBe(2);
    // The ratio of the medians reads 6x.
    expect(median(subject) / median(baseline)).toBe(6);
  });

  it('falls back to the ratio of medians when the rounds do not line up', () => {
    expect(pairedRatio([4, 4, 4], [2, 2])).toBe(2);
  });

  it('is NaN without samples', () => {
    expect(pairedRatio([], [1])).toBeNaN();
  });
});
