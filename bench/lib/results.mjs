// @ts-check
// The result model shared by every topic: a topic is a list of comparisons; a comparison is a few
// cases measured in the same run, one of them the named baseline, each with its ratio to that
// baseline and, where an issue sets one, a bound and whether it was met.
import { pairedRatio } from './stats.mjs';

/**
 * A bound on one case, relative to the comparison's baseline (`ratio`) and/or absolute (`value`,
 * in the comparison's unit). Both must hold when both are given. Lower is better.
 * @typedef {object} Bound
 * @property {number} [ratio]
 * @property {number} [value]
 * @property {string} [text] how the table states it (default: `≤ 2x`, `≤ 100 ms`)
 */

/**
 * What a group declares: which measured cases sit side by side, against which baseline.
 * @typedef {object} ComparisonDef
 * @property {string} id
 * @property {string} title
 * @property {string} baseline id of the baseline case
 * @property {string[]} cases ids, in display order (the baseline among them)
 * @property {Record<string, Bound>} [bounds] by case id
 * @property {string} [note] one line under the title (conditions, tolerance, method)
 * @property {string} [unit] default: the cases' unit
 */

/**
 * A measured value as comparisons read it. `samples` (one per round) allow paired ratios; a
 * derived row may carry its `ratio` instead (for example normalised by a baseline measured in
 * another process).
 * @typedef {object} Measured
 * @property {string} id
 * @property {string} label
 * @property {string} who
 * @property {string} unit
 * @property {number} median
 * @property {number} spread
 * @property {number[]} [samples]
 * @property {number} [ratio]
 * @property {string} [unavailable]
 */

/** @typedef {'MET' | 'MISSED' | 'UNMEASURED'} Verdict */

/**
 * @typedef {object} Row
 * @property {string} id
 * @property {string} label
 * @property {string} who
 * @property {number | null} value the median, null when not measured
 * @property {number | null} spread
 * @property {number | null} ratio to the baseline
 * @property {boolean} baseline
 * @property {number[]} [samples] the figure of each round (or process), when the case keeps them
 * @property {string} [unavailable]
 * @property {Bound & { text: string }} [bound]
 * @property {Verdict} [verdict]
 */

/**
 * @typedef {object} Comparison
 * @property {string} id
 * @property {string} title
 * @property {string} [note]
 * @property {string} unit
 * @property {string} baseline
 * @property {Row[]} rows
 * @property {Verdict | null} verdict MISSED if any bound is missed, UNMEASURED if any could not be measured, else MET; null without bounds
 */

/** @param {number} value */
export function formatRatio(value) {
  if (!Number.isFinite(value)) return '-';
  if (value >= 100) return `${Math.round(value)}x`;
  if (value >= 10) return `${value.toFixed(1)}x`;
  return `${value.toFixed(2)}x`;
}

/**
 * Three significant digits, at most two decimals, thousands grouped: 1.62, 46.1, 1,454.
 * @param {number} value
 */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  const decimals = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * @param {Bound} bound
 * @param {string} unit
 */
export function boundText(bound, unit) {
  if (bound.text) return bound.text;
  const parts = [];
  if (bound.ratio !== undefined) parts.push(`≤ ${Number(bound.ratio.toPrecision(3))}x`);
  if (bound.value !== undefined) parts.push(`≤ ${formatNumber(bound.value)} ${unit}`);
  return parts.join(' and ');
}

/**
 * @param {Bound} bound
 * @param {number | null} value
 * @param {number | null} ratio
 * @returns {Verdict}
 */
export function checkBound(bound, value, ratio) {
  if (bound.ratio !== undefined && (ratio === null || !Number.isFinite(ratio))) return 'UNMEASURED';
  if (bound.value !== undefined && (value === null || !Number.isFinite(value))) return 'UNMEASURED';
  if (bound.ratio !== undefined && /** @type {number} */ (ratio) > bound.ratio) return 'MISSED';
  if (bound.value !== undefined && /** @type {number} */ (value) > bound.value) return 'MISSED';
  return 'MET';
}

/**
 * Rows, ratios and verdicts of one comparison. A case id the def names but nobody measured is an
 * error in the topic, not a missing figure: it throws.
 * @param {ComparisonDef} def
 * @param {Map<string, Measured>} measured
 * @returns {Comparison}
 */
export function buildComparison(def, measured) {
  if (!def.cases.includes(def.baseline)) throw new Error(`comparison "${def.id}": baseline "${def.baseline}" is not among its cases`);
  for (const id of [...def.cases, ...Object.keys(def.bounds ?? {})]) {
    if (!measured.has(id)) throw new Error(`comparison "${def.id}": no measured case "${id}"`);
  }
  const base = /** @type {Measured} */ (measured.get(def.baseline));
  const baseOk = !base.unavailable && Number.isFinite(base.median);
  const unit = def.unit ?? base.unit;
  /** @type {Verdict | null} */
  let verdict = null;
  const rows = def.cases.map((id) => {
    const m = /** @type {Measured} */ (measured.get(id));
    const ok = !m.unavailable && Number.isFinite(m.median);
    /** @type {number | null} */
    let ratio = null;
    if (id === def.baseline) ratio = baseOk ? 1 : null;
    else if (ok && m.ratio !== undefined) ratio = m.ratio;
    else if (ok && baseOk) {
      ratio = m.samples && base.samples && m.samples.length > 0 ? pairedRatio(m.samples, base.samples) : m.median / base.median;
    }
    /** @type {Row} */
    const row = {
      id,
      label: m.label,
      who: m.who,
      value: ok ? m.median : null,
      spread: ok ? m.spread : null,
      ratio,
      baseline: id === def.baseline,
    };
    if (ok && m.samples && m.samples.length > 0) row.samples = m.samples;
    if (m.unavailable) row.unavailable = m.unavailable;
    const bound = def.bounds?.[id];
    if (bound) {
      row.bound = { ...bound, text: boundText(bound, unit) };
      row.verdict = checkBound(bound, row.value, ratio);
      verdict = worse(verdict, row.verdict);
    }
    return row;
  });
  /** @type {Comparison} */
  const comparison = { id: def.id, title: def.title, unit, baseline: def.baseline, rows, verdict };
  if (def.note) comparison.note = def.note;
  return comparison;
}

/** @type {Record<Verdict, number>} */
const SEVERITY = { MET: 0, UNMEASURED: 1, MISSED: 2 };

/**
 * @param {Verdict | null} a
 * @param {Verdict} b
 * @returns {Verdict}
 */
function worse(a, b) {
  return a === null || SEVERITY[b] > SEVERITY[a] ? b : a;
}

/**
 * Counts of verdicts over comparisons' bounded rows.
 * @param {Comparison[]} comparisons
 */
export function tally(comparisons) {
  const counts = { MET: 0, MISSED: 0, UNMEASURED: 0 };
  for (const c of comparisons) for (const row of c.rows) if (row.verdict) counts[row.verdict]++;
  return counts;
}
