// Number and time formatting for the panel. No DOM: unit-tested from src/panel-model.test.ts.
import type { MetricUnit } from '@loadlight/core';

/** A value with its unit, short: `43.2%`, `118 MB`, `12.5 ms`, `480/min`, `7.9 fps`; `–` when missing. */
export function formatValue(value: number | null | undefined, unit: MetricUnit | string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  switch (unit) {
    case 'percent':
      return `${round(value)}%`;
    case 'ratio':
      return `${(value * 100).toFixed(0)}%`;
    case 'mb':
      return `${round(value)} MB`;
    case 'mb_per_minute':
      return `${round(value)} MB/min`;
    case 'ms':
      return `${round(value)} ms`;
    case 'ms_per_minute':
      return `${round(value)} ms/min`;
    case 'per_minute':
      return `${round(value)}/min`;
    case 'fps':
      return `${round(value)} fps`;
    case 'seconds':
      return `${round(value)} s`;
    case 'bytes':
      return bytes(value);
    case 'bytes_per_second':
      return `${bytes(value)}/s`;
    default:
      return round(value);
  }
}

/** 3 significant digits at most, no exponent: 0.0123 -> "0.012", 12.34 -> "12.3", 1234 -> "1234". */
export function round(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2).replace(/\.?0+$/, '');
  if (abs === 0) return '0';
  return value.toFixed(3).replace(/\.?0+$/, '') || '0';
}

/** A chart axis label: `0`, `2.5`, `40`, `750`, `1.2k`, `15k`. */
export function axisNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return `${Number((value / 1000).toPrecision(abs >= 10_000 ? 3 : 2))}k`;
  return String(Number(value.toPrecision(3)));
}

function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${round(v)} ${units[i]}`;
}

/** Local wall-clock time of an epoch-ms instant: `14:03:07`. */
export function clock(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A duration, coarse: `45 s`, `12 min 3 s`, `2 h 5 min`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A short, readable rendering of an action's JSON result: `ocrEvery 1→4, readsPerSecond 8→2`. */
export function describeResult(result: unknown): string {
  if (result === null || result === undefined) return '';
  if (typeof result !== 'object') return String(result);
  if (Array.isArray(result)) return result.map((v) => describeResult(v)).join(', ');
  const parts: string[] = [];
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'from' in value && 'to' in value) {
      const change = value as { from: unknown; to: unknown };
      parts.push(`${key} ${String(change.from)}→${String(change.to)}`);
    } else if (value && typeof value === 'object') {
      const inner = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      parts.push(`${key}: ${Array.isArray(value) ? (value as unknown[]).map(String).join(', ') || 'none' : inner.join(', ')}`);
    } else {
      parts.push(`${key} ${String(value)}`);
    }
  }
  return parts.join('; ');
}
