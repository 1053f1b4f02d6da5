import os from 'node:os';
import path from 'node:path';
import { LoadlightError } from './errors.js';
import { SESSION_SCHEMA_VERSION, sessionProfileSchema } from './session-schema.js';
import { applyFormula, formulaOperand, rankIndex, SeriesRuns, type Store } from './store.js';
import type {
  ActionRecord,
  AlertTransition,
  Evaluation,
  Fault,
  LevelResult,
  MetricStatistics,
  ModuleProfile,
  Overhead,
  Recommendation,
  ResolvedConfig,
  SessionAlert,
  SessionProfile,
  SessionRecommendation,
  SessionSeries,
} from './types.js';
import { compileSchema, formatAjvErrors } from './validate.js';

export interface SessionRecords {
  recommendations: Map<string, SessionRecommendation>;
  alerts: SessionAlert[];
}

/** An alert's transition (raised, resolved), as the session's alert timeline records it. */
export function alertRecord(transition: AlertTransition): SessionAlert {
  return {
    key: transition.key,
    id: transition.id,
    state: transition.state,
    severity: transition.severity,
    message: transition.message,
    module: transition.module ?? null,
    at: new Date(transition.t).toISOString(),
    evidence: transition.evidence,
  };
}

/** A recommendation first seen at `at` (an ISO time), as the session records it. */
export function recommendationRecord(recommendation: Recommendation, at: string): SessionRecommendation {
  return {
    id: recommendation.id,
    priority: recommendation.priority,
    message: recommendation.message,
    module: recommendation.module ?? null,
    rule: recommendation.evidence.rule,
    action: recommendation.action ?? null,
    firstSeen: at,
    lastSeen: at,
    count: 1,
    evidence: recommendation.evidence,
  };
}

/** The session's alert timeline keeps the newest this many transitions. */
export const MAX_ALERT_TIMELINE = 10_000;

/** A recommendation's key among the session's recommendations: its id and module. */
export function recommendationKey(id: string, module: string | null | undefined): string {
  return `${id}\u0000${module ?? ''}`;
}

/** Adds an evaluation's recommendations and alert transitions to `records`, as the session keeps them. */
export function recordEvaluation(records: SessionRecords, evaluation: Evaluation): void {
  const at = new Date(evaluation.t).toISOString();
  for (const recommendation of evaluation.recommendations) {
    const key = recommendationKey(recommendation.id, recommendation.module);
    const seen = records.recommendations.get(key);
    if (seen) {
      seen.count++;
      seen.lastSeen = at;
      seen.message = recommendation.message;
      seen.evidence = recommendation.evidence;
    } else {
      records.recommendations.set(key, recommendationRecord(recommendation, at));
    }
  }
  for (const transition of evaluation.transitions) {
    if (records.alerts.length >= MAX_ALERT_TIMELINE) records.alerts.shift();
    records.alerts.push(alertRecord(transition));
  }
}

export interface SessionInput {
  sessionId: string;
  startedAt: number;
  endedAt: number;
  config: ResolvedConfig;
  store: Store;
  rules: Array<{ file: string; sha256: string; rules: number }>;
  evaluation: Evaluation | null;
  records: SessionRecords;
  overhead: Overhead;
  faults: Fault[];
  actions: ActionRecord[];
}

const MB = 1024 * 1024;

/** How a module field is summarised over the session. */
const MODULE_FIELD_SUMMARY: Record<string, { key: keyof ModuleProfile; stat: 'sum' | 'mean' | 'max' | 'min' | 'last' }> = {
  calls: { key: 'calls', stat: 'sum' },
  errors: { key: 'errors', stat: 'sum' },
  total_ms: { key: 'totalMs', stat: 'sum' },
  latency_mean_ms: { key: 'meanMs', stat: 'mean' },
  latency_min_ms: { key: 'minMs', stat: 'min' },
  latency_max_ms: { key: 'maxMs', stat: 'max' },
  latency_p95_ms: { key: 'p95Ms', stat: 'max' },
  cpu_ms: { key: 'cpuMs', stat: 'sum' },
  cpu_percent: { key: 'cpuPercent', stat: 'mean' },
  memory_mb: { key: 'memoryMb', stat: 'last' },
};

/** A series' statistics plus its total (the sum with nulls as 0), for module figures. */
export interface SeriesSummary {
  stats: MetricStatistics;
  total: number;
}

function moduleFigure(summary: SeriesSummary, stat: 'sum' | 'mean' | 'max' | 'min' | 'last'): number | null {
  if (summary.stats.count === 0) return null;
  return stat === 'sum' ? summary.total : summary.stats[stat];
}

/** Buckets per histogram level: the counts fit in L1 cache, the bucket of a value in 16 bits. */
const MAX_BUCKETS = 4096;
/** This few runs are finished by sorting them; after this many histogram levels, by quickselect on their rows. */
const SMALL_RANGE = 32;
const MAX_LEVELS = 4;

/** The value that would be at index k of a[lo..hi] (inclusive) once sorted; reorders that range. */
function quickselect(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi - lo >= 16) {
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    // a[lo..j] <= pivot, a[i..hi] >= pivot, and everything between equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return pivot;
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= lo && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
  return a[k]!;
}

function emptyModule(name: string): ModuleProfile {
  return {
    name,
    calls: null,
    errors: null,
    totalMs: null,
    meanMs: null,
    minMs: null,
    maxMs: null,
    p95Ms: null,
    cpuMs: null,
    cpuPercent: null,
    memoryMb: null,
    level: null,
  };
}

/** Characters of the decimal text of a whole number 0 <= w < 1e15 (row indices, run lengths). */
function digits(w: number): number {
  let d = 1;
  for (let p = 10; w >= p; p *= 10) d++;
  return d;
}

/** Characters of JSON's text of a finite number (as the serializer's `formatNumber` reasons). */
function numberText(x: number): number {
  let sign = 0;
  if (x < 0) {
    x = -x;
    sign = 1;
  }
  if (x < 1e15) {
    const whole = Math.floor(x);
    if (x === whole) return sign + digits(whole);
    if (x < 1e9) {
      // At most six decimals: the shortest text that reads back as x is this decimal.
      const k = Math.round(x * 1e6);
      if (k / 1e6 === x) {
        // 1..999999 (x is not whole): small integer arithmetic.
        let fraction = (k - whole * 1e6) | 0;
        let decimals = 6;
        while (fraction % 10 === 0) {
          fraction = (fraction / 10) | 0;
          decimals--;
        }
        return sign + digits(whole) + 1 + decimals;
      }
    }
  }
  return String(sign === 1 ? -x : x).length;
}

/** Every statistics object of `encodeRuns` is made here, p50..p99 at `p` (set after): one object shape. */
function metricStatistics(count: number, min: number | null, max: number | null, mean: number | null, p: number | null, last: number | null): MetricStatistics {
  return { count, min, max, mean, p50: p, p95: p, p99: p, last };
}
// Fields that held small integers and then a fraction or null would change representation in
// the middle of an export, and de-optimise `encodeRuns`: they take any value from the start.
metricStatistics(0, null, null, null, null, null);
metricStatistics(1, 0.5, 0.5, 0.5, 0.5, 0.5);

const FORM_DENSE = 0;
const FORM_SPARSE = 1;
const FORM_RUNS = 2;

/** A series' statistics and total (see `SeriesSummary`) and, unless computed, its session form. */
export interface EncodedSeries extends SeriesSummary {
  series: SessionSeries | null;
}

/**
 * A series' statistics (those of the store's `statistics()`: nearest-rank p50/p95/p99, NaN
 * skipped), its total and its session form (the one whose compact JSON is shortest), from its
 * runs (rows of one value, or missing), as the Store reads them (`Store.seriesRuns`, see
 * `encodeRuns`): everything, the sum in row order included, is worked out from the runs (a
 * counter or a mostly idle metric has far fewer runs than rows). Percentiles are found without sorting: a histogram of the run values over
 * [min, max], weighted by run length (monotone, so the bucket of the k-th smallest row is found by
 * counting), narrows each rank to one bucket, resolved by a deeper level or a small sort; a series
 * of at most a few thousand whole steps is settled by the first level alone. Infinities and -0
 * are ordered as a typed-array sort orders them (-Infinity first, -0 before 0); in the forms an
 * infinity is missing, as JSON writes it (null). Scratch buffers are reused.
 */
export class SeriesEncoder {
  /** Run r: rows [starts[r], starts[r + 1]) hold heads[r] (NaN: missing or infinite). */
  private starts = new Int32Array(1);
  private heads = new Float64Array(0);
  /** The finite runs `encodeRuns` found: value and length (sorted when few). */
  private values = new Float64Array(0);
  private weights = new Int32Array(0);
  private gatheredValues = new Float64Array(0);
  private gatheredWeights = new Int32Array(0);
  private bucketOf = new Uint16Array(0);
  private readonly counts = new Int32Array(MAX_BUCKETS);
  private exact = false;
  /** Rows, for the rare bucket that histogram levels cannot split. */
  private rows = new Float64Array(0);

  /**
   * What `form` copies its arrays from: doubles, small whole numbers, nulls. A new array to be
   * overwritten is a copy of one of these (`slice`): V8 allocates it once, in its final kind. An
   * array made empty (`new Array(n)`) is allocated again at its first double (the first one left
   * as garbage, as large as the series) and again, its doubles boxed, at a null after doubles;
   * and `form` was de-optimised at such a `new Array` at each export (no type feedback).
   */
  private doubleArray: number[] = [];
  private wholeArray: number[] = [];
  private nullArray: Array<number | null> = [];

  /** Σ digits(i) for i < m, for every m <= n: the text of sparse row indices. */
  private digitSums = new Int32Array(1);

  private grow(n: number): void {
    if (this.digitSums.length < n + 1) {
      this.digitSums = new Int32Array(n + 1);
      for (let m = 1; m <= n; m++) this.digitSums[m] = this.digitSums[m - 1]! + digits(m - 1);
    }
    if (n <= this.heads.length) return;
    // The arrays `form` copies (see `doubleArray`), as long as a series.
    this.doubleArray = new Array<number>(n).fill(0.5);
    this.wholeArray = new Array<number>(n).fill(0);
    this.nullArray = new Array<number | null>(n).fill(null);
    this.starts = new Int32Array(n + 1);
    this.heads = new Float64Array(n);
    this.values = new Float64Array(n);
    this.weights = new Int32Array(n);
    this.gatheredValues = new Float64Array(3 * n);
    this.gatheredWeights = new Int32Array(3 * n);
    this.bucketOf = new Uint16Array(n);
    this.rows = new Float64Array(n);
  }

  /**
   * The statistics and total of the series of `input` (runs, oldest first: run r holds
   * `heads[r]` over rows [starts[r], starts[r + 1]), NaN: missing) and, with `encode`, its
   * session series in the shortest form. Runs of one value may follow each other (0 and -0
   * apart, say). `zeros`: the rows, when some are -0 (the forms write each zero as its row
   * holds it); without them they are made from the runs when needed.
   */
  encodeRuns(input: SeriesRuns, encode: boolean, zeros: Float64Array | null = null): EncodedSeries {
    const n = input.rows;
    const inputRuns = input.count;
    const inStarts = input.starts;
    const inHeads = input.heads;
    this.grow(Math.max(n, inputRuns));
    const digitSums = this.digitSums;
    // The forms' lengths (see `form`): row index text, run length text, missing runs, and the
    // value text a run writes once where the other forms write it on each row.
    let indexText = 0;
    let runText = 0;
    let missingRuns = 0;
    let repeated = 0;
    // The forms' runs: finite runs of one value (0 and -0 together), missing runs (infinities in them).
    const starts = this.starts;
    const heads = this.heads;
    const finiteValues = this.values;
    const finiteWeights = this.weights;
    let runs = 0;
    // Finite rows and the runs holding them; rows of -Infinity and of Infinity.
    let present = 0;
    let presentRuns = 0;
    let below = 0;
    let above = 0;
    // Finite rows below 0, rows of -0, the last finite value (its sign).
    let negatives = 0;
    let negativeZeros = 0;
    let lastFinite = Number.NaN;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    let last = Number.NaN;
    // The form run being extended: its head (NaN: missing) and first row.
    let head = Number.NaN;
    let headStart = 0;
    let to = inputRuns > 0 ? inStarts[0]! : 0;
    for (let r = 0; r < inputRuns; r++) {
      const x = inHeads[r]!;
      const from = to;
      to = inStarts[r + 1]!;
      const length = to - from;
      if (length <= 0) continue;
      if (x - x === 0) {
        finiteValues[presentRuns] = x;
        finiteWeights[presentRuns++] = length;
        present += length;
        // Row by row (the same rounding); whole numbers add exactly (below 2^53), so at once.
        // 0 changes nothing: the sum starts at 0, so is never -0.
        if (x !== 0) {
          if (length === 1) sum += x;
          else if (sum === Math.floor(sum) && x === Math.floor(x) && Math.abs(sum) + Math.abs(x) * length < 2 ** 53) sum += x * length;
          else for (let q = 0; q < length; q++) sum += x;
          if (x < 0) negatives += length;
        } else if (1 / x < 0) {
          negativeZeros += length;
        }
        if (x < min) min = x;
        if (x > max) max = x;
        last = x;
        lastFinite = x;
        if (!encode || (runs > 0 && head === x)) continue;
      } else {
        // Missing rows and infinities make one missing run (JSON writes an infinity as null);
        // an infinity still counts in the statistics (once is as many: the sum stays infinite or NaN).
        if (x === x) {
          sum += x;
          last = x;
          if (x < 0) below += length;
          else above += length;
        }
        if (!encode || (runs > 0 && head !== head)) continue;
      }
      // A new form run: the one before it is complete.
      if (runs > 0) {
        const before = from - headStart;
        runText += before < 10 ? 1 : before < 100 ? 2 : before < 1000 ? 3 : digits(before);
        if (head !== head) missingRuns++;
        else if (before > 1) repeated += (before - 1) * numberText(head);
      }
      head = x - x === 0 ? x : Number.NaN;
      headStart = from;
      starts[runs] = from;
      heads[runs++] = head;
    }
    if (runs > 0 && encode) {
      const before = n - headStart;
      runText += before < 10 ? 1 : before < 100 ? 2 : before < 1000 ? 3 : digits(before);
      if (head !== head) missingRuns++;
      else if (before > 1) repeated += (before - 1) * numberText(head);
    }
    starts[runs] = n;
    const total = sum;
    const count = present + below + above;
    let stats: MetricStatistics;
    if (count === 0) {
      stats = metricStatistics(0, null, null, null, null, null);
    } else {
      // Sorted, the rows are `below` times -Infinity, the finite rows (min..max), `above` times Infinity.
      stats = metricStatistics(count, below > 0 ? -Infinity : min, above > 0 ? Infinity : max, sum / count, min, last);
      const k50 = rankIndex(0.5, count);
      const k95 = rankIndex(0.95, count);
      const k99 = rankIndex(0.99, count);
      if (present > 0 && min !== max) {
        const top = present - 1;
        const finite = (k: number) => (k < below ? 0 : k - below > top ? top : k - below);
        this.percentiles(stats, presentRuns, min, max, finite(k50), finite(k95), finite(k99));
      }
      if (below + above > 0) {
        const infinite = (k: number, p: number | null) => (k < below ? -Infinity : k - below < present ? p : Infinity);
        stats.p50 = infinite(k50, stats.p50);
        stats.p95 = infinite(k95, stats.p95);
        stats.p99 = infinite(k99, stats.p99);
      }
      if (negativeZeros > 0) {
        // Sorted, -0 comes before 0 (a typed-array sort orders them so): a zero takes the sign
        // of the row of its rank; the last one that of the last finite row.
        const zero = (k: number) => (k - below - negatives < negativeZeros ? -0 : 0);
        if (stats.min === 0) stats.min = zero(0);
        if (stats.max === 0) stats.max = zero(count - 1);
        if (stats.p50 === 0) stats.p50 = zero(k50);
        if (stats.p95 === 0) stats.p95 = zero(k95);
        if (stats.p99 === 0) stats.p99 = zero(k99);
        if (stats.last === 0) stats.last = lastFinite;
      }
    }
    if (!encode) return { stats, total, series: null };
    // Each form's text less the text of every finite value (the same in all): dense `[` `]`, n - 1
    // commas, `null` per missing row; sparse `{"at":[` `],"v":[` `]}`, the indices, 2 (p - 1)
    // commas; runs `{"runs":[` `],"v":[` `]}`, the lengths, 2 (r - 1) commas, `null` per missing
    // run. The row index text is counted only when the sparse form could be the shortest (each
    // index is a digit at least): no other choice depends on it.
    const dense = n === 0 ? 2 : n + 1 + 4 * (n - present);
    if (present > 0 && 14 + 3 * present < dense) {
      for (let r = 0; r < runs; r++) if (heads[r] === heads[r]) indexText += digitSums[starts[r + 1]!]! - digitSums[starts[r]!]!;
    } else {
      indexText = present;
    }
    const sparse = present === 0 ? 16 : 14 + indexText + 2 * present;
    const runsForm = n === 0 ? 18 : 16 + runText + 2 * runs + 4 * missingRuns - repeated;
    const form = runsForm < dense && runsForm < sparse ? FORM_RUNS : sparse < dense ? FORM_SPARSE : FORM_DENSE;
    if (negativeZeros > 0 && zeros === null) zeros = this.rowsOf(input);
    return { stats, total, series: this.form(form, n, runs, present, missingRuns, negativeZeros > 0 ? zeros : null) };
  }

  /** The rows of `input` (a scratch array): the zeros with their signs, for `form`. */
  private rowsOf(input: SeriesRuns): Float64Array {
    if (this.zeroRows.length < input.rows) this.zeroRows = new Float64Array(input.rows);
    input.rowsInto(this.zeroRows);
    return this.zeroRows;
  }

  private zeroRows = new Float64Array(0);

  /**
   * Sets the p50, p95 and p99 of `stats` to the values of rank `k50`, `k95` and `k99` among the
   * rows of the `count` finite runs `encodeRuns` found (in `values`, `weights`), min < max.
   */
  private percentiles(stats: MetricStatistics, count: number, min: number, max: number, k50: number, k95: number, k99: number): void {
    const values = this.values;
    const weights = this.weights;
    if (count <= SMALL_RANGE) {
      sortPairs(values, weights, 0, count);
      stats.p50 = valueAtRank(values, weights, 0, count, k50);
      stats.p95 = valueAtRank(values, weights, 0, count, k95);
      stats.p99 = valueAtRank(values, weights, 0, count, k99);
      return;
    }
    this.bucket(values, weights, 0, count, min, max);
    const counts = this.counts;
    let b = 0;
    let below = 0;
    while (below + counts[b]! <= k50) below += counts[b++]!;
    const b50 = b;
    const below50 = below;
    while (below + counts[b]! <= k95) below += counts[b++]!;
    const b95 = b;
    const below95 = below;
    while (below + counts[b]! <= k99) below += counts[b++]!;
    const b99 = b;
    const below99 = below;
    if (this.exact) {
      stats.p50 = min + b50;
      stats.p95 = min + b95;
      stats.p99 = min + b99;
      return;
    }
    // The runs of the (at most three) buckets, each into its own third of the scratch, in one pass.
    const bucketOf = this.bucketOf;
    const gv = this.gatheredValues;
    const gw = this.gatheredWeights;
    const at50 = 0;
    const at95 = b95 === b50 ? at50 : count;
    const at99 = b99 === b95 ? at95 : 2 * count;
    let w50 = at50;
    let w95 = at95;
    let w99 = at99;
    for (let r = 0; r < count; r++) {
      const bi = bucketOf[r];
      let w: number;
      if (bi === b50) w = w50++;
      else if (bi === b95) w = w95++;
      else if (bi === b99) w = w99++;
      else continue;
      gv[w] = values[r]!;
      gw[w] = weights[r]!;
    }
    // A bucket holding two of the ranks is one segment.
    const end95 = b95 === b50 ? w50 : w95;
    const end99 = b99 === b95 ? end95 : w99;
    stats.p50 = this.kth(gv, gw, at50, w50 - at50, k50 - below50);
    stats.p95 = this.kth(gv, gw, at95, end95 - at95, k95 - below95);
    stats.p99 = this.kth(gv, gw, at99, end99 - at99, k99 - below99);
  }

  /**
   * Weighted histogram of the runs [from, from + count) over [min, max] (min < max, finite):
   * `bucketOf[r - from]`, `counts[b]` (rows). The bucket of a value never decreases as it grows.
   */
  private bucket(values: Float64Array, weights: Int32Array, from: number, count: number, min: number, max: number): void {
    const range = max - min;
    const stepwise = range < MAX_BUCKETS && range < 2 * count && Number.isInteger(min) && Number.isInteger(max);
    const buckets = stepwise ? Math.floor(range) + 1 : Math.min(MAX_BUCKETS, count);
    const scale = stepwise ? 1 : buckets / range;
    const top = buckets - 1;
    const counts = this.counts;
    const bucketOf = this.bucketOf;
    counts.fill(0, 0, buckets);
    let exact = stepwise;
    for (let r = 0; r < count; r++) {
      const v = values[from + r]!;
      let b = ((v - min) * scale) | 0;
      if (b > top) b = top;
      bucketOf[r] = b;
      counts[b]! += weights[from + r]!;
      if (exact && min + b !== v) exact = false;
    }
    this.exact = exact;
  }

  /** The value of rank k (0-based, by rows) among the runs [from, from + count); reorders them. */
  private kth(values: Float64Array, weights: Int32Array, from: number, count: number, k: number): number {
    for (let level = 0; count > SMALL_RANGE && level < MAX_LEVELS; level++) {
      let min = Infinity;
      let max = -Infinity;
      for (let r = from; r < from + count; r++) {
        const v = values[r]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (min === max) return min;
      if (!Number.isFinite(MAX_BUCKETS / (max - min))) break;
      this.bucket(values, weights, from, count, min, max);
      const counts = this.counts;
      let b = 0;
      let below = 0;
      while (below + counts[b]! <= k) below += counts[b++]!;
      if (this.exact) return min + b;
      // Move that bucket's runs to the front of the range, and look only there.
      const bucketOf = this.bucketOf;
      let w = from;
      for (let r = 0; r < count; r++) {
        if (bucketOf[r] !== b) continue;
        const v = values[w]!;
        const q = weights[w]!;
        values[w] = values[from + r]!;
        weights[w++] = weights[from + r]!;
        values[from + r] = v;
        weights[from + r] = q;
      }
      count = w - from;
      k -= below;
    }
    if (count <= SMALL_RANGE) {
      sortPairs(values, weights, from, count);
      return valueAtRank(values, weights, from, count, k);
    }
    // Values too close for histograms: the rows themselves, by quickselect.
    const rows = this.rows;
    let m = 0;
    for (let r = from; r < from + count; r++) rows.fill(values[r]!, m, (m += weights[r]!));
    return quickselect(rows, 0, m - 1, k);
  }

  /**
   * The runs `encodeRuns` found as a session series of form `form`; infinities are missing runs
   * already. A run of zeros may hold -0 too: given `zeros` (the rows), the dense and sparse forms
   * write each zero as its row holds it (a runs form, as its first row).
   */
  private form(form: number, n: number, runs: number, present: number, missingRuns: number, zeros: Float64Array | null): SessionSeries {
    const starts = this.starts;
    const heads = this.heads;
    // Each array made in its final kind (see `doubleArray`). Read here, on every call: a property
    // read only in some branch may have no type feedback yet when V8 compiles this.
    const doubleArray = this.doubleArray;
    const wholeArray = this.wholeArray;
    const nullArray = this.nullArray;
    if (form === FORM_RUNS) {
      const lengths = wholeArray.slice(0, runs);
      for (let r = 0; r < runs; r++) lengths[r] = starts[r + 1]! - starts[r]!;
      if (missingRuns === 0) {
        const v = doubleArray.slice(0, runs);
        for (let r = 0; r < runs; r++) v[r] = heads[r]!;
        return { runs: lengths, v };
      }
      const v = nullArray.slice(0, runs);
      for (let r = 0; r < runs; r++) {
        const x = heads[r]!;
        v[r] = x === x ? x : null;
      }
      return { runs: lengths, v };
    }
    if (form === FORM_SPARSE) {
      const at = wholeArray.slice(0, present);
      const v = doubleArray.slice(0, present);
      let k = 0;
      for (let r = 0; r < runs; r++) {
        const x = heads[r]!;
        if (x !== x) continue;
        const end = starts[r + 1]!;
        for (let i = starts[r]!; i < end; i++) {
          at[k] = i;
          v[k++] = x;
        }
      }
      if (zeros !== null) for (let k = 0; k < present; k++) if (v[k] === 0) v[k] = zeros[at[k]!]!;
      return { at, v };
    }
    if (present === n) {
      const full = doubleArray.slice(0, n);
      for (let r = 0; r < runs; r++) {
        const x = heads[r]!;
        const end = starts[r + 1]!;
        for (let i = starts[r]!; i < end; i++) full[i] = x;
      }
      if (zeros !== null) for (let i = 0; i < n; i++) if (full[i] === 0) full[i] = zeros[i]!;
      return full;
    }
    const out = nullArray.slice(0, n);
    for (let r = 0; r < runs; r++) {
      const x = heads[r]!;
      const value = x === x ? x : null;
      const end = starts[r + 1]!;
      for (let i = starts[r]!; i < end; i++) out[i] = value;
    }
    if (zeros !== null) for (let i = 0; i < n; i++) if (out[i] === 0) out[i] = zeros[i]!;
    return out;
  }
}

/** Sorts the pairs (values[i], weights[i]) of [from, from + count) by value (insertion sort). */
function sortPairs(values: Float64Array, weights: Int32Array, from: number, count: number): void {
  for (let i = from + 1; i < from + count; i++) {
    const v = values[i]!;
    const w = weights[i]!;
    let j = i - 1;
    while (j >= from && values[j]! > v) {
      values[j + 1] = values[j]!;
      weights[j + 1] = weights[j]!;
      j--;
    }
    values[j + 1] = v;
    weights[j + 1] = w;
  }
}

/** The value at row rank k of sorted runs [from, from + count). */
function valueAtRank(values: Float64Array, weights: Int32Array, from: number, count: number, k: number): number {
  let below = 0;
  let r = from;
  while (r < from + count - 1 && below + weights[r]! <= k) below += weights[r++]!;
  return values[r]!;
}

/**
 * The values of a metric with a series of its own in `session` into `out[0..n)` (NaN where
 * missing; `n` = samples.t.length), whatever its form; false when it has none there.
 */
function storedValues(session: Pick<SessionProfile, 'samples'>, name: string, out: Float64Array): boolean {
  const values = session.samples.values;
  const stored = Object.hasOwn(values, name) ? values[name] : undefined;
  if (stored === undefined || stored === null || typeof stored !== 'object') return false;
  const n = out.length;
  const number = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  if (Array.isArray(stored)) {
    for (let i = 0; i < n; i++) out[i] = number(stored[i]);
    return true;
  }
  out.fill(Number.NaN);
  if ('runs' in stored) {
    const { runs, v } = stored;
    let i = 0;
    for (let r = 0; r < runs.length && i < n; r++) {
      const end = Math.min(n, i + runs[r]!);
      out.fill(number(v[r]), i, end);
      i = end;
    }
    return true;
  }
  const { at, v } = stored;
  for (let k = 0; k < at.length; k++) {
    const i = at[k]!;
    // A typed array ignores an index out of range; one not whole would be a property.
    if (Number.isInteger(i)) out[i] = number(v[k]);
  }
  return true;
}

/**
 * The dense series of metric `name` in a session: one value per time in `samples.t`, oldest
 * first, null where missing. A sparse series is expanded; a computed metric (its catalogue entry
 * names a `formula`) is computed from its operands' series and the sample intervals exactly as
 * the Store computes it (same code, same rounding), so it equals what `store.series()` gave.
 * A derived or unknown metric, or a computed one whose operand has no series, is all null.
 * Also reads schema version 1 sessions (dense series, computed ones stored). A new array each call.
 */
export function sessionSeries(session: Pick<SessionProfile, 'samples' | 'catalogue'>, name: string): Array<number | null> {
  const { t, since } = session.samples;
  const n = t.length;
  const values = new Float64Array(n);
  const out = new Array<number | null>(n);
  let found = storedValues(session, name, values);
  const entry = found || !Object.hasOwn(session.catalogue, name) ? undefined : session.catalogue[name];
  const formula = entry?.formula;
  if (entry && formula && !entry.derivedFrom && storedValues(session, formulaOperand(name, formula.of), values)) {
    const second = new Float64Array(n);
    if (formula.op === 'ratio') {
      found = storedValues(session, formulaOperand(name, formula.by), second);
    } else {
      // Each row's interval, from the time before the first (no `since`: the first has none).
      for (let i = 0; i < n; i++) second[i] = t[i]! - (i === 0 ? (typeof since === 'number' ? since : Number.NaN) : t[i - 1]!);
      found = true;
    }
    if (found) applyFormula(formula.op, entry.unit, values, second, n);
  }
  if (!found) return out.fill(null);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    out[i] = v !== v ? null : v;
  }
  return out;
}

/**
 * The encoder and run list of every `buildSession` (it runs to its end without yielding): one
 * run list for every metric, its values read into it, summarised, then encoded. Kept for the
 * process, not made per session: besides their scratch (about 0.4 MB for 3,600 rows), V8 drops
 * the layout of a class once every instance of it was collected, and with it the code optimised
 * for that layout: with a new encoder per session, each session after a full collection
 * recompiled the encoder (a full ring's session() took about 90 ms instead of 55).
 */
const reused = { encoder: new SeriesEncoder(), runs: new SeriesRuns() };

/** Builds the session profile from the store and what the rules recorded. */
export function buildSession(input: SessionInput): SessionProfile {
  const { store, config } = input;
  const catalogue: SessionProfile['catalogue'] = {};
  const values: Record<string, SessionSeries> = {};
  const stats: Record<string, MetricStatistics> = {};
  const modules = new Map<string, ModuleProfile>();
  const size = store.size;
  const t = store.timeSeries();
  const since = store.timeBeforeFirst();
  const { encoder, runs } = reused;
  for (const info of store.catalogue()) {
    const entry: SessionProfile['catalogue'][string] = {
      unit: info.unit,
      kind: info.kind,
      description: info.description,
      plugin: info.plugin,
    };
    if (info.module) entry.module = info.module.name;
    if (info.unavailable) entry.unavailable = info.unavailable;
    if (info.derivedFrom) entry.derivedFrom = info.derivedFrom;
    const formula = info.formula;
    if (formula) entry.formula = formula.op === 'ratio' ? { op: formula.op, of: formula.of, by: formula.by } : { op: formula.op, of: formula.of };
    catalogue[info.name] = entry;
    if (info.derivedFrom) continue;
    if (store.seriesRuns(info.name, runs) === 0) runs.missing(size);
    // A computed metric's values follow from its operands' (sessionSeries computes them).
    const summary = encoder.encodeRuns(runs, !formula);
    stats[info.name] = summary.stats;
    if (summary.series !== null) values[info.name] = summary.series;
    if (info.module) {
      let profile = modules.get(info.module.name);
      if (!profile) modules.set(info.module.name, (profile = emptyModule(info.module.name)));
      const field = MODULE_FIELD_SUMMARY[info.module.field];
      if (field) (profile[field.key] as number | null) = moduleFigure(summary, field.stat);
    }
  }
  const levels: LevelResult[] = input.evaluation?.levels ?? [];
  for (const level of levels) {
    if (level.kind === 'module') {
      const profile = modules.get(level.subject) ?? emptyModule(level.subject);
      profile.level = level.level;
      modules.set(level.subject, profile);
    }
  }
  return {
    schemaVersion: SESSION_SCHEMA_VERSION,
    sessionId: input.sessionId,
    startedAt: new Date(input.startedAt).toISOString(),
    endedAt: new Date(input.endedAt).toISOString(),
    durationMs: input.endedAt - input.startedAt,
    host: sessionHost(),
    node: process.version,
    pid: process.pid,
    config: sessionConfig(config, input.rules),
    catalogue,
    samples: { t, since, values },
    statistics: stats,
    modules: [...modules.values()].sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1)),
    levels: levels.map(({ subject, kind, level }) => ({ subject, kind, level })),
    alerts: input.records.alerts.slice(),
    recommendations: [...input.records.recommendations.values()].map((r) => ({ ...r })),
    overhead: sessionOverhead(input.overhead),
    faults: input.faults,
    actions: input.actions,
  };
}

/** The profiler's cost with this process's heap and RSS now, as a session records it. */
export function sessionOverhead(overhead: Overhead): SessionProfile['overhead'] {
  const memory = process.memoryUsage();
  return { ...overhead, heapUsedMb: memory.heapUsed / MB, rssMb: memory.rss / MB };
}

/** This machine, as a session records it. */
export function sessionHost(): SessionProfile['host'] {
  return {
    hostname: os.hostname(),
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    totalMemoryMb: Math.round(os.totalmem() / MB),
  };
}

/** The summary of a config (and the rule files in force, paths relative to its folder) a session records. */
export function sessionConfig(config: ResolvedConfig, rules: SessionInput['rules']): SessionProfile['config'] {
  return {
    file: config.configFile,
    sampleIntervalMs: config.sampleIntervalMs,
    evaluateEveryMs: config.evaluateEveryMs,
    maxSamples: config.maxSamples,
    windowSeconds: config.windowSeconds,
    plugins: config.plugins.map((p) => p.name),
    reporters: config.reporters.map((p) => p.name),
    rules: rules.map((r) => ({ ...r, file: path.relative(config.baseDir, r.file) || r.file })),
  };
}

/** What the schema cannot say about the series: their lengths and rows. */
function seriesProblems(session: SessionProfile): string[] {
  const problems: string[] = [];
  const n = session.samples.t.length;
  const expected = `${n} (the number of times in "samples.t")`;
  for (const [name, series] of Object.entries(session.samples.values)) {
    const where = `"samples.values[${JSON.stringify(name)}]"`;
    if (Array.isArray(series)) {
      if (series.length !== n) problems.push(`${where} has ${series.length} values, expected ${n} (one per time in "samples.t").`);
    } else if ('runs' in series) {
      const rows = series.runs.reduce((sum, r) => sum + r, 0);
      if (series.runs.length !== series.v.length) problems.push(`${where} has ${series.runs.length} runs and ${series.v.length} values: expected as many.`);
      if (rows !== n) problems.push(`${where} has runs of ${rows} rows in all, expected ${expected}.`);
    } else {
      const { at, v } = series;
      if (at.length !== v.length) problems.push(`${where} has ${at.length} rows in "at" and ${v.length} values in "v": expected as many.`);
      const bad = at.findIndex((row, i) => row >= n || (i > 0 && row <= at[i - 1]!));
      if (bad >= 0) problems.push(`"samples.values[${JSON.stringify(name)}].at[${bad}]" is ${at[bad]}: expected rows in ascending order, each below ${expected}.`);
    }
    if (problems.length >= 10) break;
  }
  return problems.slice(0, 10);
}

/**
 * Checks a parsed session file (schema version 2); throws SESSION_INVALID naming what is wrong,
 * and saying so when the file is of an older version.
 */
export function validateSession(data: unknown, source = 'session'): asserts data is SessionProfile {
  const version = typeof data === 'object' && data !== null ? (data as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version === 1) {
    throw new LoadlightError(
      'SESSION_INVALID',
      `${source} is a loadlight session of schema version 1, written by an older loadlight: this loadlight reads schema version 2 ` +
        '(mostly empty series stored sparse, computed metrics left out of the samples). Read it with the loadlight that wrote it.',
    );
  }
  const validate = compileSchema(sessionProfileSchema);
  const lines = validate(data) ? seriesProblems(data as SessionProfile) : formatAjvErrors(validate.errors ?? [], data).slice(0, 10);
  if (lines.length === 0) return;
  throw new LoadlightError('SESSION_INVALID', `${source} is not a valid loadlight session:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
}
