import type { Store } from '../store.js';
import type { MetricAggregate, MetricInfo, MetricUnit } from '../types.js';

/**
 * Fields every profiled module may have: `name` and `tags` (from the declarations), the rest as
 * `module.<name>.<field>` metrics (the fields @loadlight/plugin-modules declares).
 */
export const MODULE_FIELDS: readonly string[] = Object.freeze([
  'name',
  'tags',
  'cpu_percent',
  'cpu_ms',
  'memory_mb',
  'calls',
  'calls_per_minute',
  'errors',
  'errors_per_minute',
  'total_ms',
  'latency_mean_ms',
  'latency_min_ms',
  'latency_max_ms',
  'latency_p50_ms',
  'latency_p95_ms',
  'latency_p99_ms',
]);

/** Module fields that come from the declarations, not from a metric: no metric may take their place. */
const DECLARED_MODULE_FIELDS: ReadonlySet<string> = new Set(['name', 'tags']);

/** The module fact's path that holds a list (of tags); every other fact path holds a number or the module name. */
export const MODULE_TAGS_PATH = '$.tags';

const MODULE_FIELD_INFO: Record<string, { unit: MetricUnit | null; description: string }> = {
  name: { unit: null, description: 'the module name' },
  tags: { unit: null, description: 'the tags declared on the module\'s metrics (`verbose`, `heatmap`, `optional`...), a list: use "contains"' },
  cpu_percent: { unit: 'percent', description: 'CPU attributed to the module, % of one core' },
  cpu_ms: { unit: 'ms', description: 'CPU time attributed to the module' },
  memory_mb: { unit: 'mb', description: 'memory attributed to the module' },
  calls: { unit: 'count', description: 'calls into the module' },
  calls_per_minute: { unit: 'per_minute', description: 'calls into the module per minute' },
  errors: { unit: 'count', description: 'calls that failed' },
  errors_per_minute: { unit: 'per_minute', description: 'calls that failed per minute' },
  total_ms: { unit: 'ms', description: 'time spent in the module\'s calls' },
  latency_mean_ms: { unit: 'ms', description: 'mean call duration' },
  latency_min_ms: { unit: 'ms', description: 'shortest call duration' },
  latency_max_ms: { unit: 'ms', description: 'longest call duration' },
  latency_p50_ms: { unit: 'ms', description: 'median call duration' },
  latency_p95_ms: { unit: 'ms', description: '95th percentile call duration' },
  latency_p99_ms: { unit: 'ms', description: '99th percentile call duration' },
};

/**
 * Facts that a standard plugin provides. A rule on one of them is valid even when its plugin is
 * not loaded: it is inactive until metrics of that namespace are declared.
 */
export const STANDARD_FACTS: Readonly<Record<string, string>> = Object.freeze({
  system: '@loadlight/plugin-system',
  process: '@loadlight/plugin-system',
  ocr: '@loadlight/plugin-ocr',
  frames: '@loadlight/plugin-frames',
  io: '@loadlight/plugin-io',
  module: '@loadlight/plugin-modules (or plugin-system watching child processes)',
  session: '@loadlight/core',
});

const latencyPaths = (prefix: string) => ['mean_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms'].map((q) => `$.${prefix}.${q}`);

/**
 * Paths the standard sources provide: the metric names are a contract with @loadlight/plugin-system,
 * plugin-ocr, plugin-frames and plugin-io. A rule may name one that is not declared now (its group
 * is turned off in the plugin's options, or the plugin is not loaded): the rule is then inactive,
 * not invalid; a path outside these lists (and not declared) is a typo, and an error.
 */
export const STANDARD_PATHS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  system: ['$.cpu.percent', '$.memory.used_mb', '$.memory.used_percent', '$.load.avg1', '$.load.avg5', '$.load.avg15'],
  process: [
    '$.cpu.percent',
    '$.memory.rss_mb',
    '$.heap.used_mb',
    '$.heap.growth_mb_per_minute',
    '$.event_loop.delay_p50_ms',
    '$.event_loop.delay_p99_ms',
    '$.event_loop.delay_max_ms',
    '$.event_loop.utilization',
    '$.gc.pause_ms_per_minute',
    '$.gc.count_per_minute',
  ],
  ocr: [
    '$.calls.count',
    '$.calls.per_minute',
    '$.errors.per_minute',
    ...latencyPaths('latency'),
    '$.confidence.mean',
    '$.chars.per_minute',
    '$.unchanged.percent',
  ],
  frames: [
    '$.analysed.count',
    '$.analysed.per_minute',
    '$.fps',
    '$.target_fps',
    '$.budget_ms',
    ...latencyPaths('latency'),
    '$.late.per_minute',
    '$.late.percent',
    '$.dropped.per_minute',
  ],
  io: [
    '$.wait.ms_per_minute',
    '$.wait.share_percent',
    '$.waits.per_minute',
    '$.wait.p95_ms',
    '$.disk.read_bytes_per_second',
    '$.disk.write_bytes_per_second',
    '$.net.rx_bytes_per_second',
    '$.net.tx_bytes_per_second',
    '$.cpu.iowait_percent',
  ],
});

export const SESSION_PATHS: Readonly<Record<string, { unit: MetricUnit; description: string }>> = Object.freeze({
  '$.uptime_seconds': { unit: 'seconds', description: 'time since the session started' },
  '$.samples': { unit: 'count', description: 'samples taken so far' },
});

/** One fact path usable in rules, as listed by `loadlight validate --facts`. */
export interface FactCatalogueEntry {
  fact: string;
  path: string;
  /** The metric behind the path (`module.<name>.<field>` for module fields), null for computed facts. */
  metric: string | null;
  unit: MetricUnit | null;
  aggregate: MetricAggregate | null;
  description: string;
  available: boolean;
  /** Why the value is always null or the fact is missing. */
  reason?: string;
}

const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

export function isSafeSegment(segment: string): boolean {
  return segment.length > 0 && !UNSAFE_SEGMENTS.has(segment);
}

export function aggregateOf(info: MetricInfo): MetricAggregate {
  return info.aggregate ?? (info.kind === 'counter' ? 'rate_per_minute' : 'mean');
}

/** Where a metric lives among the facts. */
export type MetricPlace =
  | { kind: 'global'; fact: string; path: string; segments: string[] }
  | { kind: 'module'; module: string; field: string; segments: string[] }
  | { kind: 'none'; reason: string };

export function placeOf(info: MetricInfo): MetricPlace {
  if (info.module) {
    const segments = info.module.field.split('.');
    if (!segments.every(isSafeSegment) || DECLARED_MODULE_FIELDS.has(info.module.field)) {
      return { kind: 'none', reason: `module field "${info.module.field}" cannot be used as a fact path` };
    }
    return { kind: 'module', module: info.module.name, field: info.module.field, segments };
  }
  const [fact, ...segments] = info.name.split('.');
  if (fact === 'module') return { kind: 'none', reason: 'a module.* metric needs a `module: { name, field }` declaration' };
  if (fact === 'session') return { kind: 'none', reason: 'the session fact is computed by core' };
  if (!fact || segments.length === 0 || !segments.every(isSafeSegment)) {
    return { kind: 'none', reason: `metric name "${info.name}" cannot be used as a fact path` };
  }
  return { kind: 'global', fact, path: `$.${segments.join('.')}`, segments };
}

/**
 * What rules may reference, built from the Store's catalogue. Rebuilt when metrics are declared.
 */
export class FactIndex {
  /** fact name -> path -> metric (global facts only). */
  readonly paths = new Map<string, Map<string, MetricInfo>>();
  /** Module fields usable as `$.<field>`: the standard ones plus any declared. */
  readonly moduleFields = new Set<string>(MODULE_FIELDS);
  /** Module fields that at least one module declared. */
  readonly declaredModuleFields = new Set<string>();
  /** Modules that declared at least one metric. */
  readonly modules = new Set<string>();
  readonly metricCount: number;

  constructor(catalogue: readonly MetricInfo[]) {
    this.metricCount = catalogue.length;
    for (const info of catalogue) {
      const place = placeOf(info);
      if (place.kind === 'global') {
        let paths = this.paths.get(place.fact);
        if (!paths) this.paths.set(place.fact, (paths = new Map()));
        paths.set(place.path, info);
      } else if (place.kind === 'module') {
        this.moduleFields.add(place.field);
        this.declaredModuleFields.add(place.field);
        this.modules.add(place.module);
      }
    }
  }

  /** Fact names a rule may use, loaded or not. */
  knownFacts(): string[] {
    return [...new Set([...Object.keys(STANDARD_FACTS), ...this.paths.keys()])].sort();
  }

  /** Whether metrics back this fact now (session always; module once a module declared one). */
  isLoaded(fact: string): boolean {
    if (fact === 'session') return true;
    if (fact === 'module') return this.modules.size > 0;
    return this.paths.has(fact);
  }

  /**
   * Paths a rule may name for a fact: the declared ones plus the standard ones. Null when they
   * cannot be known (a standard plugin without a known path list, not loaded).
   */
  knownPaths(fact: string): string[] | null {
    if (fact === 'session') return Object.keys(SESSION_PATHS);
    if (fact === 'module') return [...this.moduleFields].map((field) => `$.${field}`);
    const declared = this.paths.get(fact);
    const standard = STANDARD_PATHS[fact];
    if (!declared && !standard) return null;
    return [...new Set([...(declared?.keys() ?? []), ...(standard ?? [])])];
  }

  /** Whether a metric backs this path now (for module fields: in at least one module). */
  isDeclared(fact: string, path: string): boolean {
    if (fact === 'session') return Object.hasOwn(SESSION_PATHS, path);
    if (fact === 'module') {
      const field = path.slice(2);
      return path.startsWith('$.') && this.modules.size > 0 && (DECLARED_MODULE_FIELDS.has(field) || this.declaredModuleFields.has(field));
    }
    return this.paths.get(fact)?.has(path) ?? false;
  }
}

export interface Facts {
  /** Global facts: `system`, `process`, custom namespaces, `session`. */
  global: Record<string, unknown>;
  /** One `module` fact per module, by module name. */
  modules: Map<string, Record<string, unknown>>;
}

function setPath(target: Record<string, unknown>, segments: string[], value: number | null): void {
  let node = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (next === undefined) {
      const child: Record<string, unknown> = {};
      node[segment] = child;
      node = child;
    } else if (next !== null && typeof next === 'object') {
      node = next as Record<string, unknown>;
    } else return; // a metric name that is a prefix of another: the first declared keeps its place
  }
  const leaf = segments[segments.length - 1]!;
  if (Object.hasOwn(node, leaf) && node[leaf] !== null && typeof node[leaf] === 'object') return;
  node[leaf] = value;
}

function valueOf(store: Store, info: MetricInfo, windowSeconds: number, t: number): number | null {
  if (info.unavailable) return null;
  const stats = store.window(info.name, windowSeconds, t);
  switch (aggregateOf(info)) {
    case 'mean':
      return stats.mean;
    case 'max':
      return stats.max;
    case 'min':
      return stats.min;
    case 'p95':
      return stats.p95;
    case 'last':
      return stats.last;
    case 'rate_per_minute':
      return stats.ratePerMinute;
    case 'slope_per_minute':
      return stats.slopePerMinute;
  }
}

/**
 * Adds a metric's declared module tags to the module's list, once each, in declaration order.
 * Anything that is not a non-empty string is skipped: the declaration came from a plugin.
 */
function addTags(tags: string[], declared: readonly unknown[] | undefined): void {
  if (!declared) return;
  for (const tag of declared) if (typeof tag === 'string' && tag.length > 0 && !tags.includes(tag)) tags.push(tag);
}

/**
 * The fact values over the last `windowSeconds` up to `t`. Missing values stay null. Each module
 * fact holds `name`, `tags` (the union of the tags declared on its metrics, `[]` when none) and
 * its fields.
 */
export function buildFacts(store: Store, windowSeconds: number, t: number): Facts {
  const global: Record<string, unknown> = {};
  const modules = new Map<string, Record<string, unknown>>();
  for (const info of store.catalogue()) {
    const place = placeOf(info);
    if (place.kind === 'none') continue;
    const value = valueOf(store, info, windowSeconds, t);
    if (place.kind === 'global') {
      let fact = global[place.fact] as Record<string, unknown> | undefined;
      if (!fact) global[place.fact] = fact = {};
      setPath(fact, place.segments, value);
    } else {
      const fact = moduleFact(modules, place.module);
      addTags(fact.tags as string[], info.module?.tags);
      setPath(fact, place.segments, value);
    }
  }
  global.session = { uptime_seconds: Math.max(0, (t - store.originT) / 1000), samples: store.size };
  return { global, modules };
}

function moduleFact(modules: Map<string, Record<string, unknown>>, name: string): Record<string, unknown> {
  let fact = modules.get(name);
  if (!fact) modules.set(name, (fact = { name, tags: [] }));
  return fact;
}

/**
 * Resolves `$.a.b` by own properties only. Used as json-rules-engine's `pathResolver` instead of
 * JSONPath, so a path can never evaluate script or reach a prototype.
 */
export function resolvePath(value: unknown, path: string): unknown {
  if (path === '$') return value;
  if (!path.startsWith('$.')) return undefined;
  let node = value;
  for (const segment of path.slice(2).split('.')) {
    if (!isSafeSegment(segment) || node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/**
 * Fills `{{fact.path}}` placeholders (`{{process.cpu.percent}}`, `{{module.name}}`) from facts:
 * a plain own-property walk, never code; `__proto__`, `constructor` and `prototype` are refused;
 * numbers are rounded to one decimal; a list of strings (`{{module.tags}}`) is joined with `, `;
 * anything missing or else becomes `?`.
 */
export function fillMessage(template: string, facts: Record<string, unknown>): string {
  return template.replace(/\{\{([^{}]*)\}\}/g, (_whole, inner: string) => {
    const segments = inner.trim().split('.');
    let node: unknown = facts;
    for (const segment of segments) {
      if (!isSafeSegment(segment) || node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return '?';
      node = (node as Record<string, unknown>)[segment];
    }
    if (typeof node === 'number') return Number.isFinite(node) ? String(Math.round(node * 10) / 10 || 0) : '?';
    if (typeof node === 'string') return node;
    if (typeof node === 'boolean') return String(node);
    // A list of names (a module's tags): `ocr, verbose`; `none` when empty.
    if (Array.isArray(node) && node.every((item) => typeof item === 'string')) return node.length ? node.join(', ') : 'none';
    return '?';
  });
}

/** Placeholders of a message template, as `[fact, path]` (`{{process.cpu.percent}}` -> process, $.cpu.percent). */
export function placeholders(template: string): Array<{ text: string; fact: string; path: string }> {
  const out: Array<{ text: string; fact: string; path: string }> = [];
  for (const match of template.matchAll(/\{\{([^{}]*)\}\}/g)) {
    const [fact = '', ...rest] = match[1]!.trim().split('.');
    out.push({ text: match[0], fact, path: rest.length ? `$.${rest.join('.')}` : '$' });
  }
  return out;
}

/** Every fact path usable in rules, with its unit and whether a value can be expected. */
export function factCatalogue(store: Store): FactCatalogueEntry[] {
  const entries: FactCatalogueEntry[] = [];
  const index = new FactIndex(store.catalogue());
  const moduleInfos = new Map<string, MetricInfo>();
  for (const info of store.catalogue()) {
    const place = placeOf(info);
    if (place.kind === 'module') {
      if (!moduleInfos.has(place.field)) moduleInfos.set(place.field, info);
      continue;
    }
    if (place.kind === 'none') {
      const [fact = info.name] = info.name.split('.');
      entries.push({
        fact,
        path: `$.${info.name.split('.').slice(1).join('.')}`,
        metric: info.name,
        unit: info.unit,
        aggregate: aggregateOf(info),
        description: info.description,
        available: false,
        reason: place.reason,
      });
      continue;
    }
    const entry: FactCatalogueEntry = {
      fact: place.fact,
      path: place.path,
      metric: info.name,
      unit: info.unit,
      aggregate: aggregateOf(info),
      description: info.description,
      available: !info.unavailable,
    };
    if (info.unavailable) entry.reason = info.unavailable;
    entries.push(entry);
  }
  for (const field of index.moduleFields) {
    const info = moduleInfos.get(field);
    const standard = MODULE_FIELD_INFO[field];
    const entry: FactCatalogueEntry = {
      fact: 'module',
      path: `$.${field}`,
      metric: DECLARED_MODULE_FIELDS.has(field) ? null : `module.<name>.${field}`,
      unit: info?.unit ?? standard?.unit ?? null,
      aggregate: info ? aggregateOf(info) : null,
      description: info?.description ?? standard?.description ?? field,
      available: DECLARED_MODULE_FIELDS.has(field) ? index.modules.size > 0 : info !== undefined,
    };
    if (!entry.available) {
      entry.reason =
        index.modules.size === 0
          ? `no module metrics declared: load ${STANDARD_FACTS.module} to use the module fact`
          : `no module declares the field "${field}"`;
    }
    entries.push(entry);
  }
  for (const [path, info] of Object.entries(SESSION_PATHS)) {
    entries.push({ fact: 'session', path, metric: null, unit: info.unit, aggregate: null, description: info.description, available: true });
  }
  for (const [fact, plugin] of Object.entries(STANDARD_FACTS)) {
    if (index.isLoaded(fact) || fact === 'module') continue;
    entries.push({
      fact,
      path: '$.*',
      metric: null,
      unit: null,
      aggregate: null,
      description: `facts of ${plugin}`,
      available: false,
      reason: `no ${fact}.* metrics declared: load ${plugin} to use the ${fact} fact; rules on it are inactive`,
    });
  }
  return entries;
}
