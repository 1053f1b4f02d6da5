import { LoadlightError } from './errors.js';
import type { MetricInfo, MetricStatistics } from './types.js';

export interface WindowStats {
  /** Samples in the window that hold a value. */
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  p95: number | null;
  last: number | null;
  sum: number;
  /** Sum of the values per minute of the time the window covers (for counters). */
  ratePerMinute: number | null;
  /** Least-squares slope of the values per minute (for growth). */
  slopePerMinute: number | null;
}

const METRIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+$/;

/** Checks a metric name: dotted, lower case, at least two parts (`system.cpu.percent`). */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Nearest-rank quantile of the first `n` values of an ascending array. */
function quantileSorted(sorted: Float64Array, n: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * n));
  return sorted[Math.min(n, rank) - 1]!;
}

/** Statistics of a list of numbers (nulls and NaN skipped). */
export function statistics(values: ArrayLike<number | null>): MetricStatistics {
  const present = new Float64Array(values.length);
  let n = 0;
  let sum = 0;
  let last: number | null = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    present[n++] = v;
    sum += v;
    last = v;
  }
  if (n === 0) return { count: 0, min: null, max: null, mean: null, p50: null, p95: null, p99: null, last: null };
  const sorted = present.subarray(0, n).sort();
  return {
    count: n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean: sum / n,
    p50: quantileSorted(sorted, n, 0.5),
    p95: quantileSorted(sorted, n, 0.95),
    p99: quantileSorted(sorted, n, 0.99),
    last,
  };
}

/**
 * Columnar ring buffers: one Float64Array per metric plus one of times, all of `capacity`
 * rows. NaN marks a missing value. Memory is fixed once a metric is declared.
 */
export class Store {
  readonly capacity: number;
  /** Times before the first sample count from here (rates over the first ticks). */
  readonly originT: number;
  private readonly times: Float64Array;
  private readonly columns: Float64Array[] = [];
  private readonly infos: MetricInfo[] = [];
  private readonly indexByName = new Map<string, number>();
  private head = 0;
  private filled = 0;
  private scratch: Float64Array;

  constructor(capacity = 3600, originT = Date.now()) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new LoadlightError('CONFIG_INVALID', `maxSamples must be a whole number of at least 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.originT = originT;
    this.times = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  /** Number of rows held (at most `capacity`). */
  get size(): number {
    return this.filled;
  }

  /** Bytes held by the ring buffers. */
  get bytes(): number {
    return this.times.byteLength * (1 + this.columns.length) + this.scratch.byteLength;
  }

  /** Adds a metric to the catalogue and gives it a column; returns its column index. */
  declare(info: MetricInfo): number {
    const existing = this.indexByName.get(info.name);
    if (existing !== undefined) {
      const prev = this.infos[existing]!;
      if (prev.plugin !== info.plugin) {
        throw new LoadlightError(
          'METRIC_INVALID',
          `metric "${info.name}" is declared by both "${prev.plugin}" and "${info.plugin}"`,
          { plugin: info.plugin },
        );
      }
      this.infos[existing] = info;
      return existing;
    }
    if (!isValidMetricName(info.name)) {
      throw new LoadlightError(
        'METRIC_INVALID',
        `metric name "${info.name}" from plugin "${info.plugin}" must be dotted lower case, like "queue.depth"`,
        { plugin: info.plugin },
      );
    }
    const index = this.infos.length;
    this.infos.push(info);
    this.indexByName.set(info.name, index);
    this.columns.push(info.derivedFrom ? new Float64Array(0) : new Float64Array(this.capacity).fill(NaN));
    return index;
  }

  indexOf(name: string): number | undefined {
    return this.indexByName.get(name);
  }

  info(name: string): MetricInfo | undefined {
    const i = this.indexByName.get(name);
    return i === undefined ? undefined : this.infos[i];
  }

  /** The metric catalogue, in declaration order. */
  catalogue(): readonly MetricInfo[] {
    return this.infos;
  }

  get metricCount(): number {
    return this.infos.length;
  }

  /** Appends one row: `row[i]` is the value of metric `i` (NaN when missing). */
  commit(t: number, row: ArrayLike<number>): number {
    const at = this.head;
    this.times[at] = t;
    for (let i = 0; i < this.columns.length; i++) {
      const column = this.columns[i]!;
      if (column.length === 0) continue;
      const v = i < row.length ? row[i]! : NaN;
      column[at] = v;
    }
    this.head = (at + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
    return at;
  }

  /** Ring position of the i-th oldest row. */
  private slot(i: number): number {
    return (this.head - this.filled + i + this.capacity) % this.capacity;
  }

  /** Value at a ring position (as returned by `commit`), null when missing. */
  valueAt(name: string, position: number): number | null {
    const i = this.indexByName.get(name);
    if (i === undefined) return null;
    const column = this.columns[i]!;
    if (column.length === 0) return null;
    const v = column[position]!;
    return Number.isNaN(v) ? null : v;
  }

  latestTime(): number | null {
    return this.filled === 0 ? null : this.times[this.slot(this.filled - 1)]!;
  }

  latest(name: string): number | null {
    return this.filled === 0 ? null : this.valueAt(name, this.slot(this.filled - 1));
  }

  /** Sample times, oldest first. */
  timeSeries(): number[] {
    const out = new Array<number>(this.filled);
    for (let i = 0; i < this.filled; i++) out[i] = this.times[this.slot(i)]!;
    return out;
  }

  /** A metric's values, oldest first, null where missing. */
  series(name: string): Array<number | null> {
    const index = this.indexByName.get(name);
    const out = new Array<number | null>(this.filled).fill(null);
    if (index === undefined) return out;
    const column = this.columns[index]!;
    if (column.length === 0) return out;
    for (let i = 0; i < this.filled; i++) {
      const v = column[this.slot(i)]!;
      out[i] = Number.isNaN(v) ? null : v;
    }
    return out;
  }

  /**
   * Statistics over the samples of the last `seconds` up to `now` (default: the newest sample):
   * a sample at time t is in the window when `now - seconds*1000 < t <= now`.
   */
  window(name: string, seconds: number, now?: number): WindowStats {
    const index = this.indexByName.get(name);
    const info = index === undefined ? undefined : this.infos[index];
    const sourceIndex = info?.derivedFrom ? this.indexByName.get(info.derivedFrom) : index;
    const column = sourceIndex === undefined ? undefined : this.columns[sourceIndex];
    const end = now ?? this.latestTime() ?? 0;
    const from = end - seconds * 1000;
    let n = 0;
    let sum = 0;
    let last: number | null = null;
    let previousT: number | null = null;
    // slope accumulators, t in minutes relative to `end`
    let st = 0;
    let stt = 0;
    let sv = 0;
    let stv = 0;
    const values = this.scratch;
    if (column && column.length > 0) {
      for (let i = this.filled - 1; i >= 0; i--) {
        const at = this.slot(i);
        const t = this.times[at]!;
        if (t > end) continue;
        if (t <= from) {
          previousT = t;
          break;
        }
        const v = column[at]!;
        if (Number.isNaN(v)) continue;
        if (last === null) last = v;
        values[n++] = v;
        sum += v;
        const tm = (t - end) / 60_000;
        st += tm;
        stt += tm * tm;
        sv += v;
        stv += tm * v;
      }
    }
    if (n === 0) {
      return { count: 0, mean: null, min: null, max: null, p95: null, last: null, sum: 0, ratePerMinute: null, slopePerMinute: null };
    }
    const sorted = values.subarray(0, n).sort();
    const spanMs = end - Math.max(previousT ?? this.originT, from);
    const denominator = n * stt - st * st;
    return {
      count: n,
      mean: sum / n,
      min: sorted[0]!,
      max: sorted[n - 1]!,
      p95: quantileSorted(sorted, n, 0.95),
      last,
      sum,
      ratePerMinute: spanMs > 0 ? (sum * 60_000) / spanMs : null,
      slopePerMinute: n >= 2 && denominator !== 0 ? (n * stv - st * sv) / denominator : null,
    };
  }
}
