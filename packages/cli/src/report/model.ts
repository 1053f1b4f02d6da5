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
