import type { MetricKind, MetricUnit } from '@loadlight/core';

/** Which way a metric should move: `lower` or `higher` is better, `none` when neither is. */
export type Direction = 'lower' | 'higher' | 'none';

/**
 * Name patterns that decide the direction before the unit does (first match wins). Settings are
 * not measurements; errors, late and dropped frames, repeated OCR, waits, delays, GC and busy
 * time are costs whatever their unit; confidence is a quality.
 */
const BY_NAME: ReadonlyArray<[RegExp, Direction]> = [
  [/(^|[._])(target_fps|budget_ms)$/, 'none'],
  [/confidence/, 'higher'],
  [/error|(^|[._])late([._]|$)|dropped|unchanged|wait|delay|(^|[._])gc([._]|$)|utilization/, 'lower'],
];

/**
 * By unit: time, memory, CPU share, load and sizes cost (lower is better); a frame rate is
 * achieved work (higher is better). Rates of work (calls, frames or characters per minute, bytes
 * per second), counts and plain ratios are neither: more calls may be more work done, or work
 * done too often.
 */
const BY_UNIT: Readonly<Record<MetricUnit, Direction>> = {
  percent: 'lower',
  ms: 'lower',
  ms_per_minute: 'lower',
  mb: 'lower',
  mb_per_minute: 'lower',
  bytes: 'lower',
  seconds: 'lower',
  load: 'lower',
  fps: 'higher',
  ratio: 'none',
  count: 'none',
  per_minute: 'none',
  bytes_per_second: 'none',
};

/** The better direction of a metric, from its name, then its unit (an unknown unit: none). */
export function directionOf(name: string, unit: string): Direction {
  for (const [pattern, direction] of BY_NAME) if (pattern.test(name)) return direction;
  return Object.hasOwn(BY_UNIT, unit) ? BY_UNIT[unit as MetricUnit] : 'none';
}

const UNIT_LABEL: Readonly<Record<string, string>> = {
  percent: '%',
  ratio: '',
  ms: 'ms',
  ms_per_minute: 'ms/min',
  mb: 'MB',
  mb_per_minute: 'MB/min',
  bytes: 'B',
  bytes_per_second: 'B/s',
  count: '',
  per_minute: '/min',
  fps: 'fps',
  seconds: 's',
  load: '',
};

/** How values are shown: a counter's statistics are per minute (`ms/min` of CPU, `/min` calls). */
export function unitLabel(unit: string, kind: MetricKind): string {
  const label = Object.hasOwn(UNIT_LABEL, unit) ? UNIT_LABEL[unit]! : unit;
  if (kind !== 'counter') return label;
  return label === '' ? '/min' : `${label}/min`;
}

/** A number for a table: about three significant digits, no exponent for ordinary values. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 1e15 || abs < 1e-4) return value.toExponential(2);
  if (abs >= 100) return Math.round(value).toString();
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** `12.5 %`, `340 ms`, `2400 /min`. */
export function withUnit(value: number | null | undefined, label: string): string {
  const text = formatNumber(value);
  return text === '-' || label === '' ? text : `${text} ${label}`;
}

/** `+3.20 (+12 %)`, `-1.5 (-100 %)`. */
export function formatChange(change: number | null, percent: number | null): string {
  if (change === null) return '-';
  const sign = change > 0 ? '+' : '';
  const main = `${sign}${formatNumber(change)}`;
  if (percent === null) return change === 0 ? main : `${main} (from 0)`;
  const pct = Math.abs(percent) >= 10 ? Math.round(percent).toString() : percent.toFixed(1);
  return `${main} (${percent > 0 ? '+' : ''}${pct} %)`;
}

/** A p-value for a table. */
export function formatP(p: number | null): string {
  if (p === null) return '-';
  if (p < 0.001) return '<0.001';
  return p.toFixed(3);
}
