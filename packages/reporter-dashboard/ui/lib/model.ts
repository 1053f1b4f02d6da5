// The panel's state, kept apart from Vue and the DOM so that it can be unit-tested:
// chart series history, module rows and their order, recommendations by priority, the timeline.
import type { ActionRecord, AlertTransition, LevelResult, LoadLevel, MetricUnit, Priority, Recommendation } from '@loadlight/core';
import type { DashboardSnapshot, HistoryResponse, ModuleRow } from '../../src/protocol.js';
import { describeResult } from './format.js';

// ---------------------------------------------------------------------------------------------
// Charts

export interface SeriesSpec {
  metric: string;
  label: string;
  color: string;
  /** `y2`: the chart's right-hand axis (another unit). */
  axis?: 'y' | 'y2';
  dash?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: MetricUnit;
  y2Unit?: MetricUnit;
  series: SeriesSpec[];
  /** Shown when none of the chart's metrics is declared (its plugin is not loaded). */
  plugin: string;
}

// Mid-luminance colours, readable on both the light and the dark background.
const BLUE = '#3b82f6';
const ORANGE = '#e8730c';
const PURPLE = '#a45ee5';
const TEAL = '#0fa39a';
const PINK = '#d9468f';

/** The live charts: the metrics the standard plugins declare (plugin-system, -ocr, -frames, -io). */
export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'cpu',
    title: 'CPU',
    unit: 'percent',
    plugin: 'system',
    series: [
      { metric: 'system.cpu.percent', label: 'system (all cores)', color: BLUE },
      { metric: 'process.cpu.percent', label: 'process (% of a core)', color: ORANGE },
    ],
  },
  {
    id: 'memory',
    title: 'RAM',
    unit: 'mb',
    plugin: 'system',
    series: [
      { metric: 'process.memory.rss_mb', label: 'process RSS', color: PURPLE },
      { metric: 'process.heap.used_mb', label: 'V8 heap used', color: TEAL },
    ],
  },
  {
    id: 'event-loop',
    title: 'Event-loop delay',
    unit: 'ms',
    plugin: 'system',
    series: [
      { metric: 'process.event_loop.delay_p50_ms', label: 'p50', color: TEAL },
      { metric: 'process.event_loop.delay_p99_ms', label: 'p99', color: ORANGE },
      { metric: 'process.event_loop.delay_max_ms', label: 'max', color: PINK, dash: true },
    ],
  },
  {
    id: 'ocr',
    title: 'OCR calls',
    unit: 'per_minute',
    y2Unit: 'ms',
    plugin: 'ocr',
    series: [
      { metric: 'ocr.calls.per_minute', label: 'calls/min', color: BLUE },
      { metric: 'ocr.latency.p95_ms', label: 'p95 latency', color: ORANGE, axis: 'y2', dash: true },
    ],
  },
  {
    id: 'frames',
    title: 'Frames',
    unit: 'per_minute',
    y2Unit: 'fps',
    plugin: 'frames',
    series: [
      { metric: 'frames.analysed.per_minute', label: 'frames/min', color: PURPLE },
      { metric: 'frames.fps', label: 'fps', color: TEAL, axis: 'y2' },
      { metric: 'frames.target_fps', label: 'target fps', color: PINK, axis: 'y2', dash: true },
    ],
  },
  {
    id: 'io',
    title: 'IO wait',
    unit: 'percent',
    plugin: 'io',
    series: [
      { metric: 'io.wait.share_percent', label: 'program waiting on IO', color: BLUE },
      { metric: 'io.cpu.iowait_percent', label: 'host CPU iowait', color: ORANGE },
    ],
  },
];

export const CHART_METRICS: readonly string[] = CHARTS.flatMap((c) => c.series.map((s) => s.metric));

/** Points kept per series: 10 minutes at one sample a second. */
export const HISTORY_POINTS = 600;

/** Module metric whose recent values the table draws as a sparkline. */
export const SPARK_FIELD = 'cpu_percent';
export const SPARK_POINTS = 60;

/**
 * Time series for the charts, as uPlot wants them: `t` in seconds, one array per metric aligned
 * with it. Snapshots append; a history answer fills in what came before the page connected.
 */
export class SeriesHistory {
  t: number[] = [];
  values = new Map<string, Array<number | null>>();

  constructor(
    readonly metrics: readonly string[],
    readonly capacity = HISTORY_POINTS,
  ) {
    for (const m of metrics) this.values.set(m, []);
  }

  get length(): number {
    return this.t.length;
  }

  /** Appends the snapshot's values at its time; a snapshot not newer than the last point is ignored. */
  push(snapshot: Pick<DashboardSnapshot, 't' | 'metrics'>): boolean {
    const t = snapshot.t / 1000;
    const last = this.t[this.t.length - 1];
    if (last !== undefined && t <= last) return false;
    this.t.push(t);
    for (const [m, list] of this.values) list.push(snapshot.metrics[m]?.value ?? null);
    this.trim();
    return true;
  }

  /** Merges recent samples (`GET /api/history`): points already present (same time) are kept as they are. */
  merge(history: HistoryResponse): void {
    const rows = new Map<number, Map<string, number | null>>();
    this.t.forEach((t, i) => rows.set(t, new Map([...this.values].map(([m, list]) => [m, list[i] ?? null]))));
    history.t.forEach((tMs, i) => {
      const t = tMs / 1000;
      if (rows.has(t)) return;
      rows.set(t, new Map(this.metrics.map((m) => [m, history.values[m]?.[i] ?? null])));
    });
    const times = [...rows.keys()].sort((a, b) => a - b);
    this.t = times;
    for (const m of this.metrics) this.values.set(m, times.map((t) => rows.get(t)!.get(m) ?? null));
    this.trim();
  }

  clear(): void {
    this.t = [];
    for (const m of this.metrics) this.values.set(m, []);
  }

  /** uPlot's data: `[t, ...series]`. */
  data(metrics: readonly string[]): Array<Array<number | null>> {
    return [this.t, ...metrics.map((m) => this.values.get(m) ?? [])];
  }

  private trim(): void {
    const extra = this.t.length - this.capacity;
    if (extra <= 0) return;
    this.t.splice(0, extra);
    for (const list of this.values.values()) list.splice(0, extra);
  }
}

// ---------------------------------------------------------------------------------------------
// Modules

export type SortKey = 'level' | 'name' | 'cpu' | 'memory' | 'calls' | 'p95';
export type SortDirection = 'asc' | 'desc';

export interface ModuleView {
  name: string;
  level: LoadLevel | null;
  tags: string[];
  cpu: number | null;
  memory: number | null;
  /** Calls per minute over the last tick (or the tick's count when the rate is not measured). */
  calls: number | null;
  callsUnit: 'per_minute' | 'count';
  p95: number | null;
  /** Whether the module has the field at all (a worker thread has no calls or latency). */
  has: { cpu: boolean; memory: boolean; calls: boolean; p95: boolean };
}

export function moduleViews(rows: readonly ModuleRow[]): ModuleView[] {
  return rows.map((row) => {
    const f = row.fields;
    const perMinute = 'calls_per_minute' in f;
    return {
      name: row.name,
      level: row.level,
      tags: row.tags,
      cpu: f.cpu_percent ?? null,
      memory: f.memory_mb ?? null,
      calls: perMinute ? (f.calls_per_minute ?? null) : (f.calls ?? null),
      callsUnit: perMinute ? 'per_minute' : 'count',
      p95: f.latency_p95_ms ?? null,
      has: { cpu: 'cpu_percent' in f, memory: 'memory_mb' in f, calls: perMinute || 'calls' in f, p95: 'latency_p95_ms' in f },
    };
  });
}

const LEVEL_RANK: Record<LoadLevel, number> = { green: 1, yellow: 2, red: 3 };

export function levelRank(level: LoadLevel | null): number {
  return level ? LEVEL_RANK[level] : 0;
}

/** Sorted copy; missing values go last in either direction, ties by name. */
export function sortModules(views: readonly ModuleView[], key: SortKey, direction: SortDirection): ModuleView[] {
  const sign = direction === 'asc' ? 1 : -1;
  const value = (v: ModuleView): number | string | null => {
    switch (key) {
      case 'name':
        return v.name;
      case 'level':
        return v.level ? levelRank(v.level) : null;
      default:
        return v[key];
    }
  };
  return [...views].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === null && y !== null) return 1;
    if (y === null && x !== null) return -1;
    if (x !== null && y !== null && x !== y) {
      return (typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number)) * sign;
    }
    return a.name.localeCompare(b.name);
  });
}

/** The modules the rules judged red, heaviest CPU first. */
export function heavyModules(views: readonly ModuleView[]): ModuleView[] {
  return sortModules(
    views.filter((v) => v.level === 'red'),
    'cpu',
    'desc',
  );
}

/**
 * Why the rules gave a subject its level, from the conditions that hold (an `any` rule lists
 * every condition it evaluated): `cpu_percent 71.2 > 50`.
 */
export function levelReason(levels: readonly LevelResult[] | undefined, subject: string): string | null {
  const result = levels?.find((l) => l.subject === subject);
  const conditions = result?.evidence?.conditions ?? [];
  const holding = conditions.filter((c) => holds(c.operator, c.value, c.threshold) !== false);
  const shown = holding.length > 0 ? holding : conditions;
  if (shown.length === 0) return null;
  return shown.map((c) => `${c.path ? c.path.replace(/^\$\./, '') : c.fact} ${formatOperand(c.value)} ${operatorSign(c.operator)} ${formatOperand(c.threshold)}`).join(', ');
}

/** Whether a numeric comparison holds; null when it is not one this page knows. */
export function holds(operator: string, value: unknown, threshold: unknown): boolean | null {
  if (typeof value !== 'number' || typeof threshold !== 'number') return operator === 'equal' ? value === threshold : null;
  switch (operator) {
    case 'greaterThan':
      return value > threshold;
    case 'greaterThanInclusive':
      return value >= threshold;
    case 'lessThan':
      return value < threshold;
    case 'lessThanInclusive':
      return value <= threshold;
    case 'equal':
      return value === threshold;
    case 'notEqual':
      return value !== threshold;
    default:
      return null;
  }
}

function formatOperand(value: unknown): string {
  return typeof value === 'number' ? String(Number(value.toFixed(1))) : JSON.stringify(value);
}

function operatorSign(operator: string): string {
  const signs: Record<string, string> = {
    greaterThan: '>',
    greaterThanInclusive: '≥',
    lessThan: '<',
    lessThanInclusive: '≤',
    equal: '=',
    notEqual: '≠',
  };
  return signs[operator] ?? operator;
}

/** Keeps the last `SPARK_POINTS` values of one field per module. */
export class Sparklines {
  readonly points = new Map<string, Array<number | null>>();

  push(rows: readonly ModuleRow[]): void {
    for (const row of rows) {
      let list = this.points.get(row.name);
      if (!list) this.points.set(row.name, (list = []));
      list.push(row.fields[SPARK_FIELD] ?? null);
      if (list.length > SPARK_POINTS) list.splice(0, list.length - SPARK_POINTS);
    }
  }

  /** Prepends older values (from `GET /api/history`) to the modules that have few. */
  backfill(history: HistoryResponse): void {
    for (const [name, list] of this.points) {
      const older = history.values[`module.${name}.${SPARK_FIELD}`];
      if (!older || list.length >= SPARK_POINTS) continue;
      // the history ends with the samples already pushed live: drop those
      const usable = older.slice(0, Math.max(0, older.length - list.length));
      this.points.set(name, [...usable, ...list].slice(-SPARK_POINTS));
    }
  }

  clear(): void {
    this.points.clear();
  }
}

/** An SVG polyline's `points` for values in a `width` x `height` box (nulls break nothing: skipped). */
export function sparkPath(values: ReadonlyArray<number | null>, width: number, height: number): string {
  const max = Math.max(1, ...values.filter((v): v is number => v !== null));
  const step = values.length > 1 ? width / (SPARK_POINTS - 1) : 0;
  const offset = width - step * (values.length - 1);
  const out: string[] = [];
  values.forEach((v, i) => {
    if (v === null) return;
    const x = offset + i * step;
    const y = height - 1 - (Math.max(0, v) / max) * (height - 2);
    out.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  return out.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Recommendations

/** An action's "Apply" button: running, and what its last run said. */
export interface ApplyState {
  busy: boolean;
  message: string | null;
  ok: boolean | null;
}

const PRIORITY_RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/** High first, then medium, then low; within one priority, the order the rules gave. */
export function byPriority(recommendations: readonly Recommendation[]): Recommendation[] {
  return recommendations
    .map((r, i) => ({ r, i }))
    .sort((a, b) => PRIORITY_RANK[a.r.priority] - PRIORITY_RANK[b.r.priority] || a.i - b.i)
    .map(({ r }) => r);
}

// ---------------------------------------------------------------------------------------------
// Timeline

export interface TimelineEntry {
  key: string;
  t: number;
  kind: 'alert' | 'level' | 'action' | 'session';
  /** Colour: `critical`/`red` red, `warning`/`yellow` amber, `ok` green, `info` neutral. */
  tone: 'critical' | 'warning' | 'ok' | 'info';
  title: string;
  detail: string;
}

export const TIMELINE_ENTRIES = 200;

/**
 * What happened since the page connected: alert transitions, load-level changes (computed from
 * successive snapshots), actions run. Newest first.
 */
export class Timeline {
  entries: TimelineEntry[] = [];
  private seen = new Set<string>();
  private levels = new Map<string, LoadLevel>();

  /** Folds in one snapshot; returns whether anything was added. */
  observe(snapshot: DashboardSnapshot): boolean {
    let added = false;
    const evaluation = snapshot.evaluation;
    for (const transition of evaluation?.transitions ?? []) added = this.addAlert(transition) || added;
    for (const level of evaluation?.levels ?? []) {
      const before = this.levels.get(level.subject);
      this.levels.set(level.subject, level.level);
      // the first level seen of a subject is its start, not a change, unless it starts red
      if (before === level.level || (before === undefined && level.level !== 'red')) continue;
      added =
        this.add({
          key: `level|${level.subject}|${level.level}|${evaluation!.t}`,
          t: evaluation!.t,
          kind: 'level',
          tone: level.level === 'red' ? 'critical' : level.level === 'yellow' ? 'warning' : 'ok',
          title: `${level.subject} ${before === undefined ? 'is' : 'turned'} ${level.level}`,
          detail: before === undefined ? `${level.kind} load level` : `was ${before}`,
        }) || added;
    }
    for (const record of snapshot.recentActions ?? []) added = this.addAction(record) || added;
    return added;
  }

  addAlert(transition: AlertTransition): boolean {
    return this.add({
      key: `alert|${transition.key}|${transition.state}|${transition.t}`,
      t: transition.t,
      kind: 'alert',
      tone: transition.state === 'resolved' ? 'ok' : transition.severity === 'critical' ? 'critical' : transition.severity === 'warning' ? 'warning' : 'info',
      title: `alert ${transition.id}${transition.module ? ` (${transition.module})` : ''} ${transition.state}`,
      detail: transition.message,
    });
  }

  addAction(record: ActionRecord): boolean {
    const t = Date.parse(record.at);
    return this.add({
      key: `action|${record.id}|${record.at}`,
      t,
      kind: 'action',
      tone: record.ok ? 'ok' : 'critical',
      title: `${record.ok ? 'applied' : 'failed'} ${record.id} (${record.source})`,
      detail: record.ok ? describeRecord(record) : (record.error ?? 'failed'),
    });
  }

  note(t: number, title: string, detail: string): void {
    this.add({ key: `session|${t}|${title}`, t, kind: 'session', tone: 'info', title, detail });
  }

  clear(): void {
    this.entries = [];
    this.seen.clear();
    this.levels.clear();
  }

  private add(entry: TimelineEntry): boolean {
    if (this.seen.has(entry.key) || !Number.isFinite(entry.t)) return false;
    this.seen.add(entry.key);
    // newest first; entries mostly arrive in order, so this insert is near the front
    let i = 0;
    while (i < this.entries.length && this.entries[i]!.t > entry.t) i++;
    this.entries.splice(i, 0, entry);
    if (this.entries.length > TIMELINE_ENTRIES) {
      for (const dropped of this.entries.splice(TIMELINE_ENTRIES)) this.seen.delete(dropped.key);
    }
    return true;
  }
}

function describeRecord(record: ActionRecord): string {
  const result = record.result;
  if (result && typeof result === 'object' && !Array.isArray(result)) {
    // levelsBefore (the OCR bot's) says what the rules saw, not what changed
    const { levelsBefore: _levels, ...rest } = result as Record<string, unknown>;
    return describeResult(rest) || 'done';
  }
  return describeResult(result) || 'done';
}
