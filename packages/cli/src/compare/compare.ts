import { resolutionOf, sessionSeries, statistics, type BudgetStat, type MetricKind, type SessionProfile } from '@loadlight/core';
import { directionOf, type Direction } from './metrics.js';
import { mannWhitney } from './stats.js';

/** A change counts as beyond noise when the test's p-value is below this... */
export const DEFAULT_ALPHA = 0.01;
/**
 * ...and both the statistic and the median moved by at least this many percent of the baseline's.
 * Two runs of the same code differ by a few percent (JIT, GC heuristics, cache, what else the host
 * runs; latency percentiles move in histogram steps of ~8 %) in ways the samples of one run cannot
 * show: this floor keeps that from being flagged.
 */
export const DEFAULT_MIN_CHANGE_PERCENT = 10;
/** Fewer values than this on either side: no verdict. */
export const MIN_SAMPLES = 5;

export interface CompareOptions {
  alpha?: number;
  minChangePercent?: number;
}

/** One session's values of one metric: per-sample statistics (a counter's: per minute). */
export interface SideSummary {
  /** Samples that hold a value (for a counter: with a tick interval before them). */
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  last: number | null;
  /** A counter's total per minute of the time its samples cover; a gauge's: null. */
  ratePerMinute: number | null;
}

/**
 * - `better` / `worse`: beyond noise, in the metric's direction; `changed`: beyond noise, for a
 *   metric with no better direction; `same`: within noise.
 * - `too-few-samples`: fewer than MIN_SAMPLES values on a side; `added` / `removed`: values in
 *   one session only; `no-data`: in neither; `incomparable`: the unit or kind differs.
 */
export type Verdict = 'better' | 'worse' | 'changed' | 'same' | 'too-few-samples' | 'added' | 'removed' | 'no-data' | 'incomparable';

export interface MetricComparison {
  name: string;
  unit: string;
  kind: MetricKind;
  description: string;
  /** The profiled module it belongs to (`module.<module>.<field>`), else null. */
  module: string | null;
  field: string | null;
  direction: Direction;
  /** The statistic shown and compared: `mean` for a gauge, `rate_per_minute` for a counter. */
  stat: BudgetStat;
  baseline: SideSummary | null;
  current: SideSummary | null;
  baselineValue: number | null;
  currentValue: number | null;
  /** current - baseline, in the unit (per minute for a counter). */
  change: number | null;
  /** change as a percent of |baseline|; null when the baseline is 0 and the current is not. */
  changePercent: number | null;
  /** Two-sided p-value of the Mann-Whitney U test of the per-sample values; null without a test. */
  p: number | null;
  /** The variance factor applied for autocorrelation (1 = none); null without a test. */
  inflation: number | null;
  /** Which way the samples moved (1: the current's tend to be higher), from the test; 0 without one. */
  shift: -1 | 0 | 1;
  /** Whether the samples moved (p below alpha), the way the statistic moved. */
  significant: boolean;
  /**
   * significant, and both the statistic and the median moved by at least the minimum change (an
   * outlier that pulls the mean is no change of the typical sample; in a mostly-zero series, with
   * a median of 0 on both sides, the statistic decides alone).
   */
  beyondNoise: boolean;
  verdict: Verdict;
  /** Why there is no verdict, for `incomparable`. */
  note?: string;
}

export interface SessionInfo {
  file: string;
  sessionId: string;
  startedAt: string;
  durationMs: number;
  samples: number;
  sampleIntervalMs: number;
  hostname: string;
  cpus: number;
}

export interface Comparison {
  baseline: SessionInfo;
  current: SessionInfo;
  method: { test: string; alpha: number; minChangePercent: number; minSamples: number };
  metrics: MetricComparison[];
  /** Differences between the sessions that make a comparison less fair (host, sampling). */
  warnings: string[];
  /** The per-sample values each side was judged on (a counter's per minute), by metric name. */
  series: Map<string, { baseline: number[]; current: number[] }>;
}

type Entry = SessionProfile['catalogue'][string];

/**
 * The per-sample values of a metric: a gauge's as the session holds them (a sparse series
 * expanded, a computed one computed: core's `sessionSeries`); a counter's as a rate per minute of
 * each tick's interval (events in the tick / its length), so that sessions sampled at different
 * intervals compare. Also a counter's total per minute of the time those ticks cover.
 */
export function perSampleValues(session: SessionProfile, name: string, kind: MetricKind): { values: number[]; ratePerMinute: number | null } {
  const t = session.samples.t;
  const series = sessionSeries(session, name);
  const values: number[] = [];
  if (kind !== 'counter') {
    for (const v of series) if (v !== null && Number.isFinite(v)) values.push(v);
    return { values, ratePerMinute: null };
  }
  const since = (session.samples as { since?: unknown }).since;
  let sum = 0;
  let time = 0;
  for (let i = 0; i < series.length; i++) {
    const v = series[i];
    const dt = t[i]! - (i > 0 ? t[i - 1]! : typeof since === 'number' ? since : Number.NaN);
    if (v === null || v === undefined || !Number.isFinite(v) || !(dt > 0)) continue;
    values.push((v / dt) * 60_000);
    sum += v;
    time += dt;
  }
  return { values, ratePerMinute: time > 0 ? (sum / time) * 60_000 : null };
}

/** to - from; 0 when they differ only in the last bits (means of the same values summed in another order). */
export function difference(from: number, to: number): number {
  return Math.abs(to - from) <= 1e-9 * Math.max(Math.abs(from), Math.abs(to)) ? 0 : to - from;
}

function summarize(values: number[], ratePerMinute: number | null): SideSummary {
  const s = statistics(values);
  return { count: s.count, mean: s.mean, min: s.min, max: s.max, p50: s.p50, p95: s.p95, p99: s.p99, last: s.last, ratePerMinute };
}

/** The value of `stat` on one side (`rate_per_minute` of a gauge: its mean). */
export function statValue(side: SideSummary | null, stat: BudgetStat): number | null {
  if (!side || side.count === 0) return null;
  if (stat === 'rate_per_minute') return side.ratePerMinute ?? side.mean;
  return side[stat];
}

export function defaultStat(kind: MetricKind): BudgetStat {
  return kind === 'counter' ? 'rate_per_minute' : 'mean';
}

function info(session: SessionProfile, file: string): SessionInfo {
  return {
    file,
    sessionId: session.sessionId,
    startedAt: session.startedAt,
    durationMs: session.durationMs,
    samples: session.samples.t.length,
    sampleIntervalMs: session.config.sampleIntervalMs,
    hostname: session.host.hostname,
    cpus: session.host.cpus,
  };
}

/** The smallest change worth reporting for a unit: one step of the resolution it is held at. */
function resolutionStep(unit: string, kind: MetricKind): number {
  if (kind === 'counter') return 0;
  const { scale, rounded } = resolutionOf(unit);
  return rounded ? 1 / scale : 0;
}

/** Names in the order of the baseline's catalogue, then the current's new ones; derived metrics (no samples) left out. */
function metricNames(baseline: SessionProfile, current: SessionProfile): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const catalogue of [baseline.catalogue, current.catalogue]) {
    for (const [name, entry] of Object.entries(catalogue)) {
      if (seen.has(name) || entry.derivedFrom) continue;
      seen.add(name);
      names.push(name);
    }
  }
  // Module metrics after the others, grouped by module (in order of first appearance).
  const modules = new Map<string, number>();
  const moduleOf = (name: string) => (Object.hasOwn(baseline.catalogue, name) ? baseline.catalogue[name] : current.catalogue[name])?.module;
  for (const name of names) {
    const m = moduleOf(name);
    if (m !== undefined && !modules.has(m)) modules.set(m, modules.size);
  }
  const rank = (name: string) => {
    const m = moduleOf(name);
    return m === undefined ? -1 : modules.get(m)!;
  };
  return names.map((name, i) => ({ name, i, r: rank(name) })).sort((x, y) => x.r - y.r || x.i - y.i).map((x) => x.name);
}

/**
 * Compares two sessions metric by metric: the change of each metric's statistic, its direction,
 * and whether it exceeds noise (see the README: Mann-Whitney U over the per-sample values, with
 * an autocorrelation correction, p < alpha, and a change of at least minChangePercent).
 */
export function compareSessions(
  baseline: SessionProfile,
  current: SessionProfile,
  files: { baseline: string; current: string },
  options: CompareOptions = {},
): Comparison {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const minChangePercent = options.minChangePercent ?? DEFAULT_MIN_CHANGE_PERCENT;
  const metrics: MetricComparison[] = [];
  const series = new Map<string, { baseline: number[]; current: number[] }>();
  for (const name of metricNames(baseline, current)) {
    const inBaseline: Entry | undefined = Object.hasOwn(baseline.catalogue, name) ? baseline.catalogue[name] : undefined;
    const inCurrent: Entry | undefined = Object.hasOwn(current.catalogue, name) ? current.catalogue[name] : undefined;
    const entry = (inCurrent ?? inBaseline)!;
    const module = entry.module ?? null;
    const prefix = module === null ? null : `module.${module}.`;
    const row: MetricComparison = {
      name,
      unit: entry.unit,
      kind: entry.kind,
      description: entry.description,
      module,
      field: prefix !== null && name.startsWith(prefix) ? name.slice(prefix.length) : null,
      direction: directionOf(name, entry.unit),
      stat: defaultStat(entry.kind),
      baseline: null,
      current: null,
      baselineValue: null,
      currentValue: null,
      change: null,
      changePercent: null,
      p: null,
      inflation: null,
      shift: 0,
      significant: false,
      beyondNoise: false,
      verdict: 'no-data',
    };
    metrics.push(row);
    if (inBaseline && inCurrent && (inBaseline.unit !== inCurrent.unit || inBaseline.kind !== inCurrent.kind)) {
      row.verdict = 'incomparable';
      row.note = `the baseline has it in ${inBaseline.unit} (${inBaseline.kind}), the current in ${inCurrent.unit} (${inCurrent.kind})`;
      continue;
    }
    const a = inBaseline ? perSampleValues(baseline, name, entry.kind) : null;
    const b = inCurrent ? perSampleValues(current, name, entry.kind) : null;
    if (a) row.baseline = summarize(a.values, a.ratePerMinute);
    if (b) row.current = summarize(b.values, b.ratePerMinute);
    row.baselineValue = statValue(row.baseline, row.stat);
    row.currentValue = statValue(row.current, row.stat);
    series.set(name, { baseline: a?.values ?? [], current: b?.values ?? [] });
    const na = a?.values.length ?? 0;
    const nb = b?.values.length ?? 0;
    if (na === 0 || nb === 0) {
      row.verdict = na === 0 && nb === 0 ? 'no-data' : na === 0 ? 'added' : 'removed';
      continue;
    }
    const from = row.baselineValue!;
    const to = row.currentValue!;
    row.change = difference(from, to);
    row.changePercent = from !== 0 ? (row.change / Math.abs(from)) * 100 : row.change === 0 ? 0 : null;
    if (na < MIN_SAMPLES || nb < MIN_SAMPLES) {
      row.verdict = 'too-few-samples';
      continue;
    }
    const test = mannWhitney(a!.values, b!.values);
    row.p = test.p;
    row.inflation = test.inflation;
    // The samples' shift must point the way the statistic moved (a mean pulled up by one outlier
    // while most samples went down is no clear change).
    row.shift = Math.sign((na * nb) / 2 - test.u) as -1 | 0 | 1;
    row.significant = test.p < alpha && row.shift !== 0 && row.shift === Math.sign(row.change);
    const step = resolutionStep(entry.unit, entry.kind);
    const moved = (x: number, y: number) => Math.abs(difference(x, y)) >= Math.max((minChangePercent / 100) * Math.abs(x), step);
    const medians = [row.baseline!.p50!, row.current!.p50!] as const;
    const typicalMoved = (medians[0] === 0 && medians[1] === 0) || moved(...medians);
    row.beyondNoise = row.significant && moved(from, to) && typicalMoved;
    if (!row.beyondNoise) row.verdict = 'same';
    else if (row.direction === 'none') row.verdict = 'changed';
    else row.verdict = (row.change < 0) === (row.direction === 'lower') ? 'better' : 'worse';
  }
  const warnings: string[] = [];
  if (baseline.host.hostname !== current.host.hostname || baseline.host.cpus !== current.host.cpus) {
    warnings.push(
      `the sessions come from different hosts (${baseline.host.hostname}, ${baseline.host.cpus} CPUs; ${current.host.hostname}, ${current.host.cpus} CPUs)`,
    );
  }
  if (baseline.config.sampleIntervalMs !== current.config.sampleIntervalMs) {
    warnings.push(
      `the sessions were sampled at different intervals (${baseline.config.sampleIntervalMs} ms, ${current.config.sampleIntervalMs} ms): per-tick figures such as latency percentiles differ for that alone`,
    );
  }
  return {
    baseline: info(baseline, files.baseline),
    current: info(current, files.current),
    method: { test: 'mann-whitney-u (autocorrelation-corrected, two-sided)', alpha, minChangePercent, minSamples: MIN_SAMPLES },
    metrics,
    warnings,
    series,
  };
}
