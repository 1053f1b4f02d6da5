import { describe, expect, it } from 'vitest';
import { erfc, lag1Autocorrelation, mannWhitney, MAX_AUTOCORRELATION, varianceInflation } from './stats.js';

describe('erfc', () => {
  it('matches reference values (scipy.special.erfc) to 1e-7', () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 7);
    expect(erfc(1)).toBeCloseTo(0.15729920705028516, 7);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148, 7);
    expect(erfc(3) / 2.2090496998585445e-5).toBeCloseTo(1, 5);
  });
});

describe('mannWhitney', () => {
  // Reference: scipy.stats.mannwhitneyu(a, b, use_continuity=True, alternative='two-sided', method='asymptotic').
  const cases: Array<[number[], number[], number, number]> = [
    [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 0, 0.012185780355344813],
    [[1.1, 2.2, 2.2, 3.5, 4, 4, 5.1, 6], [2.2, 3, 4, 4, 4, 7, 8.5, 9, 10], 20, 0.13004667679504398],
    [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9], 60, 0.5200007496800839],
    [[12.1, 13.4, 11.8, 12.9, 14.2, 12.5, 13.1, 12.2, 13.8, 12.7], [13.9, 15.2, 14.8, 14.1, 16.0, 15.5, 14.4, 15.8, 14.9, 15.1], 2, 0.00032983852077799353],
  ];

  it.each(cases)('gives the U and p of the reference, ties included (case %#)', (a, b, u, p) => {
    const result = mannWhitney(a, b, { inflation: 1 });
    expect(result.u).toBe(u);
    expect(result.p / p).toBeCloseTo(1, 5);
  });

  it('gives the one-sided p-values of the reference, and tests a minimum effect with a shift', () => {
    const [a, b] = [cases[3]![0], cases[3]![1]];
    const result = mannWhitney(a, b, { inflation: 1 });
    expect(result.z).toBeGreaterThan(3); // b is the larger
    expect(result.pGreater / 0.00016491926038899677).toBeCloseTo(1, 5); // scipy alternative='less' for (a, b)
    expect(result.pLess / 0.9998769359360474).toBeCloseTo(1, 5); // alternative='greater'
    // b is about 2.3 above a: "b exceeds a by more than 2" is not shown (scipy on a + 2).
    expect(mannWhitney(a, b, { inflation: 1, shift: 2 }).pGreater / 0.3666719797874981).toBeCloseTo(1, 5);
  });

  it('is symmetric, and p is 1 for identical or constant samples', () => {
    const [a, b] = [cases[1]![0], cases[1]![1]];
    expect(mannWhitney(b, a, { inflation: 1 }).p).toBeCloseTo(mannWhitney(a, b, { inflation: 1 }).p, 12);
    expect(mannWhitney([5, 5, 5, 5, 5], [5, 5, 5, 5, 5]).p).toBe(1);
    expect(mannWhitney([1, 2, 3], [1, 2, 3], { inflation: 1 }).p).toBe(1);
    expect(mannWhitney([], [1, 2]).p).toBe(1);
  });

  it('widens the variance for autocorrelated series, so that two slow drifts are not "significant" from their length alone', () => {
    // Two overlapping slow ramps: every sample is next to its neighbour, the ranges overlap by half.
    const a = Array.from({ length: 60 }, (_, i) => 100 + i);
    const b = Array.from({ length: 60 }, (_, i) => 130 + i);
    const naive = mannWhitney(a, b, { inflation: 1 });
    const corrected = mannWhitney(a, b);
    expect(naive.p).toBeLessThan(0.001);
    expect(corrected.inflation).toBeCloseTo((1 + MAX_AUTOCORRELATION) / (1 - MAX_AUTOCORRELATION), 6);
    expect(corrected.p).toBeGreaterThan(0.05);
    // A clear shift of independent-looking samples stays significant.
    const noisy = (offset: number) => Array.from({ length: 30 }, (_, i) => offset + ((i * 7919) % 13));
    expect(mannWhitney(noisy(0), noisy(20)).p).toBeLessThan(1e-6);
  });
});

describe('lag1Autocorrelation / varianceInflation', () => {
  it('is near 1 for a ramp, negative for an alternating series, 0 for a constant or short one', () => {
    expect(lag1Autocorrelation(Array.from({ length: 50 }, (_, i) => i))).toBeGreaterThan(0.9);
    expect(lag1Autocorrelation([1, -1, 1, -1, 1, -1, 1, -1])).toBeLessThan(-0.8);
    expect(lag1Autocorrelation([4, 4, 4, 4])).toBe(0);
    expect(lag1Autocorrelation([1, 2])).toBe(0);
  });

  it('sees the drift through a jump (it works on ranks)', () => {
    // A heap that grows slowly, with one early allocation: in values the jump dominates the variance.
    const heap = [7.4, 9.6, ...Array.from({ length: 24 }, (_, i) => 9.9 + i * 0.03)];
    expect(lag1Autocorrelation(heap)).toBeGreaterThan(0.8);
    const flat = [7.4, 8.0, ...Array.from({ length: 24 }, (_, i) => 8.3 + i * 0.03)];
    // Two such runs offset by the jump alone: no significant difference once the drift is counted.
    expect(mannWhitney(flat, heap, { inflation: 1 }).p).toBeLessThan(0.001);
    expect(mannWhitney(flat, heap).p).toBeGreaterThan(0.01);
  });

  it('never narrows the variance and caps the widening', () => {
    expect(varianceInflation([1, -1, 1, -1, 1, -1, 1, -1])).toBe(1);
    expect(varianceInflation(Array.from({ length: 500 }, (_, i) => i))).toBeCloseTo(19, 6);
  });
});
