import type { ActiveAlert, LevelResult, LoadLevel, Priority, Snapshot, SnapshotMetric } from '@loadlight/core';
import { palette, sanitize, truncate, visibleWidth, type Palette } from './ansi.js';
import { formatDuration, formatNumber, formatValue, metricLabel } from './format.js';

export interface RenderOptions {
  /** Colour the output with ANSI SGR sequences. Default false. */
  color?: boolean;
  /** Terminal columns: every line is cut to this width. Default: no limit. */
  width?: number;
  /** Terminal rows: the frame is cut to this many lines. Default: no limit. */
  height?: number;
  /** Modules listed, worst level first. Default 10. */
  maxModules?: number;
  /** Recommendations listed, highest priority first. Default 3. */
  maxRecommendations?: number;
}

export const RENDER_DEFAULTS = { maxModules: 10, maxRecommendations: 3 } as const;

const MAX_ALERT_LINES = 5;
const MAX_FAULT_LINES = 3;
const MAX_RULES_ERROR_LINES = 3;
const LABEL_WIDTH = 9;

const LEVEL_RANK: Record<LoadLevel, number> = { red: 0, yellow: 1, green: 2 };
const KIND_RANK: Record<LevelResult['kind'], number> = { process: 0, system: 1, module: 2 };
const PRIORITY_RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/**
 * The metrics of @loadlight/plugin-system, in the order shown and with short labels. Other
 * metrics of a section follow in catalogue order, labelled by name without prefix and unit.
 */
const KNOWN_METRICS: Record<string, ReadonlyArray<readonly [name: string, label: string]>> = {
  system: [
    ['system.cpu.percent', 'cpu'],
    ['system.memory.used_mb', 'mem'],
    ['system.memory.used_percent', 'mem'],
    ['system.load.avg1', 'load1'],
    ['system.load.avg5', 'load5'],
    ['system.load.avg15', 'load15'],
  ],
  process: [
    ['process.cpu.percent', 'cpu'],
    ['process.memory.rss_mb', 'rss'],
    ['process.heap.used_mb', 'heap'],
    ['process.heap.growth_mb_per_minute', 'heap growth'],
    ['process.event_loop.delay_p99_ms', 'loop p99'],
    ['process.event_loop.utilization', 'elu'],
    ['process.gc.pause_ms_per_minute', 'gc pause'],
    ['process.gc.count_per_minute', 'gc'],
    ['process.event_loop.delay_p50_ms', 'loop p50'],
    ['process.event_loop.delay_max_ms', 'loop max'],
  ],
};
const KNOWN_LABELS = new Map(Object.values(KNOWN_METRICS).flat().map(([name, label]) => [name, label]));
const KNOWN_RANK = new Map(Object.values(KNOWN_METRICS).flatMap((list) => list.map(([name], i) => [name, i] as const)));

/** What the one-line view shows, besides levels and counts. */
const LINE_METRICS: ReadonlyArray<readonly [label: string, name: string]> = [
  ['cpu', 'process.cpu.percent'],
  ['rss', 'process.memory.rss_mb'],
  ['heap', 'process.heap.used_mb'],
  ['elu', 'process.event_loop.utilization'],
];

/** Module fields shown first (core's standard fields); labels drop what the value says. */
const MODULE_FIELD_ORDER = ['cpu_percent', 'memory_mb', 'calls_per_minute', 'errors_per_minute', 'latency_mean_ms', 'latency_p95_ms'];
const MODULE_FIELD_LABELS: Record<string, string> = {
  cpu_percent: 'cpu',
  cpu_ms: 'cpu time',
  memory_mb: 'mem',
  calls_per_minute: 'calls',
  errors_per_minute: 'errors',
  latency_mean_ms: 'mean',
  latency_p95_ms: 'p95',
};

const SECTION_TITLES: Record<string, string> = { system: 'host', process: 'process' };

function pad(text: string, width: number): string {
  const missing = width - visibleWidth(text);
  return missing > 0 ? text + ' '.repeat(missing) : text;
}

/** The style of a load level's colour. */
export function levelStyle(p: Palette, level: LoadLevel): (text: string) => string {
  return level === 'red' ? p.red : level === 'yellow' ? p.yellow : p.green;
}

/** A level word, coloured when colour is on; the same text either way. */
export function levelBadge(level: LoadLevel | null, color: boolean): string {
  if (level === null) return '-';
  return levelStyle(palette(color), level)(level);
}

/** An alert severity word in its colour (critical red, warning yellow, info cyan). */
export function severityBadge(p: Palette, severity: ActiveAlert['severity']): string {
  return (severity === 'critical' ? p.red : severity === 'warning' ? p.yellow : p.cyan)(severity);
}

/** A recommendation priority word in its colour (high red, medium yellow, low dim). */
export function priorityBadge(p: Palette, priority: Priority): string {
  return (priority === 'high' ? p.red : priority === 'medium' ? p.yellow : p.dim)(priority);
}

function labelFor(metric: SnapshotMetric, prefix: string): string {
  return KNOWN_LABELS.get(metric.name) ?? sanitize(metricLabel(metric.name, prefix));
}

function knownFirst(metrics: SnapshotMetric[]): SnapshotMetric[] {
  const rank = (m: SnapshotMetric) => KNOWN_RANK.get(m.name) ?? Number.MAX_SAFE_INTEGER;
  // Array.prototype.sort is stable: the others keep catalogue order.
  return metrics.slice().sort((a, b) => rank(a) - rank(b));
}

/** Lays items out after `prefix`, wrapping to continuation lines rather than cutting them. */
function wrapItems(prefix: string, items: string[], width: number | undefined): string[] {
  if (items.length === 0) return [prefix.trimEnd()];
  const indent = ' '.repeat(visibleWidth(prefix));
  const lines: string[] = [];
  let line = prefix;
  let lineHasItem = false;
  for (const item of items) {
    const candidate = lineHasItem ? `${line}  ${item}` : `${line}${item}`;
    if (lineHasItem && width !== undefined && visibleWidth(candidate) > width) {
      lines.push(line);
      line = `${indent}${item}`;
    } else {
      line = candidate;
    }
    lineHasItem = true;
  }
  lines.push(line);
  return lines;
}

function moduleField(metric: SnapshotMetric): string {
  const segments = metric.name.split('.');
  return segments[0] === 'module' && segments.length > 2 ? segments.slice(2).join('.') : segments[segments.length - 1]!;
}

interface ModuleView {
  name: string;
  level: LoadLevel | null;
  metrics: SnapshotMetric[];
}

function modulesOf(snapshot: Snapshot): ModuleView[] {
  const byName = new Map<string, ModuleView>();
  const get = (name: string) => {
    let view = byName.get(name);
    if (!view) byName.set(name, (view = { name, level: null, metrics: [] }));
    return view;
  };
  for (const metric of Object.values(snapshot.metrics)) if (metric.module !== undefined) get(metric.module).metrics.push(metric);
  for (const level of snapshot.evaluation?.levels ?? []) if (level.kind === 'module') get(level.subject).level = level.level;
  const rank = (v: ModuleView) => (v.level === null ? 3 : LEVEL_RANK[v.level]);
  return [...byName.values()].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

function levelOf(snapshot: Snapshot, kind: LevelResult['kind']): LoadLevel | null {
  return snapshot.evaluation?.levels.find((l) => l.kind === kind)?.level ?? null;
}

function sectionLines(snapshot: Snapshot, p: Palette, width: number | undefined): string[] {
  const sections = new Map<string, SnapshotMetric[]>();
  for (const metric of Object.values(snapshot.metrics)) {
    if (metric.module !== undefined) continue;
    const section = metric.name.split('.')[0]!;
    let list = sections.get(section);
    if (!list) sections.set(section, (list = []));
    list.push(metric);
  }
  const order = ['system', 'process', ...[...sections.keys()].filter((s) => s !== 'system' && s !== 'process').sort()];
  const lines: string[] = [];
  for (const section of order) {
    const metrics = sections.get(section);
    const level = section === 'system' || section === 'process' ? levelOf(snapshot, section) : null;
    if (!metrics && level === null) continue;
    const items = knownFirst(metrics ?? []).map((m) => `${labelFor(m, section)} ${p.bold(formatValue(m.value, m.unit))}`);
    const badge = level === null ? '' : pad(levelStyle(p, level)(level), 7);
    lines.push(...wrapItems(`${pad(sanitize(SECTION_TITLES[section] ?? section), LABEL_WIDTH)}${badge}`, items, width));
  }
  return lines;
}

function moduleLines(snapshot: Snapshot, p: Palette, maxModules: number): string[] {
  const modules = modulesOf(snapshot);
  if (modules.length === 0) return [];
  const lines = [`${p.bold('modules')}  ${modules.length}`];
  const shown = modules.slice(0, maxModules);
  const nameWidth = Math.min(20, Math.max(...shown.map((m) => visibleWidth(sanitize(m.name))), 4));
  for (const module of shown) {
    const fields = module.metrics
      .map((metric) => ({ metric, field: moduleField(metric) }))
      .sort((a, b) => {
        const ra = MODULE_FIELD_ORDER.indexOf(a.field);
        const rb = MODULE_FIELD_ORDER.indexOf(b.field);
        return (ra === -1 ? MODULE_FIELD_ORDER.length : ra) - (rb === -1 ? MODULE_FIELD_ORDER.length : rb);
      })
      .map(({ metric, field }) => `${MODULE_FIELD_LABELS[field] ?? sanitize(metricLabel(field, ''))} ${formatValue(metric.value, metric.unit)}`);
    const badge = module.level === null ? '-' : levelStyle(p, module.level)(module.level);
    lines.push(`  ${pad(truncate(sanitize(module.name), nameWidth), nameWidth)} ${pad(badge, 7)}${fields.join('  ')}`);
  }
  if (modules.length > shown.length) lines.push(p.dim(`  … ${modules.length - shown.length} more modules`));
  return lines;
}

function alertLines(snapshot: Snapshot, p: Palette): string[] {
  const alerts = snapshot.evaluation?.alerts;
  if (!alerts) return [];
  if (alerts.length === 0) return [`${pad('alerts', LABEL_WIDTH)}${p.dim('none')}`];
  const firing = alerts.filter((a) => a.state === 'firing').length;
  const pending = alerts.length - firing;
  const lines = [`${pad(p.bold('alerts'), LABEL_WIDTH)}${firing} firing, ${pending} pending`];
  const ordered = alerts
    .slice()
    .sort((a, b) => Number(b.state === 'firing') - Number(a.state === 'firing') || severityRank(a) - severityRank(b));
  for (const alert of ordered.slice(0, MAX_ALERT_LINES)) {
    const subject = alert.module === undefined ? '' : ` (${sanitize(alert.module)})`;
    const since = formatDuration(snapshot.t - alert.since);
    const state = alert.state === 'firing' ? alert.state : p.dim(alert.state);
    lines.push(`  ${pad(severityBadge(p, alert.severity), 9)}${sanitize(alert.id)}${subject} ${state} ${since}  ${sanitize(alert.message)}`);
  }
  if (alerts.length > MAX_ALERT_LINES) lines.push(p.dim(`  … ${alerts.length - MAX_ALERT_LINES} more alerts`));
  return lines;
}

function severityRank(alert: ActiveAlert): number {
  return alert.severity === 'critical' ? 0 : alert.severity === 'warning' ? 1 : 2;
}

function recommendationLines(snapshot: Snapshot, p: Palette, maxRecommendations: number): string[] {
  const recommendations = snapshot.evaluation?.recommendations;
  if (!recommendations || recommendations.length === 0) return [];
  const ordered = recommendations.slice().sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]);
  const lines = [`${p.bold('recommendations')}  ${recommendations.length}`];
  for (const r of ordered.slice(0, maxRecommendations)) {
    const module = r.module === undefined ? '' : p.dim(` [${sanitize(r.module)}]`);
    lines.push(`  ${pad(priorityBadge(p, r.priority), 8)}${sanitize(r.message)}${module}`);
  }
  if (ordered.length > maxRecommendations && maxRecommendations > 0) lines.push(p.dim(`  … ${ordered.length - maxRecommendations} more`));
  return lines;
}

function rulesErrorLines(snapshot: Snapshot, p: Palette): string[] {
  if (!snapshot.rulesError) return [];
  const errorLines = snapshot.rulesError.split(/\r?\n/).filter((line) => line.trim() !== '');
  const lines = [`${pad(p.bold('rules'), LABEL_WIDTH)}${p.red('edit rejected, the last good rules stay in force')}`];
  for (const line of errorLines.slice(0, MAX_RULES_ERROR_LINES)) lines.push(`  ${p.red(sanitize(line.trim()))}`);
  if (errorLines.length > MAX_RULES_ERROR_LINES) lines.push(p.dim(`  … ${errorLines.length - MAX_RULES_ERROR_LINES} more lines`));
  return lines;
}

function faultCount(snapshot: Snapshot): number {
  return snapshot.faults.reduce((sum, fault) => sum + fault.count, 0);
}

function overheadLines(snapshot: Snapshot, p: Palette): string[] {
  const o = snapshot.overhead;
  const faults = faultCount(snapshot);
  const lines = [
    `${pad('overhead', LABEL_WIDTH)}cpu ${formatValue(o.cpuPercent, 'percent')}  ${formatValue(o.meanTickMs, 'ms')}/tick` +
      `  store ${formatValue(o.storeBytes, 'bytes')}  faults ${faults === 0 ? '0' : p.red(String(faults))}`,
  ];
  const ordered = snapshot.faults.slice().sort((a, b) => b.count - a.count);
  for (const fault of ordered.slice(0, MAX_FAULT_LINES)) {
    lines.push(`  ${p.red(`${sanitize(fault.plugin)}/${sanitize(fault.hook)}`)} x${fault.count}  ${sanitize(fault.message)}`);
  }
  if (ordered.length > MAX_FAULT_LINES) lines.push(p.dim(`  … ${ordered.length - MAX_FAULT_LINES} more faults`));
  return lines;
}

function fit(lines: string[], options: RenderOptions, p: Palette): string[] {
  let out = lines;
  const height = options.height;
  if (height !== undefined && height > 0 && out.length > height) {
    const hidden = out.length - (height - 1);
    out = [...out.slice(0, height - 1), p.dim(`… ${hidden} more lines (taller terminal to see them)`)];
  }
  const width = options.width;
  return width !== undefined && width > 0 ? out.map((line) => truncate(line, width)) : out;
}

/**
 * The live view as lines (no newlines, no cursor movement): header, host, process, other
 * sources, modules, alerts, recommendations, rules error, overhead and faults.
 */
export function renderFrame(snapshot: Snapshot, options: RenderOptions = {}): string[] {
  const p = palette(options.color ?? false);
  const maxModules = options.maxModules ?? RENDER_DEFAULTS.maxModules;
  const maxRecommendations = options.maxRecommendations ?? RENDER_DEFAULTS.maxRecommendations;
  const header =
    `${p.bold('loadlight')}  session ${sanitize(snapshot.sessionId)}  up ${formatDuration(snapshot.uptimeMs)}` +
    `  samples ${snapshot.samples}`;
  return fit(
    [
      header,
      ...sectionLines(snapshot, p, options.width),
      ...moduleLines(snapshot, p, maxModules),
      ...alertLines(snapshot, p),
      ...recommendationLines(snapshot, p, maxRecommendations),
      ...rulesErrorLines(snapshot, p),
      ...overheadLines(snapshot, p),
    ],
    options,
    p,
  );
}

/**
 * One status line per report, for logs and pipes:
 * `[loadlight] 12s cpu 34% rss 80MB heap 20MB elu 0.12 lvl process=yellow alerts=0 recs=2`.
 * Levels are listed for the process, the host and every module that is not green. Without the
 * process metrics, the first other metrics take their place.
 */
export function renderLine(snapshot: Snapshot, options: Pick<RenderOptions, 'color' | 'width'> = {}): string {
  const p = palette(options.color ?? false);
  const parts = ['[loadlight]', formatDuration(snapshot.uptimeMs)];
  let shown = 0;
  for (const [label, name] of LINE_METRICS) {
    const metric = snapshot.metrics[name];
    if (!metric) continue;
    parts.push(`${label} ${formatValue(metric.value, metric.unit)}`);
    shown++;
  }
  // Without the system plugin, the program's own sources fill the line. Listing the metrics is
  // most of a line's cost (hundreds of them with modules), so only when they are needed.
  if (shown < LINE_METRICS.length) {
    for (const metric of Object.values(snapshot.metrics)) {
      if (shown >= LINE_METRICS.length) break;
      if (metric.module !== undefined || /^(system|process)\./.test(metric.name)) continue;
      parts.push(`${sanitize(metricLabel(metric.name, ''))} ${formatValue(metric.value, metric.unit)}`);
      shown++;
    }
  }
  const evaluation = snapshot.evaluation;
  if (evaluation) {
    const levels = evaluation.levels
      .filter((l) => l.kind !== 'module' || l.level !== 'green')
      .sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind])
      .map((l) => `${sanitize(l.subject)}=${levelStyle(p, l.level)(l.level)}`);
    if (levels.length > 0) parts.push(`lvl ${levels.join(' ')}`);
    const firing = evaluation.alerts.filter((a) => a.state === 'firing').length;
    parts.push(`alerts=${firing === 0 ? '0' : p.red(String(firing))}`, `recs=${evaluation.recommendations.length}`);
  }
  const faults = faultCount(snapshot);
  if (faults > 0) parts.push(`faults=${p.red(String(faults))}`);
  if (snapshot.rulesError) parts.push(`rules=${p.red('error')}`);
  const line = parts.join(' ');
  return options.width !== undefined && options.width > 0 ? truncate(line, options.width) : line;
}

/** The line printed when the profiler stops. */
export function renderSummary(snapshot: Snapshot, options: Pick<RenderOptions, 'color'> = {}): string {
  const p = palette(options.color ?? false);
  const faults = faultCount(snapshot);
  return (
    `[loadlight] session ${sanitize(snapshot.sessionId)} stopped after ${formatDuration(snapshot.uptimeMs)}, ` +
    `${snapshot.samples} samples, overhead ${formatNumber(snapshot.overhead.cpuPercent)}% cpu` +
    (faults > 0 ? `, ${p.red(`${faults} faults`)}` : '')
  );
}
