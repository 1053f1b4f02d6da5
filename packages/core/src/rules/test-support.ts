// Shared by the rules tests: a Store declared like @loadlight/plugin-system's, filled with known values.
import { copyFileSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../store.js';
import type { MetricDeclaration } from '../types.js';

/** The default rule files shipped in `rules/` at the repository root. */
export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../../../../rules/', import.meta.url));
export const defaultRuleFile = (name: 'load-levels' | 'recommendations' | 'alerts') => join(DEFAULT_RULES_DIR, `${name}.json`);

const gauge = (unit: MetricDeclaration['unit'], extra: Partial<MetricDeclaration> = {}): MetricDeclaration => ({
  unit,
  kind: 'gauge',
  description: 'test metric',
  ...extra,
});

/** The metrics of @loadlight/plugin-system, as the default rules expect them. */
export const SYSTEM_METRICS: Record<string, MetricDeclaration> = {
  'system.cpu.percent': gauge('percent'),
  'system.memory.used_mb': gauge('mb'),
  'system.memory.used_percent': gauge('percent'),
  'system.load.avg1': gauge('load'),
  'process.cpu.percent': gauge('percent'),
  'process.memory.rss_mb': gauge('mb'),
  'process.heap.used_mb': gauge('mb'),
  'process.heap.growth_mb_per_minute': gauge('mb_per_minute', { derivedFrom: 'process.heap.used_mb', aggregate: 'slope_per_minute' }),
  'process.event_loop.delay_p50_ms': gauge('ms'),
  'process.event_loop.delay_p99_ms': gauge('ms'),
  'process.event_loop.delay_max_ms': gauge('ms', { aggregate: 'max' }),
  'process.event_loop.utilization': gauge('ratio'),
  'process.gc.pause_ms_per_minute': gauge('ms_per_minute'),
  'process.gc.count_per_minute': gauge('per_minute'),
};

const latency = (prefix: string): Record<string, MetricDeclaration> =>
  Object.fromEntries(['mean_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms'].map((q) => [`${prefix}.latency.${q}`, gauge('ms')]));

/** The metrics of @loadlight/plugin-ocr, as the default rules expect them. */
export const OCR_METRICS: Record<string, MetricDeclaration> = {
  'ocr.calls.count': { unit: 'count', kind: 'counter', description: 'test metric' },
  'ocr.calls.per_minute': gauge('per_minute'),
  'ocr.errors.per_minute': gauge('per_minute'),
  ...latency('ocr'),
  'ocr.confidence.mean': gauge('percent'),
  'ocr.chars.per_minute': gauge('per_minute'),
  'ocr.unchanged.percent': gauge('percent'),
};

/** The metrics of @loadlight/plugin-frames. */
export const FRAMES_METRICS: Record<string, MetricDeclaration> = {
  'frames.analysed.count': { unit: 'count', kind: 'counter', description: 'test metric' },
  'frames.analysed.per_minute': gauge('per_minute'),
  'frames.fps': gauge('fps'),
  'frames.target_fps': gauge('fps'),
  'frames.budget_ms': gauge('ms'),
  ...latency('frames'),
  'frames.late.per_minute': gauge('per_minute'),
  'frames.late.percent': gauge('percent'),
  'frames.dropped.per_minute': gauge('per_minute'),
};

/** The metrics of @loadlight/plugin-io. */
export const IO_METRICS: Record<string, MetricDeclaration> = {
  'io.wait.ms_per_minute': gauge('ms_per_minute'),
  'io.wait.share_percent': gauge('percent'),
  'io.waits.per_minute': gauge('per_minute'),
  'io.wait.p95_ms': gauge('ms'),
  'io.disk.read_bytes_per_second': gauge('bytes_per_second'),
  'io.disk.write_bytes_per_second': gauge('bytes_per_second'),
  'io.net.rx_bytes_per_second': gauge('bytes_per_second'),
  'io.net.tx_bytes_per_second': gauge('bytes_per_second'),
  'io.cpu.iowait_percent': gauge('percent'),
};

/** Every metric of the standard global sources. */
export const ALL_STANDARD_METRICS: Record<string, MetricDeclaration> = { ...SYSTEM_METRICS, ...OCR_METRICS, ...FRAMES_METRICS, ...IO_METRICS };

/** The per-module fields @loadlight/plugin-modules declares (`module.<name>.<field>`), with their units. */
export const MODULE_FIELD_UNITS: Record<string, MetricDeclaration['unit']> = {
  calls: 'count',
  calls_per_minute: 'per_minute',
  errors: 'count',
  errors_per_minute: 'per_minute',
  total_ms: 'ms',
  latency_mean_ms: 'ms',
  latency_min_ms: 'ms',
  latency_max_ms: 'ms',
  latency_p50_ms: 'ms',
  latency_p95_ms: 'ms',
  latency_p99_ms: 'ms',
  cpu_ms: 'ms',
  cpu_percent: 'percent',
  memory_mb: 'mb',
};

/** A profiled module: its name, the tags on its metrics, and which fields it declares (default: CPU % and memory). */
export type ModuleSpec = string | { name: string; tags?: string[]; fields?: string[] };

export const T0 = 1_700_000_000_000;

export function makeStore(
  metrics: Record<string, MetricDeclaration> = SYSTEM_METRICS,
  modules: ModuleSpec[] = [],
  plugin = 'system',
): Store {
  const store = new Store(1000, T0);
  for (const [name, declaration] of Object.entries(metrics)) store.declare({ name, plugin, ...declaration });
  for (const spec of modules) declareModule(store, spec);
  return store;
}

/** Declares a module's metrics as @loadlight/plugin-modules does: `module.<name>.<field>`, gauges, with its tags. */
export function declareModule(store: Store, spec: ModuleSpec): void {
  const { name, tags, fields = ['cpu_percent', 'memory_mb'] } = typeof spec === 'string' ? { name: spec } : spec;
  for (const field of fields) {
    const unit = MODULE_FIELD_UNITS[field];
    if (!unit) throw new Error(`test: unknown module field ${field}`);
    store.declare({
      name: `module.${name}.${field}`,
      plugin: 'modules',
      ...gauge(unit),
      module: { name, field, ...(tags ? { tags } : {}) },
    });
  }
}

/** Commits one row; metrics not named are missing (null) in it. */
export function commit(store: Store, t: number, values: Record<string, number | null>): void {
  const row = new Float64Array(store.metricCount).fill(NaN);
  for (const [name, value] of Object.entries(values)) {
    const index = store.indexOf(name);
    if (index === undefined) throw new Error(`test: metric ${name} is not declared`);
    row[index] = value ?? NaN;
  }
  store.commit(t, row);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'loadlight-rules-'));
}

/** Writes `{ rules }` as a rule file `name` in a fresh directory; returns its path. */
export function ruleFile(rules: unknown[], name = 'rules.json'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, JSON.stringify({ rules }));
  return file;
}

/** Copies default rule files into a fresh directory; returns the copies' paths. */
export function copyDefaults(...names: Array<'load-levels' | 'recommendations' | 'alerts'>): string[] {
  const dir = tempDir();
  return names.map((name) => {
    const to = join(dir, `${name}.json`);
    copyFileSync(defaultRuleFile(name), to);
    return to;
  });
}

/**
 * Writes a file the way an editor would, and moves its mtime forward: file times come from a
 * coarse clock, so two writes in the same few milliseconds could otherwise look unchanged.
 */
export function edit(file: string, content: string): void {
  const before = statSync(file).mtimeMs;
  writeFileSync(file, content);
  const after = new Date(Math.max(before, statSync(file).mtimeMs) + 2000);
  utimesSync(file, after, after);
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
