import os from 'node:os';
import path from 'node:path';
import { LoadlightError } from './errors.js';
import { SESSION_SCHEMA_VERSION, sessionProfileSchema } from './session-schema.js';
import { applyFormula, formulaOperand, rankIndex, statistics, type Store } from './store.js';
import type {
  ActionRecord,
  Evaluation,
  Fault,
  LevelResult,
  MetricInfo,
  MetricStatistics,
  ModuleProfile,
  Overhead,
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
/** Ranges this short (or histogram levels this deep) are finished by quickselect. */
const SMALL_RANGE = 32;
const MAX_LEVELS = 4;

/**
 * Computes the same statistics as the store's `statistics()` (nearest-rank p50/p95/p99 of the
 * values, nulls and NaN skipped) without sorting each series: a histogram of the values over
 * [min, max] (monotone, so the bucket of the k-th smallest value is found by counting) narrows
 * each rank to one bucket, resolved by a deeper level or quickselect. A series of at most a few
 * thousand distinct whole steps (counters, values at a unit's resolution) is settled by the
 * first level alone. Series holding -0 or an infinity go to `statistics()` itself, so that
 * every result is identical to it. Scratch buffers are reused from one series to the next.
 */
export class SeriesSummarizer {
  private values: Float64Array;
  private gathered: Float64Array;
  private bucketOf: Uint16Array;
  private readonly counts = new Int32Array(MAX_BUCKETS);
  /** Set by `bucket()`: whether each bucket holds one value (`min + bucket`). */
  private exact = false;

  constructor(capacity = 0) {
    this.values = new Float64Array(capacity);
    this.gathered = new Float64Array(capacity);
    this.bucketOf = new Uint16Array(capacity);
  }

  /**
   * The statistics and total of `series`; with `nanIsMissing`, NaN is a missing value like null
   * (as in the Store's typed arrays), else it makes the total NaN.
   */
  summarize(series: ArrayLike<number | null>, nanIsMissing = false): SeriesSummary {
    if (series.length > this.values.length) {
      this.values = new Float64Array(series.length);
      this.gathered = new Float64Array(series.length);
      this.bucketOf = new Uint16Array(series.length);
    }
    const values = this.values;
    let n = 0;
    let sum = 0;
    let sawNaN = false;
    let special = false;
    let min = Infinity;
    let max = -Infinity;
    let last: number | null = null;
    const length = series.length;
    for (let i = 0; i < length; i++) {
      const v = series[i];
      if (v === null || v === undefined) continue;
      if (v !== v) {
        if (!nanIsMissing) sawNaN = true;
        continue;
      }
      values[n++] = v;
      sum += v;
      last = v;
      if (v < min) min = v;
      if (v > max) max = v;
      // -0 sorts before 0 in a typed-array sort; the histogram cannot tell them apart.
      if (v === 0 && Object.is(v, -0)) special = true;
    }
    // The total adds every value in order, as `reduce((s, v) => s + (v ?? 0), 0)` would.
    const total = sawNaN ? NaN : sum;
    if (n === 0) return { stats: { count: 0, min: null, max: null, mean: null, p50: null, p95: null, p99: null, last: null }, total };
    if (special || !Number.isFinite(max - min)) return { stats: statistics(series), total };
    const k50 = rankIndex(0.5, n);
    const k95 = rankIndex(0.95, n);
    const k99 = rankIndex(0.99, n);
    let p50 = min;
    let p95 = min;
    let p99 = min;
    if (min !== max) {
      this.bucket(values, 0, n, min, max);
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
        p50 = min + b50;
        p95 = min + b95;
        p99 = min + b99;
      } else {
        // The values of the (at most three) buckets, one segment each, in one pass.
        const n50 = counts[b50]!;
        const n95 = counts[b95]!;
        const n99 = counts[b99]!;
        const at50 = 0;
        const at95 = b95 === b50 ? at50 : at50 + n50;
        const at99 = b99 === b95 ? at95 : at95 + n95;
        const gathered = this.gathered;
        const bucketOf = this.bucketOf;
        let w50 = at50;
        let w95 = at95;
        let w99 = at99;
        for (let i = 0; i < n; i++) {
          const bi = bucketOf[i];
          if (bi === b50) gathered[w50++] = values[i]!;
          else if (bi === b95) gathered[w95++] = values[i]!;
          else if (bi === b99) gathered[w99++] = values[i]!;
        }
        p50 = this.kth(gathered, at50, n50, k50 - below50);
        p95 = this.kth(gathered, at95, n95, k95 - below95);
        p99 = this.kth(gathered, at99, n99, k99 - below99);
      }
    }
    return { stats: { count: n, min, max, mean: sum / n, p50, p95, p99, last }, total };
  }

  /**
   * Histogram of a[from, from + n) over [min, max] (min < max, both finite): `bucketOf[i]` for
   * a[from + i], `counts[b]`. The bucket of a value never decreases as the value grows.
   */
  private bucket(a: Float64Array, from: number, n: number, min: number, max: number): void {
    const range = max - min;
    // Whole numbers a few thousand apart at most: one bucket per step, maybe one value each.
    const stepwise = range < MAX_BUCKETS && range < 2 * n && Number.isInteger(min) && Number.isInteger(max);
    const buckets = stepwise ? Math.floor(range) + 1 : Math.min(MAX_BUCKETS, n);
    const scale = stepwise ? 1 : buckets / range;
    const top = buckets - 1;
    const counts = this.counts;
    const bucketOf = this.bucketOf;
    counts.fill(0, 0, buckets);
    let exact = stepwise;
    for (let i = 0; i < n; i++) {
      const v = a[from + i]!;
      let b = ((v - min) * scale) | 0;
      if (b > top) b = top;
      bucketOf[i] = b;
      counts[b]!++;
      // A bucket whose every value equals min + b holds that one value.
      if (exact && min + b !== v) exact = false;
    }
    this.exact = exact;
  }

  /** The k-th smallest (0-based) of a[from, from + n); reorders that range. */
  private kth(a: Float64Array, from: number, n: number, k: number): number {
    for (let level = 0; n > SMALL_RANGE && level < MAX_LEVELS; level++) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = from; i < from + n; i++) {
        const v = a[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (min === max) return min;
      if (!Number.isFinite(MAX_BUCKETS / (max - min))) break;
      this.bucket(a, from, n, min, max);
      const counts = this.counts;
      let b = 0;
      let below = 0;
      while (below + counts[b]! <= k) below += counts[b++]!;
      if (this.exact) return min + b;
      // Move that bucket's values to the front of the range, and look only there.
      const bucketOf = this.bucketOf;
      let w = from;
      for (let i = 0; i < n; i++) {
        if (bucketOf[i] !== b) continue;
        const t = a[w]!;
        a[w++] = a[from + i]!;
        a[from + i] = t;
      }
      n = counts[b]!;
      k -= below;
    }
    return quickselect(a, from, from + n - 1, from + k);
  }
}

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
        let fraction = k - whole * 1e6;
        let decimals = 6;
        while (fraction % 10 === 0) {
          fraction /= 10;
          decimals--;
        }
        return sign + digits(whole) + 1 + decimals;
      }
    }
  }
  return String(sign === 1 ? -x : x).length;
}

/**
 * The first `n` values of `values` (NaN: missing) as a session series, in the form whose compact
 * JSON is shortest (see `SessionSeries`; dense on a tie, then sparse). Values JSON cannot hold
 * (infinities) are missing, as JSON would write them (null). The lengths are counted exactly
 * without writing anything: the forms differ by their structure (nulls, commas, row indices, run
 * lengths) and by the values a run holds once rather than on every row.
 */
export function encodeSeries(values: Float64Array, n: number): SessionSeries {
  // Present rows, and the text of their indices: counted by ranges of as many digits.
  let present = 0;
  let indexText = 0;
  for (let from = 0, to = 10, width = 1; from < n; from = to, to *= 10, width++) {
    const end = Math.min(to, n);
    let count = 0;
    for (let i = from; i < end; i++) {
      const x = values[i]!;
      if (x - x === 0) count++;
    }
    present += count;
    indexText += count * width;
  }
  // Runs of rows holding one value, or missing (NaN and infinities alike).
  let runs = 0;
  let runText = 0;
  let missingRuns = 0;
  /** Value text the runs form writes once where the others write it on every row of its run. */
  let repeated = 0;
  let start = 0;
  let head = n > 0 ? values[0]! : 0;
  let headMissing = head - head !== 0;
  for (let i = 1; i <= n; i++) {
    if (i < n) {
      const x = values[i]!;
      if (headMissing ? x - x !== 0 : x === head) continue;
    }
    const length = i - start;
    runs++;
    runText += digits(length);
    if (headMissing) missingRuns++;
    else if (length > 1) repeated += (length - 1) * numberText(head);
    if (i === n) break;
    start = i;
    head = values[i]!;
    headMissing = head - head !== 0;
  }
  // Each form's text less the text of every present value (the same in all): dense `[` `]`, n - 1
  // commas, `null` per missing row; sparse `{"at":[` `],"v":[` `]}`, the indices, 2 (p - 1)
  // commas; runs `{"runs":[` `],"v":[` `]}`, the lengths, 2 (r - 1) commas, `null` per missing run.
  const dense = n === 0 ? 2 : n + 1 + 4 * (n - present);
  const sparse = present === 0 ? 16 : 14 + indexText + 2 * present;
  const runsForm = n === 0 ? 18 : 16 + runText + 2 * runs + 4 * missingRuns - repeated;
  if (runsForm < dense && runsForm < sparse) {
    const lengths = new Array<number>(runs);
    const heads = new Array<number | null>(runs);
    let r = 0;
    start = 0;
    for (let i = 1; i <= n; i++) {
      const x = values[start]!;
      if (i < n && (x - x !== 0 ? values[i]! - values[i]! !== 0 : values[i]! === x)) continue;
      lengths[r] = i - start;
      heads[r++] = x - x === 0 ? x : null;
      start = i;
    }
    return { runs: lengths, v: heads };
  }
  if (sparse < dense) {
    const at = new Array<number>(present);
    const v = new Array<number>(present);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      if (x - x !== 0) continue;
      at[k] = i;
      v[k++] = x;
    }
    return { at, v };
  }
  const out = new Array<number | null>(n);
  if (present === n) {
    for (let i = 0; i < n; i++) out[i] = values[i]!;
  } else {
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      out[i] = x - x === 0 ? x : null;
    }
  }
  return out;
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
 * The last few series read of metrics that are operands of a formula: a computed metric declared
 * after its operands (a module's `calls_per_minute` after its `calls`) is computed from them
 * rather than read from the Store again. A fixed number of buffers, reused.
 */
class RecentOperands {
  private readonly names: Array<string | null>;
  private readonly buffers: Float64Array[];
  private next = 0;

  constructor(count: number, size: number) {
    this.names = new Array<string | null>(count).fill(null);
    this.buffers = Array.from({ length: count }, () => new Float64Array(size));
  }

  put(name: string, values: Float64Array): void {
    this.buffers[this.next]!.set(values);
    this.names[this.next] = name;
    this.next = (this.next + 1) % this.names.length;
  }

  get(name: string): Float64Array | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : this.buffers[i];
  }
}

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
  const summarizer = new SeriesSummarizer(size);
  // One buffer for every metric: the values are read into it, summarised, then encoded.
  const buffer = new Float64Array(size);
  // Computed metrics: each row's interval, and their operands' series as they are read.
  const operands = new Set<string>();
  for (const info of store.catalogue()) {
    const formula = info.formula;
    if (!formula) continue;
    operands.add(formulaOperand(info.name, formula.of));
    if (formula.op === 'ratio') operands.add(formulaOperand(info.name, formula.by));
  }
  const recent = new RecentOperands(operands.size > 0 ? 8 : 0, size);
  const intervals = new Float64Array(operands.size > 0 ? size : 0);
  for (let i = 0; i < intervals.length; i++) intervals[i] = t[i]! - (i === 0 ? since : t[i - 1]!);
  /** A metric's values into `buffer`; false when it has none. A formula computed as the Store does (`applyFormula`). */
  const read = (info: MetricInfo): boolean => {
    const formula = info.formula;
    if (formula) {
      const of = recent.get(formulaOperand(info.name, formula.of));
      const second = formula.op === 'ratio' ? recent.get(formulaOperand(info.name, formula.by)) : intervals;
      if (of && second) {
        buffer.set(of);
        applyFormula(formula.op, info.unit, buffer, second, size);
        return true;
      }
    }
    if (store.seriesInto(info.name, buffer) === 0) return false;
    // (A computed metric is never an operand: the Store computes from stored values only.)
    if (!formula && operands.has(info.name)) recent.put(info.name, buffer);
    return true;
  };
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
    if (!read(info)) buffer.fill(Number.NaN);
    const summary = summarizer.summarize(buffer, true);
    stats[info.name] = summary.stats;
    // A computed metric's values follow from its operands' (sessionSeries computes them).
    if (!formula) values[info.name] = encodeSeries(buffer, size);
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
  const memory = process.memoryUsage();
  return {
    schemaVersion: SESSION_SCHEMA_VERSION,
    sessionId: input.sessionId,
    startedAt: new Date(input.startedAt).toISOString(),
    endedAt: new Date(input.endedAt).toISOString(),
    durationMs: input.endedAt - input.startedAt,
    host: {
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      cpus: os.availableParallelism(),
      totalMemoryMb: Math.round(os.totalmem() / MB),
    },
    node: process.version,
    pid: process.pid,
    config: {
      file: config.configFile,
      sampleIntervalMs: config.sampleIntervalMs,
      evaluateEveryMs: config.evaluateEveryMs,
      maxSamples: config.maxSamples,
      windowSeconds: config.windowSeconds,
      plugins: config.plugins.map((p) => p.name),
      reporters: config.reporters.map((p) => p.name),
      rules: input.rules.map((r) => ({ ...r, file: path.relative(config.baseDir, r.file) || r.file })),
    },
    catalogue,
    samples: { t, since, values },
    statistics: stats,
    modules: [...modules.values()].sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1)),
    levels: levels.map(({ subject, kind, level }) => ({ subject, kind, level })),
    alerts: input.records.alerts.slice(),
    recommendations: [...input.records.recommendations.values()].map((r) => ({ ...r })),
    overhead: { ...input.overhead, heapUsedMb: memory.heapUsed / MB, rssMb: memory.rss / MB },
    faults: input.faults,
    actions: input.actions,
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
