import os from 'node:os';
import path from 'node:path';
import { LoadlightError } from './errors.js';
import { sessionProfileSchema } from './session-schema.js';
import { statistics, type Store } from './store.js';
import type {
  ActionRecord,
  Evaluation,
  Fault,
  LevelResult,
  MetricStatistics,
  ModuleProfile,
  Overhead,
  ResolvedConfig,
  SessionAlert,
  SessionProfile,
  SessionRecommendation,
} from './types.js';
import { compileSchema, formatAjvErrors } from './validate.js';

export interface SessionRecords {
  recommendations: Map<string, SessionRecommendation>;
  alerts: SessionAlert[];
}

export interface SessionInput {
  sessionId: string;
  startedAt: number;
  endedAt: number;
  config: ResolvedConfig;
  store: Store;
  rules: Array<{ file: string; sha256: string; rules: number }>;
  evaluation: Evaluation | null;
  records: SessionRecords;
  overhead: Overhead;
  faults: Fault[];
  actions: ActionRecord[];
}

const MB = 1024 * 1024;

/** How a module field is summarised over the session. */
const MODULE_FIELD_SUMMARY: Record<string, { key: keyof ModuleProfile; stat: 'sum' | 'mean' | 'max' | 'min' | 'last' }> = {
  calls: { key: 'calls', stat: 'sum' },
  errors: { key: 'errors', stat: 'sum' },
  total_ms: { key: 'totalMs', stat: 'sum' },
  latency_mean_ms: { key: 'meanMs', stat: 'mean' },
  latency_min_ms: { key: 'minMs', stat: 'min' },
  latency_max_ms: { key: 'maxMs', stat: 'max' },
  latency_p95_ms: { key: 'p95Ms', stat: 'max' },
  cpu_ms: { key: 'cpuMs', stat: 'sum' },
  cpu_percent: { key: 'cpuPercent', stat: 'mean' },
  memory_mb: { key: 'memoryMb', stat: 'last' },
};

function summarise(values: Array<number | null>, stats: MetricStatistics, stat: 'sum' | 'mean' | 'max' | 'min' | 'last'): number | null {
  if (stats.count === 0) return null;
  if (stat === 'sum') return values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return stats[stat];
}

function emptyModule(name: string): ModuleProfile {
  return {
    name,
    calls: null,
    errors: null,
    totalMs: null,
    meanMs: null,
    minMs: null,
    maxMs: null,
    p95Ms: null,
    cpuMs: null,
    cpuPercent: null,
    memoryMb: null,
    level: null,
  };
}

/** Builds the session profile from the store and what the rules recorded. */
export function buildSession(input: SessionInput): SessionProfile {
  const { store, config } = input;
  const catalogue: SessionProfile['catalogue'] = {};
  const values: Record<string, Array<number | null>> = {};
  const stats: Record<string, MetricStatistics> = {};
  const modules = new Map<string, ModuleProfile>();
  for (const info of store.catalogue()) {
    const entry: SessionProfile['catalogue'][string] = {
      unit: info.unit,
      kind: info.kind,
      description: info.description,
      plugin: info.plugin,
    };
    if (info.module) entry.module = info.module.name;
    if (info.unavailable) entry.unavailable = info.unavailable;
    if (info.derivedFrom) entry.derivedFrom = info.derivedFrom;
    catalogue[info.name] = entry;
    if (info.derivedFrom) continue;
    const series = store.series(info.name);
    values[info.name] = series;
    const metricStats = statistics(series);
    stats[info.name] = metricStats;
    if (info.module) {
      const profile = modules.get(info.module.name) ?? emptyModule(info.module.name);
      modules.set(info.module.name, profile);
      const summary = MODULE_FIELD_SUMMARY[info.module.field];
      if (summary) (profile[summary.key] as number | null) = summarise(series, metricStats, summary.stat);
    }
  }
  const levels: LevelResult[] = input.evaluation?.levels ?? [];
  for (const level of levels) {
    if (level.kind === 'module') {
      const profile = modules.get(level.subject) ?? emptyModule(level.subject);
      profile.level = level.level;
      modules.set(level.subject, profile);
    }
  }
  const memory = process.memoryUsage();
  return {
    schemaVersion: 1,
    sessionId: input.sessionId,
    startedAt: new Date(input.startedAt).toISOString(),
    endedAt: new Date(input.endedAt).toISOString(),
    durationMs: input.endedAt - input.startedAt,
    host: {
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      cpus: os.availableParallelism(),
      totalMemoryMb: Math.round(os.totalmem() / MB),
    },
    node: process.version,
    pid: process.pid,
    config: {
      file: config.configFile,
      sampleIntervalMs: config.sampleIntervalMs,
      evaluateEveryMs: config.evaluateEveryMs,
      maxSamples: config.maxSamples,
      windowSeconds: config.windowSeconds,
      plugins: config.plugins.map((p) => p.name),
      reporters: config.reporters.map((p) => p.name),
      rules: input.rules.map((r) => ({ ...r, file: path.relative(config.baseDir, r.file) || r.file })),
    },
    catalogue,
    samples: { t: store.timeSeries(), values },
    statistics: stats,
    modules: [...modules.values()].sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1)),
    levels: levels.map(({ subject, kind, level }) => ({ subject, kind, level })),
    alerts: input.records.alerts.slice(),
    recommendations: [...input.records.recommendations.values()].map((r) => ({ ...r })),
    overhead: { ...input.overhead, heapUsedMb: memory.heapUsed / MB, rssMb: memory.rss / MB },
    faults: input.faults,
    actions: input.actions,
  };
}

/** Checks a parsed session file; throws SESSION_INVALID naming what is wrong. */
export function validateSession(data: unknown, source = 'session'): asserts data is SessionProfile {
  const validate = compileSchema(sessionProfileSchema);
  if (validate(data)) return;
  const lines = formatAjvErrors(validate.errors ?? [], data).slice(0, 10);
  throw new LoadlightError('SESSION_INVALID', `${source} is not a valid loadlight session:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
}
