import type { JsonSchema } from './validate.js';

/** The `schemaVersion` of the session profiles this loadlight writes. */
export const SESSION_SCHEMA_VERSION = 2;

const num = { type: 'number' };
const nullableNumber = { type: ['number', 'null'] };
const nullableString = { type: ['string', 'null'] };
const dateTime = { type: 'string', format: 'date-time' };
const level = { enum: ['green', 'yellow', 'red'] };
const unit = {
  enum: ['percent', 'ratio', 'ms', 'ms_per_minute', 'mb', 'mb_per_minute', 'bytes', 'bytes_per_second', 'count', 'per_minute', 'fps', 'seconds', 'load'],
};

/** A computed metric's formula (see MetricFormula in types.ts). */
const formula = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'of'],
      properties: { op: { enum: ['per_minute', 'percent_of_interval'] }, of: { type: 'string', minLength: 1 } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'of', 'by'],
      properties: { op: { const: 'ratio' }, of: { type: 'string', minLength: 1 }, by: { type: 'string', minLength: 1 } },
    },
  ],
};

/** A series: dense (one value per time, null where missing), sparse (`at` rows, `v` values) or runs (`runs` lengths, `v` values). */
const series = {
  type: ['array', 'object'],
  if: { type: 'array' },
  then: { items: nullableNumber },
  else: {
    if: { properties: { runs: true }, required: ['runs'] },
    then: {
      additionalProperties: false,
      required: ['runs', 'v'],
      properties: {
        runs: { type: 'array', items: { type: 'integer', minimum: 1 } },
        v: { type: 'array', items: nullableNumber },
      },
    },
    else: {
      additionalProperties: false,
      required: ['at', 'v'],
      properties: {
        at: { type: 'array', items: { type: 'integer', minimum: 0 } },
        v: { type: 'array', items: num },
      },
    },
  },
};

const evidence = {
  type: 'object',
  required: ['rule', 'file', 'windowSeconds', 'conditions'],
  properties: {
    rule: { type: 'string' },
    file: { type: 'string' },
    windowSeconds: num,
    module: { type: 'string' },
    conditions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['fact', 'operator'],
        properties: {
          fact: { type: 'string' },
          path: { type: 'string' },
          operator: { type: 'string' },
          threshold: true,
          value: true,
        },
      },
    },
  },
};

const statistics = {
  type: 'object',
  additionalProperties: false,
  required: ['count', 'min', 'max', 'mean', 'p50', 'p95', 'p99', 'last'],
  properties: {
    count: { type: 'integer', minimum: 0 },
    min: nullableNumber,
    max: nullableNumber,
    mean: nullableNumber,
    p50: nullableNumber,
    p95: nullableNumber,
    p99: nullableNumber,
    last: nullableNumber,
  },
};

const moduleProfile = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'calls', 'errors', 'totalMs', 'meanMs', 'minMs', 'maxMs', 'p95Ms', 'cpuMs', 'cpuPercent', 'memoryMb', 'level'],
  properties: {
    name: { type: 'string' },
    calls: nullableNumber,
    errors: nullableNumber,
    totalMs: nullableNumber,
    meanMs: nullableNumber,
    minMs: nullableNumber,
    maxMs: nullableNumber,
    p95Ms: nullableNumber,
    cpuMs: nullableNumber,
    cpuPercent: nullableNumber,
    memoryMb: nullableNumber,
    level: { enum: ['green', 'yellow', 'red', null] },
  },
};

/** JSON Schema (draft 2020-12) of a session profile, as written by @loadlight/reporter-json. */
export const sessionProfileSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://loadlight.dev/schemas/session-profile-2.json',
  title: 'loadlight session profile',
  type: 'object',
  required: [
    'schemaVersion',
    'sessionId',
    'startedAt',
    'endedAt',
    'durationMs',
    'host',
    'node',
    'pid',
    'config',
    'catalogue',
    'samples',
    'statistics',
    'modules',
    'levels',
    'alerts',
    'recommendations',
    'overhead',
    'faults',
    'actions',
  ],
  properties: {
    schemaVersion: { const: SESSION_SCHEMA_VERSION },
    sessionId: { type: 'string', minLength: 1 },
    startedAt: dateTime,
    endedAt: dateTime,
    durationMs: { type: 'number', minimum: 0 },
    host: {
      type: 'object',
      required: ['hostname', 'platform', 'arch', 'cpus', 'totalMemoryMb'],
      properties: {
        hostname: { type: 'string' },
        platform: { type: 'string' },
        arch: { type: 'string' },
        cpus: { type: 'integer', minimum: 1 },
        totalMemoryMb: num,
      },
    },
    node: { type: 'string' },
    pid: { type: 'integer' },
    config: {
      type: 'object',
      required: ['file', 'sampleIntervalMs', 'evaluateEveryMs', 'maxSamples', 'windowSeconds', 'plugins', 'reporters', 'rules'],
      properties: {
        file: nullableString,
        sampleIntervalMs: num,
        evaluateEveryMs: num,
        maxSamples: { type: 'integer' },
        windowSeconds: num,
        plugins: { type: 'array', items: { type: 'string' } },
        reporters: { type: 'array', items: { type: 'string' } },
        rules: {
          type: 'array',
          items: {
            type: 'object',
            required: ['file', 'sha256', 'rules'],
            properties: {
              file: { type: 'string' },
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
              rules: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
    },
    catalogue: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['unit', 'kind', 'description', 'plugin'],
        properties: {
          unit,
          kind: { enum: ['gauge', 'counter'] },
          description: { type: 'string' },
          plugin: { type: 'string' },
          module: { type: 'string' },
          unavailable: { type: 'string' },
          derivedFrom: { type: 'string' },
          formula,
        },
      },
    },
    samples: {
      type: 'object',
      description:
        "Sample times (ms since the epoch, oldest first) and the values of every metric with samples of its own, each series " +
        'in the shortest of three forms: dense (one value per time, null where missing), sparse ({ at: row indices, ascending; ' +
        'v: their values }; other rows missing) or runs ({ runs: lengths; v: values, null for missing }: v[i] for runs[i] rows). Values are held at the resolution of their unit (ms to 0.001, percent, per_minute, fps and load to 0.01, ' +
        'mb to 0.001, ratio to 0.0001, bytes_per_second to 1; count, bytes and other units exactly). A computed metric (its ' +
        'catalogue entry has a formula: calls_per_minute, latency_mean_ms, cpu_percent of a module) has no series here: ' +
        "sessionSeries() of @loadlight/core computes it from its operands and the intervals (from `since` for the first row), " +
        'rounded to its unit, as the Store does. A derived metric (derivedFrom) has no series.',
      required: ['t', 'since', 'values'],
      properties: {
        t: { type: 'array', items: num },
        since: num,
        values: { type: 'object', additionalProperties: series },
      },
    },
    statistics: { type: 'object', additionalProperties: statistics },
    modules: { type: 'array', items: moduleProfile },
    levels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['subject', 'kind', 'level'],
        properties: { subject: { type: 'string' }, kind: { enum: ['process', 'system', 'module'] }, level },
      },
    },
    alerts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'id', 'state', 'severity', 'message', 'module', 'at', 'evidence'],
        properties: {
          key: { type: 'string' },
          id: { type: 'string' },
          state: { enum: ['pending', 'firing', 'resolved'] },
          severity: { enum: ['info', 'warning', 'critical'] },
          message: { type: 'string' },
          module: nullableString,
          at: dateTime,
          evidence: { anyOf: [evidence, { type: 'null' }] },
        },
      },
    },
    recommendations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'priority', 'message', 'module', 'rule', 'action', 'firstSeen', 'lastSeen', 'count', 'evidence'],
        properties: {
          id: { type: 'string' },
          priority: { enum: ['high', 'medium', 'low'] },
          message: { type: 'string' },
          module: nullableString,
          rule: { type: 'string' },
          action: nullableString,
          firstSeen: dateTime,
          lastSeen: dateTime,
          count: { type: 'integer', minimum: 1 },
          evidence,
        },
      },
    },
    overhead: {
      type: 'object',
      required: ['cpuMs', 'cpuPercent', 'storeBytes', 'ticks', 'meanTickMs', 'heapUsedMb', 'rssMb'],
      properties: {
        cpuMs: { type: 'number', minimum: 0 },
        cpuPercent: { type: 'number', minimum: 0 },
        storeBytes: { type: 'integer', minimum: 0 },
        ticks: { type: 'integer', minimum: 0 },
        meanTickMs: { type: 'number', minimum: 0 },
        heapUsedMb: num,
        rssMb: num,
      },
    },
    faults: {
      type: 'array',
      items: {
        type: 'object',
        required: ['plugin', 'hook', 'message', 'count', 'firstAt', 'lastAt'],
        properties: {
          plugin: { type: 'string' },
          hook: { type: 'string' },
          message: { type: 'string' },
          count: { type: 'integer', minimum: 1 },
          firstAt: num,
          lastAt: num,
          // optional (older sessions have none): when the profiler stopped calling the tap
          disabledAt: num,
        },
      },
    },
    recovered: {
      type: 'object',
      description: 'Set by "loadlight recover": the session was rebuilt from the journal of a process that died before writing it.',
      required: ['at', 'journal', 'rows', 'skippedLines', 'tornLastLine'],
      properties: {
        at: dateTime,
        journal: { type: 'string' },
        rows: { type: 'integer', minimum: 0 },
        skippedLines: { type: 'integer', minimum: 0 },
        tornLastLine: { type: 'boolean' },
      },
    },
    actions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'at', 'source', 'ok', 'durationMs', 'recommendation', 'result', 'error'],
        properties: {
          id: { type: 'string' },
          at: dateTime,
          source: { type: 'string' },
          ok: { type: 'boolean' },
          durationMs: { type: 'number', minimum: 0 },
          recommendation: nullableString,
          result: true,
          error: nullableString,
        },
      },
    },
  },
};
