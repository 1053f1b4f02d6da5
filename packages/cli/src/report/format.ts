import type { MetricUnit, SessionProfile } from '@loadlight/core';
import { formatDuration, formatValue, sanitize } from '@loadlight/reporter-console';

/** A value with its unit (`34%`, `12ms`, `1.2MB/s`); `-` when there is none. */
export function value(v: number | null | undefined, unit: MetricUnit | null): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return formatValue(v, unit ?? ('number' as MetricUnit));
}

/** Words for a unit, for table headers and chart labels. */
export const UNIT_LABELS: Record<MetricUnit, string> = {
  percent: '%',
  ratio: 'ratio',
  ms: 'ms',
  ms_per_minute: 'ms/min',
  mb: 'MB',
  mb_per_minute: 'MB/min',
  bytes: 'bytes',
  bytes_per_second: 'bytes/s',
  count: 'count',
  per_minute: '/min',
  fps: 'fps',
  seconds: 's',
  load: 'load',
};

export function unitLabel(unit: MetricUnit | null): string {
  return (unit && UNIT_LABELS[unit]) || '';
}

/** `250ms`, `2.2s`, `12s`, `1m05s`: a length of time. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  return formatDuration(ms);
}

/** `+12s`: when something happened, from the start of the session. */
export function offset(at: number, start: number): string {
  if (!Number.isFinite(at) || !Number.isFinite(start)) return '?';
  const ms = at - start;
  return ms < 0 ? `-${duration(-ms)}` : `+${duration(ms)}`;
}

/** `+1.2s to +3m02s`, or `at +1.2s` for one moment. */
export function span(first: number, last: number, start: number): string {
  return first === last ? `at ${offset(first, start)}` : `${offset(first, start)} to ${offset(last, start)}`;
}

/** `2026-11-30 00:15:33 UTC`. */
export function clock(at: number): string {
  if (!Number.isFinite(at)) return '?';
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * Text from a session (module names, messages) made a single plain line: control characters and
 * line breaks made spaces, bidirectional controls and the BOM written `\uXXXX` (a name cannot
 * reorder or hide the text around it).
 */
export function plain(text: unknown, max = 500): string {
  const line = sanitize(String(text));
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A short JSON rendering of an action's result (any JSON value, any depth). */
export function preview(result: unknown, max = 80): string {
  if (result === null || result === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(result) ?? '';
  } catch {
    text = '(too deep to show)';
  }
  return plain(text, max);
}


/** Bytes as KB/MB. */
export function size(bytes: number): string {
  return value(bytes, 'bytes');
}

/** What `loadlight recover` recorded of a session rebuilt from its journal, in one line. */
export function recoveredNote(recovered: NonNullable<SessionProfile['recovered']>): string {
  const skipped = recovered.skippedLines > 0 ? `, ${recovered.skippedLines} unreadable ${recovered.skippedLines === 1 ? 'line' : 'lines'} skipped` : '';
  const torn = recovered.tornLastLine ? ', its cut-short last line dropped' : '';
  return `from the journal ${plain(recovered.journal, 200)} at ${plain(recovered.at, 40)} (${recovered.rows} rows${skipped}${torn}): the program died before writing it`;
}
