import {
  sessionSeries,
  statistics as seriesStatistics,
  type ActionRecord,
  type Fault,
  type LoadLevel,
  type MetricFormula,
  type MetricStatistics,
  type MetricUnit,
  type ModuleProfile,
  type SessionProfile,
  type SessionRecommendation,
} from '@loadlight/core';
import { duration, offset, size, value } from './format.js';

/** One metric of the catalogue, with its session statistics (null when it has none). */
export interface MetricRow {
  name: string;
  unit: MetricUnit | null;
  description: string;
  plugin: string;
  module: string | null;
  stats: MetricStatistics | null;
  unavailable: string | null;
  derivedFrom: string | null;
  /** A computed metric's formula: no series of its own in the file, computed from its operands. */
  formula: MetricFormula | null;
  /** Whether the session gives the metric values over time: a series of its own, or a formula. */
  hasSeries: boolean;
}

/** An alert from `pending`/`firing` to `resolved` (or the end of the session). */
export interface AlertEpisode {
  key: string;
  id: string;
  severity: 'info' | 'warning' | 'critical';
  module: string | null;
  message: string;
  pendingAt: number | null;
  firedAt: number | null;
  resolvedAt: number | null;
}

export interface ReportOptions {
  /** Modules in the module table (by CPU). */
  top: number;
}

/** What every format shows, taken from a session profile. Times are ms since the epoch. */
export interface Report {
  session: SessionProfile;
  file: string;
  start: number;
  end: number;
  samples: number;
  /** Whether the ring was full: the oldest samples of a longer run were dropped. */
  ringFull: boolean;
  processLevel: LoadLevel | null;
  systemLevel: LoadLevel | null;
  modules: ModuleProfile[];
  moduleCount: number;
  /** Metrics of the catalogue, in its order; `module` ones are per-module fields. */
  metrics: MetricRow[];
  recommendations: SessionRecommendation[];
  /** Alerts that fired, in the order they fired. */
  alerts: AlertEpisode[];
  /** Alerts that were pending but never fired (their condition did not last). */
  pendingOnly: AlertEpisode[];
  actions: ActionRecord[];
  faults: Fault[];
}

const PRIORITY_ORDER: Record<string, number> = { high: 0, medium: 1, low: 2 };

function time(iso: string): number {
  return Date.parse(iso);
}

/** Groups the alert transitions of a session into episodes, one per pending/firing..resolved. */
export function alertEpisodes(alerts: SessionProfile['alerts']): AlertEpisode[] {
  const open = new Map<string, AlertEpisode>();
  const episodes: AlertEpisode[] = [];
  for (const transition of alerts) {
    const at = time(transition.at);
    let episode = open.get(transition.key);
    if (!episode) {
      episode = {
        key: transition.key,
        id: transition.id,
        severity: transition.severity,
        module: transition.module,
        message: transition.message,
        pendingAt: null,
        firedAt: null,
        resolvedAt: null,
      };
      open.set(transition.key, episode);
      episodes.push(episode);
    }
    episode.message = transition.message || episode.message;
    episode.severity = transition.severity;
    if (transition.state === 'pending') episode.pendingAt ??= at;
    else if (transition.state === 'firing') episode.firedAt ??= at;
    else {
      episode.resolvedAt = at;
      open.delete(transition.key);
    }
  }
  return episodes;
}

/** The report model of a session: what the terminal, Markdown and HTML formats show. */
export function buildReport(session: SessionProfile, file: string, options: ReportOptions): Report {
  const metrics: MetricRow[] = [];
  const stored = session.samples.values;
  /** The session's statistics of a metric; computed from its series when a (hand-made) file has none. */
  const statsOf = (name: string, hasSeries: boolean): MetricStatistics | null => {
    if (Object.hasOwn(session.statistics, name)) return session.statistics[name]!;
    return hasSeries ? seriesStatistics(sessionSeries(session, name)) : null;
  };
  for (const [name, entry] of Object.entries(session.catalogue)) {
    const formula = entry.formula ?? null;
    const hasSeries = entry.derivedFrom === undefined && (Object.hasOwn(stored, name) || formula !== null);
    metrics.push({
      name,
      unit: entry.unit,
      description: entry.description,
      plugin: entry.plugin,
      module: entry.module ?? null,
      stats: statsOf(name, hasSeries),
      unavailable: entry.unavailable ?? null,
      derivedFrom: entry.derivedFrom ?? null,
      formula,
      hasSeries,
    });
  }
  // Series the catalogue does not describe (a hand-made file): shown without a unit.
  for (const name of Object.keys(stored)) {
    if (Object.hasOwn(session.catalogue, name)) continue;
    metrics.push({ name, unit: null, description: '', plugin: '', module: null, stats: statsOf(name, true), unavailable: null, derivedFrom: null, formula: null, hasSeries: true });
  }
  const byCpu = (a: ModuleProfile, b: ModuleProfile) =>
    (b.cpuPercent ?? -Infinity) - (a.cpuPercent ?? -Infinity) || (b.cpuMs ?? -Infinity) - (a.cpuMs ?? -Infinity) || a.name.localeCompare(b.name);
  const modules = session.modules.slice().sort(byCpu);
  const recommendations = session.recommendations
    .slice()
    .sort((a, b) => (PRIORITY_ORDER[a.priority] ?? 3) - (PRIORITY_ORDER[b.priority] ?? 3) || b.count - a.count || a.id.localeCompare(b.id));
  const episodes = alertEpisodes(session.alerts);
  const start = time(session.startedAt);
  const end = time(session.endedAt);
  return {
    session,
    file,
    start,
    end,
    samples: session.samples.t.length,
    ringFull: session.samples.t.length >= session.config.maxSamples,
    processLevel: session.levels.find((l) => l.kind === 'process')?.level ?? null,
    systemLevel: session.levels.find((l) => l.kind === 'system')?.level ?? null,
    modules: modules.slice(0, options.top),
    moduleCount: modules.length,
    metrics,
    recommendations,
    alerts: episodes.filter((e) => e.firedAt !== null).sort((a, b) => a.firedAt! - b.firedAt!),
    pendingOnly: episodes.filter((e) => e.firedAt === null),
    actions: session.actions,
    faults: session.faults,
  };
}

/** The metrics a table lists: non-module metrics, or (with `all`) every one. Derived ones have no values over time. */
export function metricsToList(report: Report, all: boolean): { listed: MetricRow[]; moduleMetrics: number } {
  const overTime = report.metrics.filter((m) => m.derivedFrom === null);
  const moduleMetrics = overTime.filter((m) => m.module !== null).length;
  return { listed: all ? overTime : overTime.filter((m) => m.module === null), moduleMetrics };
}

/**
 * A metric's values over time, one per sample time (null where missing), whatever form the file
 * stores them in (dense, sparse or runs) and computed from the operands for a computed metric;
 * undefined when the session gives none (derived, or neither stored nor computed).
 */
export function metricSeries(report: Report, metric: MetricRow): Array<number | null> | undefined {
  return metric.hasSeries ? sessionSeries(report.session, metric.name) : undefined;
}

// The cells every format shows alike: each format escapes and lays them out, nothing more.

/** The module table's columns (text prints them upper-case) and which of them are numbers (right-aligned). */
export const MODULE_COLUMNS = ['Light', 'Module', 'CPU', 'CPU time', 'Calls', 'Mean', 'p95', 'Memory', 'Errors'];
export const MODULE_NUMERIC = new Set([2, 3, 4, 5, 6, 7, 8]);

/** A module's row after its light and name: CPU, CPU time, calls, mean, p95, memory and errors. */
export function moduleCells(m: ModuleProfile): string[] {
  return [
    value(m.cpuPercent, 'percent'),
    value(m.cpuMs, 'ms'),
    value(m.calls, 'count'),
    value(m.meanMs, 'ms'),
    value(m.p95Ms, 'ms'),
    value(m.memoryMb, 'mb'),
    value(m.errors, 'count'),
  ];
}

/** The metric table's columns, and which of them are numbers. */
export const METRIC_COLUMNS = ['Metric', 'Count', 'Mean', 'p95', 'Max'];
export const METRIC_NUMERIC = new Set([1, 2, 3, 4]);

/** A metric's count, mean, p95 and max with its unit; null when it has no samples. */
export function metricFigures(m: MetricRow): { count: string; mean: string; p95: string; max: string } | null {
  if (!m.stats || m.stats.count === 0) return null;
  return { count: String(m.stats.count), mean: value(m.stats.mean, m.unit), p95: value(m.stats.p95, m.unit), max: value(m.stats.max, m.unit) };
}

/**
 * A metric's row after its name: count, mean, p95, max; or, for a metric without figures, why
 * in the last cell (`note` true). `reason` makes the session's text of an unavailable metric
 * safe for the format.
 */
export function metricCells(m: MetricRow, reason: (text: string) => string): { cells: string[]; note: boolean } {
  if (m.unavailable) return { cells: ['', '', '', `unavailable: ${reason(m.unavailable)}`], note: true };
  const figures = metricFigures(m);
  if (!figures) return { cells: ['0', '', '', 'no samples'], note: true };
  return { cells: [figures.count, figures.mean, figures.p95, figures.max], note: false };
}

/** `disabled at +1m05s` when the fault's plugin was disabled, else '': each format wraps it its own way. */
export function faultDisabled(f: Fault, start: number): string {
  return f.disabledAt !== undefined ? `disabled at ${offset(f.disabledAt, start)}` : '';
}

/** The profiler's own cost: `0.8% of one core (1.2s over 150 ticks, 8ms a tick), store 1.5MB, heap 12MB, RSS 80MB`. */
export function overheadSentence(o: SessionProfile['overhead']): string {
  return (
    `${value(o.cpuPercent, 'percent')} of one core (${duration(o.cpuMs)} over ${o.ticks} ticks, ${value(o.meanTickMs, 'ms')} a tick), ` +
    `store ${size(o.storeBytes)}, heap ${value(o.heapUsedMb, 'mb')}, RSS ${value(o.rssMb, 'mb')}`
  );
}
