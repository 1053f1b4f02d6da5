import type { Profiler } from './profiler.js';

/** What a metric's numbers mean. Names end in the unit where one applies (`_ms`, `_mb`, `percent`). */
export type MetricUnit =
  | 'percent'
  | 'ratio'
  | 'ms'
  | 'ms_per_minute'
  | 'mb'
  | 'mb_per_minute'
  | 'bytes'
  | 'bytes_per_second'
  | 'count'
  | 'per_minute'
  | 'fps'
  | 'seconds'
  | 'load';

/**
 * - `gauge`: a value read at each tick (CPU %, RSS); facts use the window mean.
 * - `counter`: events counted since the previous tick; facts use the rate per minute.
 */
export type MetricKind = 'gauge' | 'counter';

/** How a metric becomes a fact value over the rules window. */
export type MetricAggregate = 'mean' | 'max' | 'min' | 'p95' | 'last' | 'rate_per_minute' | 'slope_per_minute';

/**
 * How a computed metric's value in a row follows from other metrics of that row. The interval is
 * the time since the previous row (for the first row ever: since the store's origin); a row
 * without an interval (the same time as the previous one), or whose operand is missing, has no
 * value.
 * - `per_minute`: `of` (events in the interval) per minute of the interval.
 * - `percent_of_interval`: `of` (ms) as a percent of the interval (CPU ms to % of one core).
 * - `ratio`: `of / by`; no value where `by` is 0.
 */
export type MetricFormula =
  | { op: 'per_minute'; of: string }
  | { op: 'percent_of_interval'; of: string }
  | { op: 'ratio'; of: string; by: string };

export interface MetricDeclaration {
  unit: MetricUnit;
  kind: MetricKind;
  description: string;
  /** Fact value over the window. Default: `mean` for gauges, `rate_per_minute` for counters. */
  aggregate?: MetricAggregate;
  /**
   * A derived metric has no samples of its own: its fact is `aggregate` over the samples of
   * `derivedFrom` (for example the heap's slope per minute).
   */
  derivedFrom?: string;
  /**
   * A computed metric has no samples of its own either: its value in each row is computed when
   * read (windows, series, latest) from metrics of the same row, so it costs no memory. Its
   * operands are names of metrics with samples of their own, or a last name part alone for a
   * metric beside it (`calls` in `module.ocr.calls_per_minute` is `module.ocr.calls`). Values
   * a plugin writes to it are ignored.
   */
  formula?: MetricFormula;
  /**
   * Set when the metric belongs to one profiled module (`module.<name>.<field>`). `tags` describe
   * the module to rules (`verbose`, `heatmap`, `optional`): the `module` fact's `$.tags`.
   */
  module?: { name: string; field: string; tags?: string[] };
}

export interface MetricInfo extends MetricDeclaration {
  name: string;
  /** The plugin that declared it. */
  plugin: string;
  /** Why the platform cannot give this metric; its values are then always null. */
  unavailable?: string;
}

/** Handed to every `collect` tap: each tap writes the metrics its plugin declared. */
export interface SampleWriter {
  /**
   * Write one value for this tick; `null` means "not measured this tick", and so does NaN or
   * ±Infinity. A metric the plugin did not declare, or a value that is not a number or null, is
   * dropped and counted as a fault of the plugin; so is a write after the tap finished.
   */
  set(name: string, value: number | null): void;
  /** The tick's wall-clock time (ms since the epoch). */
  readonly t: number;
}

/** One committed row, as seen by `sample` observers. */
export interface Sample {
  t: number;
  index: number;
  /** Reads this row's value of a metric (null when missing). */
  get(name: string): number | null;
}

export type LoadLevel = 'green' | 'yellow' | 'red';
export type Priority = 'high' | 'medium' | 'low';
export type AlertSeverity = 'info' | 'warning' | 'critical';

/** Why a rule fired: the rule, the fact values it saw, the window, and whom it blames. */
export interface Evidence {
  rule: string;
  file: string;
  windowSeconds: number;
  module?: string;
  conditions: Array<{
    fact: string;
    path?: string;
    operator: string;
    threshold: unknown;
    value: unknown;
  }>;
}

export interface LevelResult {
  /** `process`, `system`, or a module name. */
  subject: string;
  kind: 'process' | 'system' | 'module';
  level: LoadLevel;
  evidence: Evidence | null;
}

export interface Recommendation {
  id: string;
  priority: Priority;
  message: string;
  module?: string;
  action?: string;
  evidence: Evidence;
}

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface AlertTransition {
  /** `<alert id>` or `<alert id>:<module>` for per-module alerts. */
  key: string;
  id: string;
  state: AlertState;
  severity: AlertSeverity;
  message: string;
  module?: string;
  t: number;
  evidence: Evidence | null;
}

export interface ActiveAlert {
  key: string;
  id: string;
  state: 'pending' | 'firing';
  severity: AlertSeverity;
  message: string;
  module?: string;
  since: number;
  evidence: Evidence | null;
}

export interface Evaluation {
  t: number;
  levels: LevelResult[];
  recommendations: Recommendation[];
  alerts: ActiveAlert[];
  transitions: AlertTransition[];
}

/** One run of a registered action, as recorded in the session. */
export interface ActionRecord {
  id: string;
  at: string;
  /** Who asked: `api`, `dashboard`, ... */
  source: string;
  ok: boolean;
  durationMs: number;
  /** The recommendation that named this action when it ran, if any. */
  recommendation: string | null;
  /** What the handler returned (JSON-safe), or null. */
  result: unknown;
  error: string | null;
}

/** Failures of one plugin in one hook (`rules`/`reload` for a rejected rule file edit). */
export interface Fault {
  plugin: string;
  hook: string;
  /** The last failure's message. */
  message: string;
  count: number;
  firstAt: number;
  lastAt: number;
  /**
   * Set when the profiler stopped calling the plugin's tap in this hook, after
   * `maxConsecutiveFaults` failures in a row (ms since the epoch).
   */
  disabledAt?: number;
}

export interface SnapshotMetric {
  name: string;
  unit: MetricUnit;
  value: number | null;
  module?: string;
}

/** What live reporters render at each report. */
export interface Snapshot {
  sessionId: string;
  t: number;
  startedAt: number;
  uptimeMs: number;
  samples: number;
  /** The latest value of every metric. */
  metrics: Record<string, SnapshotMetric>;
  /** Window statistics (mean, p95...) are read through `profiler.store.window()`. */
  evaluation: Evaluation | null;
  faults: Fault[];
  /** Set while the last edit of a rule file was rejected; the last good rules stay in force. */
  rulesError: string | null;
  overhead: Overhead;
  /** Actions the program registered (a recommendation naming one can be applied). */
  actions: Array<{ id: string; description: string }>;
}

export interface Overhead {
  /** On-CPU time of the profiler's own work on the main thread (ticks, rules, reports). */
  cpuMs: number;
  /** `cpuMs` as a percent of one core over the session so far. */
  cpuPercent: number;
  /** Bytes held by the ring buffers. */
  storeBytes: number;
  ticks: number;
  /** Mean on-CPU time per tick. */
  meanTickMs: number;
}

/** A plugin taps the profiler's hooks; `metrics` declares what it writes in `collect`. */
export interface Plugin {
  name: string;
  metrics?: Record<string, MetricDeclaration>;
  apply(profiler: Profiler): void;
}

/** In a config, a plugin is an object, a name (`"system"`), or a name with options. */
export type PluginSpec = Plugin | string | [string, Record<string, unknown>];

export interface LoadlightConfig {
  /** Sampling period. Default 1000. */
  sampleIntervalMs?: number;
  /** How often rules run. Default: every sample. */
  evaluateEveryMs?: number;
  /** How often live reporters are called. Default: every sample. */
  reportIntervalMs?: number;
  /** Ring capacity per metric. Default 3600. */
  maxSamples?: number;
  /** A `collect` or `report` tap that takes longer is cut off for that tick. Default 500. */
  collectTimeoutMs?: number;
  /**
   * A `start`, `stop` or `export` tap that takes longer is given up on (a fault): a hung plugin
   * cannot keep `start()` or `stop()` from resolving. Default 10000.
   */
  lifecycleTimeoutMs?: number;
  /**
   * A plugin's tap that fails (throws, rejects, times out) this many times in a row is no longer
   * called in that hook, with one warning; a success resets the count. 0: never. Default 5.
   */
  maxConsecutiveFaults?: number;
  /** The window rules see (mean, rates...). Default 60. */
  windowSeconds?: number;
  /** Metric sources. Default: `['system']`. */
  plugins?: PluginSpec[];
  /** Reporters. Default: `['console', 'json']`. */
  reporters?: PluginSpec[];
  /** Rule files, relative to the config file. Default: the rules shipped in `@loadlight/rules`. */
  rules?: string[];
  /** Re-read rule files when they change. Default true. */
  watchRules?: boolean;
  /** Names the session and its file. Default: time and pid. Made safe as a file name. */
  sessionId?: string;
  /**
   * Performance budgets, checked by `loadlight compare`: metric name -> limits. It exits 2 when one
   * is exceeded: `{ 'module.core.ocr.cpu_percent': { max: 40 }, 'frames.latency.p95_ms': { maxIncreasePercent: 10 } }`.
   */
  budgets?: Record<string, Budget>;
}

/**
 * The statistic of a metric a budget judges. Default: `mean` for a gauge, `rate_per_minute` (its
 * total per minute of the session) for a counter, whose other statistics are over per-minute rates.
 */
export type BudgetStat = 'mean' | 'min' | 'max' | 'p50' | 'p95' | 'p99' | 'last' | 'rate_per_minute';

/** Every limit a budget may set, in the metric's unit (`...Percent`: percent of the baseline). */
export interface BudgetLimits {
  /** The current session's statistic must be at most this. */
  max?: number;
  /** The current session's statistic must be at least this. */
  min?: number;
  /** current - baseline must be at most this. */
  maxIncrease?: number;
  /** (current - baseline) / baseline must be at most this many percent. */
  maxIncreasePercent?: number;
  /** baseline - current must be at most this. */
  maxDecrease?: number;
  /** (baseline - current) / baseline must be at most this many percent. */
  maxDecreasePercent?: number;
}

/** A budget on one metric: at least one limit, and optionally the statistic it applies to. */
export type Budget = BudgetLimits & { stat?: BudgetStat } & (
    | { max: number }
    | { min: number }
    | { maxIncrease: number }
    | { maxIncreasePercent: number }
    | { maxDecrease: number }
    | { maxDecreasePercent: number }
  );

/** The config after defaults, with plugins resolved to objects. */
export interface ResolvedConfig {
  sampleIntervalMs: number;
  evaluateEveryMs: number;
  reportIntervalMs: number;
  maxSamples: number;
  collectTimeoutMs: number;
  lifecycleTimeoutMs: number;
  maxConsecutiveFaults: number;
  windowSeconds: number;
  plugins: Plugin[];
  reporters: Plugin[];
  rules: string[];
  watchRules: boolean;
  sessionId: string;
  /** The file the config came from, or null for the embedded default / an inline config. */
  configFile: string | null;
  /** Where relative paths (rules, output dirs) are resolved from. */
  baseDir: string;
}

export interface MetricStatistics {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  last: number | null;
}

export interface ModuleProfile {
  name: string;
  calls: number | null;
  errors: number | null;
  totalMs: number | null;
  meanMs: number | null;
  minMs: number | null;
  maxMs: number | null;
  p95Ms: number | null;
  cpuMs: number | null;
  cpuPercent: number | null;
  memoryMb: number | null;
  level: LoadLevel | null;
}

export interface SessionRecommendation {
  id: string;
  priority: Priority;
  message: string;
  module: string | null;
  rule: string;
  action: string | null;
  firstSeen: string;
  lastSeen: string;
  count: number;
  evidence: Evidence;
}

export interface SessionAlert {
  key: string;
  id: string;
  state: AlertState;
  severity: AlertSeverity;
  message: string;
  module: string | null;
  at: string;
  evidence: Evidence | null;
}

/**
 * A metric's values in a session file, oldest first, in whichever of three forms is shortest as
 * JSON (read any of them with `sessionSeries()`):
 * - dense: one value per sample time, null where missing;
 * - `SparseSeries`: only the rows that hold a value (a mostly empty series);
 * - `RunSeries`: runs of rows holding one value (a series that changes now and then).
 */
export type SessionSeries = Array<number | null> | SparseSeries | RunSeries;

/** `v[i]` is the value at row `at[i]` (rows ascending); every other row is missing. */
export interface SparseSeries {
  at: number[];
  v: number[];
}

/** `v[i]` (null: missing) holds for `runs[i]` rows in a row; the runs add up to the row count. */
export interface RunSeries {
  runs: number[];
  v: Array<number | null>;
}

/** One JSON document per session; its JSON Schema is `sessionProfileSchema`. */
export interface SessionProfile {
  schemaVersion: 2;
  sessionId: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  host: { hostname: string; platform: string; arch: string; cpus: number; totalMemoryMb: number };
  node: string;
  pid: number;
  config: {
    file: string | null;
    sampleIntervalMs: number;
    evaluateEveryMs: number;
    maxSamples: number;
    windowSeconds: number;
    plugins: string[];
    reporters: string[];
    rules: Array<{ file: string; sha256: string; rules: number }>;
  };
  catalogue: Record<
    string,
    {
      unit: MetricUnit;
      kind: MetricKind;
      description: string;
      plugin: string;
      module?: string;
      unavailable?: string;
      derivedFrom?: string;
      /** A computed metric: its values are not in `samples.values`, `sessionSeries()` computes them. */
      formula?: MetricFormula;
    }
  >;
  samples: {
    /** Sample times, ms since the epoch, oldest first. */
    t: number[];
    /** When the first sample's interval began (the sample before it, or the start): for per-interval formulas. */
    since: number;
    /** The series of every metric with samples of its own (not computed, not derived), by name. */
    values: Record<string, SessionSeries>;
  };
  statistics: Record<string, MetricStatistics>;
  modules: ModuleProfile[];
  levels: Array<{ subject: string; kind: LevelResult['kind']; level: LoadLevel }>;
  alerts: SessionAlert[];
  recommendations: SessionRecommendation[];
  overhead: Overhead & { heapUsedMb: number; rssMb: number };
  faults: Fault[];
  actions: ActionRecord[];
  /** Set by `loadlight recover`: rebuilt from the journal of a process that died before writing the session. */
  recovered?: {
    /** When it was recovered. */
    at: string;
    /** The journal it was rebuilt from (its file name). */
    journal: string;
    /** Rows read from the journal (the session keeps the newest `config.maxSamples`). */
    rows: number;
    /** Lines that could not be read, skipped. */
    skippedLines: number;
    /** The journal's last line was cut short (the usual end after `kill -9`) and dropped. */
    tornLastLine: boolean;
  };
}

/**
 * What plugins offer each other through `profiler.provide(name, value)`, by name. Core never looks
 * inside; a third party adds its own names by declaration merging (`declare module '@loadlight/core'`).
 */
export interface Provisions {
  /** Recorders of timed work (plugin-modules' calls), read by exporters that write traces. */
  trace: TraceSource;
}

/** One span of recorded work: a call of a module, or the life of a watched thread. */
export interface TraceSpan {
  /** What ran: a module name. */
  name: string;
  /** Words that classify it (the module's tags). */
  tags: readonly string[];
  /** When it began, ms since the epoch (fractional). */
  startMs: number;
  /** How long it ran, ms (never negative). */
  durationMs: number;
  /** The thread it ran on: a `worker_threads` threadId (0: the main thread). */
  thread: number;
  /** It ran across an await (an async call or span): it may overlap spans of its thread without nesting. */
  async: boolean;
  /** It threw or rejected. */
  failed: boolean;
}

/** What a trace source recorded for one profiler (a stopped one: up to its stop). */
export interface TraceRecording {
  /** The spans kept, in the order they ended. */
  spans: TraceSpan[];
  /** Spans recorded and then dropped (the oldest first) because the buffer was full. */
  dropped: number;
  /** The threads the spans ran on, named; `module` for a watched worker's thread. */
  threads: Array<{ id: number; name: string; module?: string }>;
}

/**
 * A recorder of timed work offered as `profiler.provide('trace', source)`. An exporter that
 * writes traces calls `enable()` in its `start` tap (recording costs nothing before) and `read()`
 * when it writes, also after the profiler stopped.
 */
export interface TraceSource {
  /** The plugin that records. */
  readonly plugin: string;
  /** Records from now until the profiler stops, keeping the newest `maxEvents` spans. */
  enable(options: { maxEvents: number }): void;
  read(): TraceRecording;
}
