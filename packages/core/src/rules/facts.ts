import { types } from 'node:util';
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
    // `name` and `tags` come from the declarations: a field named so, or under them
    // (`tags.0`, `name.x`), would overwrite them or vanish.
    if (!segments.every(isSafeSegment) || DECLARED_MODULE_FIELDS.has(segments[0]!)) {
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

/**
 * Sets `value` at `segments`, creating the objects on the way. A value already on the way, or an
 * object already at the place, stays: a metric name that is a prefix of another keeps the first
 * declared in its place. (A plan's fills never meet either: they follow the paths of a template
 * built by this function, a subtree filled whole; a module's `tags` list is left as it is.)
 */
function setPath(target: Record<string, unknown>, segments: string[], value: unknown): void {
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
    } else return;
  }
  const leaf = segments[segments.length - 1]!;
  if (Object.hasOwn(node, leaf) && node[leaf] !== null && typeof node[leaf] === 'object') return;
  node[leaf] = value;
}

function valueOf(store: Store, info: MetricInfo, windowSeconds: number, t: number): number | null {
  if (info.unavailable) return null;
  // The figure of `store.window(...)` the aggregate names, without the rest of the window.
  return store.windowValue(info.name, windowSeconds, t, aggregateOf(info));
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
 * The shape of the facts: every metric put at its place, in catalogue order, with the value
 * `valueFor` gives it (a window statistic, or a placeholder for a plan).
 */
function assemble(catalogue: readonly MetricInfo[], valueFor: (info: MetricInfo, index: number) => unknown): Facts {
  const global: Record<string, unknown> = {};
  const modules = new Map<string, Record<string, unknown>>();
  catalogue.forEach((info, index) => {
    const place = placeOf(info);
    if (place.kind === 'none') return;
    const value = valueFor(info, index);
    if (place.kind === 'global') {
      let fact = global[place.fact] as Record<string, unknown> | undefined;
      if (!fact) global[place.fact] = fact = {};
      setPath(fact, place.segments, value);
    } else {
      let fact = modules.get(place.module);
      if (!fact) modules.set(place.module, (fact = { name: place.module, tags: [] }));
      addTags(fact.tags as string[], info.module?.tags);
      setPath(fact, place.segments, value);
    }
  });
  return { global, modules };
}

function sessionFact(store: Store, t: number): Record<string, unknown> {
  return { uptime_seconds: Math.max(0, (t - store.originT) / 1000), samples: store.size };
}

/**
 * The fact values over the last `windowSeconds` up to `t`. Missing values stay null. Each module
 * fact holds `name`, `tags` (the union of the tags declared on its metrics, `[]` when none) and
 * its fields. Every metric's window is computed: the stage uses a `FactPlan` instead.
 */
export function buildFacts(store: Store, windowSeconds: number, t: number): Facts {
  const facts = assemble(store.catalogue(), (info) => valueOf(store, info, windowSeconds, t));
  facts.global.session = sessionFact(store, t);
  return facts;
}

/** A fact and path that rules read: in a condition, a compared value or a message placeholder. */
export interface FactRead {
  fact: string;
  /** Undefined, empty or `$`: the whole fact. */
  path: string | undefined;
}

/**
 * On a fact object built by a `FactPlan`: fills the value at `path` (every planned value when
 * `path` is empty or `$`) before it is read. Readers of planned facts (the compiled rules,
 * `fillMessage`) call it; a symbol, so that the fact reads as a plain object everywhere else.
 */
export const PENDING: unique symbol = Symbol('loadlight.pendingFacts');
export type PendingFill = (path: unknown) => void;

/** Fills the values `path` reads in this fact object, when it came from a `FactPlan`. */
export function fillPending(fact: unknown, path: unknown): void {
  if (fact !== null && typeof fact === 'object') (fact as { [PENDING]?: PendingFill })[PENDING]?.(path);
}

/** Whether reading `path` of `fact` can cost a metric window (a module's name and tags cannot). */
export function readsWindow(fact: string, path: string | undefined): boolean {
  if (fact === 'session') return false;
  return !(fact === 'module' && path !== undefined && DECLARED_MODULE_FIELDS.has(path.slice(2)) && path.startsWith('$.'));
}

/** Where a read finds its value: a metric's window, a subtree of them, or a constant (a module's name or tag). */
type Source = { kind: 'slot'; slot: number } | { kind: 'tree'; node: unknown } | { kind: 'const'; value: unknown };

interface PlannedRead {
  /** Position among all the plan's reads (its fill stamp). */
  id: number;
  segments: string[];
  source: Source;
  /**
   * The read filled in its place: itself, or the widest subtree read above it, so that an object
   * found at a planned path is always whole (a reader can trust whatever it finds).
   */
  cover: PlannedRead;
}

interface PlannedFact {
  /** The whole fact is read (a path of `$` or none): filled at once, every metric under it computed. */
  whole: unknown;
  reads: PlannedRead[];
  byPath: Map<string, PlannedRead>;
}

/** What the template holds where `buildFacts` puts a metric's value: the metric's catalogue index. */
const isSlot = (value: unknown): value is bigint => typeof value === 'bigint';

function plan(template: unknown, path: string | undefined): Source | 'whole' | null {
  if (!path || path === '$') return 'whole';
  const found = resolvePath(template, path);
  if (found === undefined) return null;
  if (isSlot(found)) return { kind: 'slot', slot: Number(found) };
  if (found !== null && typeof found === 'object') return { kind: 'tree', node: found };
  return { kind: 'const', value: found };
}

/**
 * Lazy facts: the values `buildFacts` gives at the paths the rules read, each window computed
 * the first time a rule (or a message) reads it in an evaluation. The template is `buildFacts`'s
 * own assembly with each metric's catalogue index in place of its value, so that every read
 * resolves exactly as it would on the full facts (a metric that is a prefix of another, a subtree,
 * a path that leads nowhere); a subtree or a whole fact is filled with every metric under it.
 * `session` is always whole. Reads arrive through `PENDING` (`fillPending`), a method the fact
 * objects inherit: their own properties are the facts' (a module's `tags` list is shared between
 * evaluations, and must not be changed).
 */
export class FactPlan {
  private readonly catalogue: readonly MetricInfo[];
  /** The Store planned for, and its catalogue's revision then. */
  private readonly planned: Store;
  private readonly revision: number;
  /** The global facts and the modules' facts, as lists (`build()` walks them with indexed loops: cheap in the interpreter). */
  private readonly globalList: Array<{ fact: string; planned: PlannedFact }> = [];
  private readonly moduleList: Array<{ name: string; tags: string[]; planned: PlannedFact }> = [];
  /** What every fact object with pending reads inherits: one prototype, so they share their shape. */
  private readonly proto: object;
  /** The planned fact of each fact object of the current evaluation. */
  private readonly owners = new Map<object, PlannedFact>();
  private readonly readCount: number;
  private readonly stamp: Uint32Array;
  private readonly filled: Uint32Array;
  private readonly values: Array<number | null>;
  private generation = 0;
  /** The evaluation being served: the window and time of the last `build()`. */
  private windowSeconds = 0;
  private t = 0;
  /** Windows computed in the current (last) evaluation so far. */
  windows = 0;

  constructor(store: Store, reads: Iterable<FactRead>) {
    const catalogue = store.catalogue();
    this.planned = store;
    this.revision = store.revision;
    this.catalogue = [...catalogue];
    this.stamp = new Uint32Array(catalogue.length);
    this.values = new Array<number | null>(catalogue.length).fill(null);
    const template = assemble(catalogue, (_info, index) => BigInt(index));
    const fresh = (): PlannedFact => ({ whole: undefined, reads: [], byPath: new Map() });
    const global = new Map<string, PlannedFact>();
    for (const fact of Object.keys(template.global)) {
      const planned = fresh();
      global.set(fact, planned);
      this.globalList.push({ fact, planned });
    }
    for (const [name, node] of template.modules) this.moduleList.push({ name, tags: node.tags as string[], planned: fresh() });
    let ids = 0;
    const add = (planned: PlannedFact, node: unknown, path: string | undefined) => {
      if (planned.whole !== undefined) return;
      const source = plan(node, path);
      if (source === 'whole') planned.whole = node;
      else if (source !== null) {
        const read = { id: ids++, segments: path!.slice(2).split('.'), source } as PlannedRead;
        read.cover = read;
        planned.reads.push(read);
        planned.byPath.set(path!, read);
      }
    };
    // Each distinct read once (rules read the same paths many times): a repeat is skipped here,
    // before `plan()` resolves its path, so `add()` never sees one path twice.
    const seen = new Set<string>();
    for (const { fact, path } of reads) {
      const key = `${fact}\u0000${path ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (fact === 'module') {
        for (const { name, planned } of this.moduleList) add(planned, template.modules.get(name), path);
      } else {
        const planned = global.get(fact);
        if (planned) add(planned, template.global[fact], path);
      }
    }
    this.readCount = ids;
    this.filled = new Uint32Array(ids);
    for (const { planned } of [...this.globalList, ...this.moduleList]) {
      for (const read of planned.reads) {
        for (const wider of planned.reads) {
          const above = wider.source.kind === 'tree' && wider.segments.length < read.segments.length && wider.segments.every((segment, i) => segment === read.segments[i]);
          if (above && wider.segments.length < read.cover.segments.length) read.cover = wider;
        }
      }
    }
    // The fill, with the fact object as `this`.
    const self = this;
    this.proto = Object.defineProperty({}, PENDING, {
      value(this: Record<string, unknown>, path: unknown) {
        const planned = self.owners.get(this);
        if (planned !== undefined) self.fill(this, planned, path);
      },
    });
  }

  /** Whether this is the Store planned for, its catalogue unchanged since (nothing declared). */
  fits(store: Store): boolean {
    return store === this.planned && store.revision === this.revision;
  }

  /**
   * The facts the rules read, as `buildFacts(store, windowSeconds, t)` gives them for the Store
   * planned for, each value
   * filled when first read. A plan serves one evaluation at a time: the previous evaluation's
   * facts must not be read after the next `build()`.
   */
  build(windowSeconds: number, t: number): Facts {
    const generation = (this.generation = (this.generation + 1) >>> 0 || 1);
    if (generation === 1) {
      this.stamp.fill(0);
      this.filled.fill(0);
    }
    this.windowSeconds = windowSeconds;
    this.t = t;
    this.windows = 0;
    this.owners.clear();
    const global: Record<string, unknown> = {};
    const globalList = this.globalList;
    for (let i = 0; i < globalList.length; i++) global[globalList[i]!.fact] = this.create(globalList[i]!.planned);
    global.session = sessionFact(this.planned, t);
    const modules = new Map<string, Record<string, unknown>>();
    const moduleList = this.moduleList;
    for (let i = 0; i < moduleList.length; i++) {
      const { name, tags, planned } = moduleList[i]!;
      const fact = this.create(planned);
      if (planned.whole === undefined) {
        fact.name = name;
        fact.tags = tags;
      }
      modules.set(name, fact);
    }
    return { global, modules };
  }

  /** A fact object of this evaluation: whole, empty, or filled as it is read. */
  private create(planned: PlannedFact): Record<string, unknown> {
    if (planned.whole !== undefined) return this.materialize(planned.whole) as Record<string, unknown>;
    if (planned.reads.length === 0) return {};
    const fact = Object.create(this.proto) as Record<string, unknown>;
    this.owners.set(fact, planned);
    return fact;
  }

  /** Planned reads, over every fact (for tests and the stage's debug figures). */
  get reads(): number {
    return this.readCount;
  }

  private slot(index: number): number | null {
    if (this.stamp[index] !== this.generation) {
      this.stamp[index] = this.generation;
      this.values[index] = valueOf(this.planned, this.catalogue[index]!, this.windowSeconds, this.t);
      this.windows++;
    }
    return this.values[index]!;
  }

  private materialize(node: unknown): unknown {
    if (isSlot(node)) return this.slot(Number(node));
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((item) => this.materialize(item));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(node)) out[key] = this.materialize((node as Record<string, unknown>)[key]);
    return out;
  }

  private fill(target: Record<string, unknown>, planned: PlannedFact, path: unknown): void {
    if (!path || path === '$') {
      for (const read of planned.reads) this.fillRead(target, read);
      return;
    }
    const read = typeof path === 'string' ? planned.byPath.get(path) : undefined;
    if (read !== undefined) this.fillRead(target, read);
  }

  private fillRead(target: Record<string, unknown>, planned: PlannedRead): void {
    const read = planned.cover;
    if (this.filled[read.id] === this.generation) return;
    this.filled[read.id] = this.generation;
    const { source } = read;
    setPath(target, read.segments, source.kind === 'slot' ? this.slot(source.slot) : source.kind === 'tree' ? this.materialize(source.node) : source.value);
  }
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
  let parts = messages.get(template);
  if (parts === undefined) {
    if (messages.size >= 1000) messages.clear();
    messages.set(template, (parts = messageParts(template)));
  }
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : placeholderText(part, facts);
  return out;
}

/** A placeholder, split once: its segments, whether they can be read at all, the path to fill. */
interface Placeholder {
  segments: string[];
  safe: boolean;
  /** `$.a.b` for `{{fact.a.b}}`: what a planned fact must fill. */
  fill: string | null;
}

/** Message templates, split into text and placeholders (rules repeat the same few). */
const messages = new Map<string, Array<string | Placeholder>>();

function messageParts(template: string): Array<string | Placeholder> {
  const parts: Array<string | Placeholder> = [];
  let last = 0;
  for (const match of template.matchAll(/\{\{([^{}]*)\}\}/g)) {
    if (match.index > last) parts.push(template.slice(last, match.index));
    const segments = match[1]!.trim().split('.');
    parts.push({ segments, safe: segments.every(isSafeSegment), fill: segments.length > 1 ? `$.${segments.slice(1).join('.')}` : null });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return parts;
}

/** An own data property (never a getter, a proxy trap or an inherited value), or undefined. */
function ownData(node: unknown, key: string): { value?: unknown } | undefined {
  if (node === null || typeof node !== 'object' || types.isProxy(node)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(node, key);
  return descriptor && 'value' in descriptor ? descriptor : undefined;
}

function placeholderText({ segments, safe, fill }: Placeholder, facts: Record<string, unknown>): string {
  if (!safe) return '?';
  // a fact from a FactPlan: fill what the placeholder reads
  const fact = ownData(facts, segments[0]!);
  if (!fact) return '?';
  if (fill !== null && !types.isProxy(fact.value)) fillPending(fact.value, fill);
  let node: unknown = fact.value;
  for (let i = 1; i < segments.length; i++) {
    const found = ownData(node, segments[i]!);
    if (!found) return '?';
    node = found.value;
  }
  if (typeof node === 'number') return Number.isFinite(node) ? String(Math.round(node * 10) / 10 || 0) : '?';
  if (typeof node === 'string') return node;
  if (typeof node === 'boolean') return String(node);
  // A list of names (a module's tags): `ocr, verbose`; `none` when empty.
  if (Array.isArray(node) && !types.isProxy(node)) {
    const names: string[] = [];
    for (let i = 0; i < node.length; i++) {
      const item = ownData(node, String(i))?.value;
      if (typeof item !== 'string') return '?';
      names.push(item);
    }
    return names.length ? names.join(', ') : 'none';
  }
  return '?';
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
