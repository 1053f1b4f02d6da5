// @ts-check
// Order statistics for benchmark samples. Medians and quartiles rather than means: on a shared,
// noisy machine a few batches land on a busy core, and the mean follows them; the median does not.

/**
 * The q-quantile (0..1) of `values`, linear interpolation between closest ranks (the same
 * definition as numpy's default). NaN for an empty list.
 * @param {readonly number[]} values
 * @param {number} q
 */
export function quantile(values, q) {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be within 0..1, got ${q}`);
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** @param {readonly number[]} values */
export function median(values) {
  return quantile(values, 0.5);
}

/**
 * @typedef {object} Summary
 * @property {number} median
 * @property {number} q1 first quartile
 * @property {number} q3 third quartile
 * @property {number} min
 * @property {number} max
 * @property {number} spread half the interquartile range as a fraction of the median (0.05 = ±5%)
 * @property {number} count
 */

/**
 * @param {readonly number[]} values
 * @returns {Summary}
 */
export function summarize(values) {
  if (values.length === 0) throw new RangeError('summarize: no samples');
  const med = median(values);
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  return {
    median: med,
    q1,
    q3,
    min: Math.min(...values),
    max: Math.max(...values),
    spread: med > 0 ? (q3 - q1) / 2 / med : 0,
    count: values.length,
  };
}

/**
 * The ratio of two cases measured in the same rounds: the median of the per-round ratios.
 * Pairing by round cancels slow drifts of the machine's speed (another process waking up for a
 * few seconds slows both cases of that round), which a ratio of two medians would not.
 * Falls back to the ratio of medians when the rounds do not line up.
 * @param {readonly number[]} subject
 * @param {readonly number[]} baseline
 */
export function pairedRatio(subject, baseline) {
  if (subject.length === 0 || baseline.length === 0) return NaN;
  if (subject.length !== baseline.length) return median(subject) / median(baseline);
  const ratios = [];
  for (let i = 0; i < subject.length; i++) {
    if (baseline[i] > 0) ratios.push(subject[i] / baseline[i]);
  }
  return ratios.length > 0 ? median(ratios) : NaN;
}
