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

export const T0 = 1_700_000_000_000;

export function makeStore(
  metrics: Record<string, MetricDeclaration> = SYSTEM_METRICS,
  modules: string[] = [],
  plugin = 'system',
): Store {
  const store = new Store(1000, T0);
  for (const [name, declaration] of Object.entries(metrics)) store.declare({ name, plugin, ...declaration });
  for (const module of modules) {
    store.declare({ name: `module.${module}.cpu_percent`, plugin: 'modules', ...gauge('percent'), module: { name: module, field: 'cpu_percent' } });
    store.declare({ name: `module.${module}.memory_mb`, plugin: 'modules', ...gauge('mb'), module: { name: module, field: 'memory_mb' } });
  }
  return store;
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
