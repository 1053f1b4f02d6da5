/**
 * The noise test of `loadlight compare`: a two-sided Mann-Whitney U test over the per-sample
 * values of two sessions, with its variance widened for autocorrelation (samples a tick apart are
 * not independent: a slowly moving series would otherwise look "significant" from its length
 * alone). No dependency: ranks, the normal approximation and erfc are a few lines each.
 */

/** Average ranks (1-based, ties sharing their mean rank) of a series, in its order. */
export function ranks(values: readonly number[]): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    for (let k = start; k < end; k++) out[order[k]!] = (start + 1 + end) / 2;
    start = end;
  }
  return out;
}

/**
 * Lag-1 autocorrelation of a series, computed on its ranks (as the test itself works on ranks):
 * one jump in a slow drift (a heap that grows, then grows again from higher) does not hide the
 * drift's dependence, as it would in the values. 0 when the series is constant or too short.
 */
export function lag1Autocorrelation(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 0;
  const r = ranks(values);
  const mean = (n + 1) / 2;
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < n; i++) {
    const d = r[i]! - mean;
    denominator += d * d;
    if (i + 1 < n) numerator += d * (r[i + 1]! - mean);
  }
  return denominator > 0 ? numerator / denominator : 0;
}

/** The autocorrelation counted at most: beyond it the variance factor would explode (0.9 -> 19x). */
export const MAX_AUTOCORRELATION = 0.9;

/**
 * How much autocorrelation widens the variance of a mean (or rank sum) of n samples of an AR(1)
 * series: (1 + r) / (1 - r), so that the effective sample size is n (1 - r) / (1 + r). Negative
 * autocorrelation is counted as none (never narrowed).
 */
export function varianceInflation(values: readonly number[]): number {
  const r = Math.min(MAX_AUTOCORRELATION, Math.max(0, lag1Autocorrelation(values)));
  return (1 + r) / (1 - r);
}

/** Complementary error function (Numerical Recipes' erfcc: relative error below 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface MannWhitneyResult {
  /** U of the first sample (the number of pairs where it is the larger, ties counting half). */
  u: number;
  /**
   * Standardised distance of U from n1 n2 / 2, after the continuity and autocorrelation
   * corrections: positive when the second sample's values tend to be the larger.
   */
  z: number;
  /** Two-sided p-value: how likely a shift at least this large (either way) is when both are the same. */
  p: number;
  /** One-sided p-value for "the second sample's values tend to be larger". */
  pGreater: number;
  /** One-sided p-value for "the second sample's values tend to be smaller". */
  pLess: number;
  /** The variance factor applied for autocorrelation (1 = none). */
  inflation: number;
}

/**
 * Mann-Whitney U test of `a` against `b`: normal approximation with the tie correction and a
 * continuity correction, its variance multiplied by the mean autocorrelation factor of the two
 * series (`varianceInflation`; `options.inflation` sets it). `options.shift` is added to every
 * value of `a` first (the factor is still that of `a` itself): `pGreater` then tests whether `b`
 * exceeds `a` by more than the shift (a minimum-effect test). Values must be finite; their order
 * matters only for the autocorrelation factor.
 */
export function mannWhitney(a: readonly number[], b: readonly number[], options: { inflation?: number; shift?: number } = {}): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  const inflation = options.inflation ?? (varianceInflation(a) + varianceInflation(b)) / 2;
  const none = (u: number): MannWhitneyResult => ({ u, z: 0, p: 1, pGreater: 0.5, pLess: 0.5, inflation });
  if (n1 === 0 || n2 === 0) return none(0);
  const shift = options.shift ?? 0;
  // Sort the pooled values (index < n1: from a), then give ties their average rank.
  const order = Array.from({ length: n }, (_, i) => i);
  const value = (i: number) => (i < n1 ? a[i]! + shift : b[i - n1]!);
  order.sort((i, j) => value(i) - value(j));
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && value(order[end]!) === value(order[start]!)) end++;
    const rank = (start + 1 + end) / 2; // ranks start+1 .. end, averaged
    const t = end - start;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = start; k < end; k++) if (order[k]! < n1) rankSumA += rank;
    start = end;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))) * inflation;
  if (!(variance > 0)) return none(u); // every value equal
  // Positive when b tends larger (U of a below its mean); each tail pulled 0.5 back for continuity.
  const distance = (n1 * n2) / 2 - u;
  const sd = Math.sqrt(variance);
  const upperTail = (x: number) => Math.min(1, 0.5 * erfc(x / Math.SQRT2));
  const pGreater = upperTail((distance - 0.5) / sd);
  const pLess = upperTail((-distance - 0.5) / sd);
  const z = (Math.sign(distance) * Math.max(0, Math.abs(distance) - 0.5)) / sd;
  return { u, z, p: Math.min(1, 2 * Math.min(pGreater, pLess)), pGreater, pLess, inflation };
}

/** A small seeded PRNG (mulberry32): the same resamples, so the same verdict, on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit hash of a string (FNV-1a), to seed the resamples of one metric. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Circular block bootstrap of a statistic: `resamples` series of the same length, each made of
 * blocks of `blockLength` consecutive samples from random starts (wrapping around), so that the
 * dependence between neighbouring samples survives resampling. Returns the statistic of each.
 * The block length follows the autocorrelation: the variance factor (1 + r) / (1 - r), rounded.
 */
export function blockBootstrap(
  values: readonly number[],
  statistic: (sample: Float64Array) => number,
  resamples: number,
  random: () => number,
): Float64Array {
  const n = values.length;
  const out = new Float64Array(resamples);
  if (n === 0) return out.fill(Number.NaN);
  const block = Math.max(1, Math.min(Math.floor(n / 2) || 1, Math.round(varianceInflation(values))));
  const sample = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; ) {
      const start = Math.floor(random() * n);
      for (let k = 0; k < block && i < n; k++, i++) sample[i] = values[(start + k) % n]!;
    }
    out[r] = statistic(sample);
  }
  return out;
}
