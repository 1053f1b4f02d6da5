import type { MetricUnit } from '@loadlight/core';

/** Three significant digits at most, and no more decimals than help: 1234, 34, 3.4, 0.42. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10) return String(Math.round(value));
  if (abs >= 1) return value.toFixed(1);
  return value.toFixed(2);
}

/** `12s`, `1m23s`, `2h05m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
}

function formatMb(mb: number): string {
  return Math.abs(mb) >= 1024 ? `${formatNumber(mb / 1024)}GB` : `${formatNumber(mb)}MB`;
}

function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${formatNumber(bytes / 1024 ** 3)}GB`;
  if (abs >= 1024 ** 2) return `${formatNumber(bytes / 1024 ** 2)}MB`;
  if (abs >= 1024) return `${formatNumber(bytes / 1024)}KB`;
  return `${formatNumber(bytes)}B`;
}

function signed(text: string, value: number): string {
  return value > 0 ? `+${text}` : text;
}

/** A metric value with its unit, short enough for a status line; `-` when not measured. */
export function formatValue(value: number | null, unit: MetricUnit): string {
  if (value === null || Number.isNaN(value)) return '-';
  switch (unit) {
    case 'percent':
      return `${formatNumber(value)}%`;
    case 'ms':
      return Math.abs(value) >= 10_000 ? `${formatNumber(value / 1000)}s` : `${formatNumber(value)}ms`;
    case 'ms_per_minute':
      return `${formatNumber(value)}ms/min`;
    case 'mb':
      return formatMb(value);
    case 'mb_per_minute':
      return `${signed(formatMb(value), value)}/min`;
    case 'bytes':
      return formatBytes(value);
    case 'bytes_per_second':
      return `${formatBytes(value)}/s`;
    case 'per_minute':
      return `${formatNumber(value)}/min`;
    case 'fps':
      return `${formatNumber(value)}fps`;
    case 'seconds':
      return formatDuration(value * 1000);
    case 'ratio':
      return value.toFixed(2);
    case 'load':
      return value.toFixed(2);
    case 'count':
      return Number.isInteger(value) ? String(value) : formatNumber(value);
    default:
      return formatNumber(value);
  }
}

const UNIT_SUFFIX = /[._](ms|mb|percent|per_minute|per_second|bytes|fps|seconds|ratio|count)$/;

/**
 * A short label for a metric: its name without the section prefix and without the unit suffix
 * the formatted value already shows (`process.memory.rss_mb` in `process` -> `memory.rss`).
 */
export function metricLabel(name: string, prefix: string): string {
  const rest = prefix && name.startsWith(`${prefix}.`) ? name.slice(prefix.length + 1) : name;
  const label = rest.replace(UNIT_SUFFIX, '');
  return label || rest;
}
