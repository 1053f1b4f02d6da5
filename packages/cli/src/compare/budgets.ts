import { LoadlightError, rankIndex, suggest, type Budget, type BudgetLimits, type BudgetStat } from '@loadlight/core';
import { difference, MIN_SAMPLES, statValue, type Comparison, type MetricComparison } from './compare.js';
import { blockBootstrap, hashSeed, seededRandom } from './stats.js';

export type LimitName = keyof BudgetLimits;

/** The limits, in the order they are checked and shown. */
export const LIMITS: readonly LimitName[] = ['max', 'min', 'maxIncrease', 'maxIncreasePercent', 'maxDecrease', 'maxDecreasePercent'];

/** Limits on the change from the baseline (judged beyond noise by a bootstrap), not on the current value alone. */
const RELATIVE: ReadonlySet<LimitName> = new Set(['maxIncrease', 'maxIncreasePercent', 'maxDecrease', 'maxDecreasePercent']);

export interface LimitCheck {
  limit: LimitName;
  value: number;
  /** What is compared with `value`: the current statistic, or the change (absolute or percent). */
  actual: number | null;
  /** Past the limit. */
  over: boolean;
  /**
   * Past the limit and, for a change, beyond noise: the change of the statistic is past the limit
   * in at least 1 - alpha of the bootstrap resamples (p < alpha). A failure.
   */
  failed: boolean;
  /** The share of resamples whose change is within the limit (null for max / min, `last`, or too few samples). */
  p: number | null;
}

/**
 * - `ok`: within every limit.
 * - `within-noise`: a change is past its limit, but not in at least 1 - alpha of the bootstrap
 *   resamples (p >= alpha): not a failure.
 * - `exceeded`: a limit is failed.
 * - `not-measured`: a session lacks the values a limit needs: a failure (a gate that cannot check
 *   must not pass).
 */
export type BudgetStatus = 'ok' | 'within-noise' | 'exceeded' | 'not-measured';

export interface BudgetResult {
  metric: string;
  stat: BudgetStat;
  unit: string;
  kind: MetricComparison['kind'];
  baseline: number | null;
  current: number | null;
  change: number | null;
  changePercent: number | null;
  /** The metric's two-sided p-value (whether its samples moved at all). */
  p: number | null;
  checks: LimitCheck[];
  status: BudgetStatus;
  /** Why it is not measured. */
  note?: string;
}

/** Whether a budget's status fails the gate. */
export function fails(result: BudgetResult): boolean {
  return result.status === 'exceeded' || result.status === 'not-measured';
}

function changePercent(from: number, to: number): number {
  const change = difference(from, to);
  if (from !== 0) return (change / Math.abs(from)) * 100;
  return change === 0 ? 0 : change > 0 ? Infinity : -Infinity;
}

/**
 * Checks the config's budgets against a comparison. A budget naming a metric in neither session,
 * or setting no limit, is a mistake in the config: one LoadlightError lists them all (with a
 * "did you mean"), naming `where` (the config file).
 */
export function checkBudgets(budgets: Record<string, Budget>, comparison: Comparison, where: string): BudgetResult[] {
  const byName = new Map(comparison.metrics.map((m) => [m.name, m]));
  const alpha = comparison.method.alpha;
  const problems: string[] = [];
  for (const [metric, budget] of Object.entries(budgets)) {
    if (!LIMITS.some((limit) => budget[limit] !== undefined)) {
      problems.push(`budget "${metric}" sets no limit: give one of ${LIMITS.join(', ')}.`);
    }
    if (!byName.has(metric)) {
      const hint = suggest(metric, byName.keys());
      problems.push(`budget "${metric}": no such metric in either session.${hint ? ` Did you mean "${hint}"?` : ''}`);
    }
  }
  if (problems.length > 0) {
    throw new LoadlightError(
      'CONFIG_INVALID',
      problems.length === 1 ? `${where}: ${problems[0]}` : `${where}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return Object.entries(budgets).map(([metric, budget]) =>
    checkBudget(metric, budget, byName.get(metric)!, comparison.series.get(metric) ?? { baseline: [], current: [] }, alpha),
  );
}

function checkBudget(
  metric: string,
  budget: Budget,
  row: MetricComparison,
  samples: { baseline: number[]; current: number[] },
  alpha: number,
): BudgetResult {
  const stat = budget.stat ?? row.stat;
  const baseline = statValue(row.baseline, stat);
  const current = statValue(row.current, stat);
  const result: BudgetResult = {
    metric,
    stat,
    unit: row.unit,
    kind: row.kind,
    baseline,
    current,
    change: baseline !== null && current !== null ? difference(baseline, current) : null,
    changePercent: baseline !== null && current !== null ? changePercent(baseline, current) : null,
    p: row.p,
    checks: [],
    status: 'ok',
  };
  if (row.verdict === 'incomparable') {
    result.status = 'not-measured';
    result.note = row.note ?? 'the sessions measure it differently';
    return result;
  }
  const missing: string[] = [];
  for (const limit of LIMITS) {
    const value = budget[limit];
    if (value === undefined) continue;
    const relative = RELATIVE.has(limit);
    if (current === null || (relative && baseline === null)) {
      missing.push(current === null ? 'the current session has no values' : 'the baseline has no values');
      continue;
    }
    let actual: number;
    let over: boolean;
    switch (limit) {
      case 'max':
        actual = current;
        over = current > value;
        break;
      case 'min':
        actual = current;
        over = current < value;
        break;
      case 'maxIncrease':
        actual = result.change!;
        over = actual > value;
        break;
      case 'maxDecrease':
        actual = -result.change!;
        over = actual > value;
        break;
      case 'maxIncreasePercent':
        actual = result.changePercent!;
        over = actual > value;
        break;
      case 'maxDecreasePercent':
        actual = -result.changePercent!;
        over = actual > value;
        break;
    }
    // A change past its limit fails only when the change of the statistic is past the limit in
    // at least 1 - alpha of the bootstrap resamples of both sessions: p is the share where it is
    // not. With too few samples, or for `last` (one value, nothing to resample), past the limit fails.
    let p: number | null = null;
    if (relative && over && stat !== 'last' && samples.baseline.length >= MIN_SAMPLES && samples.current.length >= MIN_SAMPLES) {
      p = bootstrapP(samples, stat, limit, value, `${metric}|${limit}`);
    }
    const real = p === null || p < alpha;
    result.checks.push({ limit, value, actual, over, failed: over && (!relative || real), p });
  }
  if (missing.length > 0) {
    result.status = 'not-measured';
    result.note = [...new Set(missing)].join('; ');
  } else if (result.checks.some((c) => c.failed)) {
    result.status = 'exceeded';
  } else if (result.checks.some((c) => c.over)) {
    result.status = 'within-noise';
  }
  return result;
}

/** Resamples per session for a relative limit: p is resolved to 1 / RESAMPLES. */
export const RESAMPLES = 1000;

/** The statistic of a resampled series (nearest-rank quantiles, as core's `statistics`). */
function statOf(stat: BudgetStat): (sample: Float64Array) => number {
  const quantile = (q: number) => (sample: Float64Array) => {
    sample.sort();
    return sample[rankIndex(q, sample.length)]!;
  };
  switch (stat) {
    case 'min':
      return (s) => s.reduce((a, b) => Math.min(a, b), Infinity);
    case 'max':
      return (s) => s.reduce((a, b) => Math.max(a, b), -Infinity);
    case 'p50':
      return quantile(0.5);
    case 'p95':
      return quantile(0.95);
    case 'p99':
      return quantile(0.99);
    default:
      // mean, and a counter's rate per minute (the mean of its per-tick rates)
      return (s) => s.reduce((a, b) => a + b, 0) / s.length;
  }
}

/**
 * The share of bootstrap resamples in which the change of `stat` is NOT past the limit: a
 * one-sided bootstrap p-value for "the change exceeds the limit". Seeded by `seed`.
 */
function bootstrapP(samples: { baseline: number[]; current: number[] }, stat: BudgetStat, limit: LimitName, value: number, seed: string): number {
  const random = seededRandom(hashSeed(seed));
  const f = statOf(stat);
  const a = blockBootstrap(samples.baseline, f, RESAMPLES, random);
  const b = blockBootstrap(samples.current, f, RESAMPLES, random);
  const percent = limit.endsWith('Percent');
  const decrease = limit.startsWith('maxDecrease');
  let within = 0;
  for (let i = 0; i < RESAMPLES; i++) {
    const change = percent ? changePercent(a[i]!, b[i]!) : difference(a[i]!, b[i]!);
    if (!((decrease ? -change : change) > value)) within++;
  }
  return within / RESAMPLES;
}
