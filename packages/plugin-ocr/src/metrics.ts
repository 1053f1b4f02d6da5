import type { MetricDeclaration } from '@loadlight/core';

// Metric names are a contract with the rules: keep them exactly.

export const OCR_METRICS = {
  'ocr.calls.count': {
    unit: 'count',
    kind: 'counter',
    description: 'OCR calls since the previous tick (trackOcrCall, timeOcr and instrumented tesseract.js workers, failed calls included)',
  },
  'ocr.calls.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'OCR calls between two ticks, per minute of elapsed time',
  },
  'ocr.errors.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'Timed OCR calls that threw or rejected between two ticks, per minute of elapsed time',
  },
  'ocr.latency.mean_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Mean latency of the timed OCR calls that ended between two ticks (null when none)',
  },
  'ocr.latency.p50_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Median latency of the timed OCR calls that ended between two ticks (perf_hooks histogram, null when none)',
  },
  'ocr.latency.p95_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: '95th percentile latency of the timed OCR calls that ended between two ticks (null when none)',
  },
  'ocr.latency.p99_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: '99th percentile latency of the timed OCR calls that ended between two ticks (null when none)',
  },
  'ocr.latency.max_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Longest timed OCR call that ended between two ticks (null when none)',
    aggregate: 'max',
  },
  'ocr.confidence.mean': {
    unit: 'percent',
    kind: 'gauge',
    description: 'Mean recognition confidence, 0-100, of the timed calls whose result carried one (result.confidence or tesseract.js result.data.confidence; null when none)',
  },
  'ocr.chars.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'Characters of recognised text (result.text or result.data.text, length) between two ticks, per minute of elapsed time',
  },
  'ocr.unchanged.percent': {
    unit: 'percent',
    kind: 'gauge',
    description: "Share of the timed calls with a text between two ticks whose text equalled the previous call's: a high value means OCR runs more often than the screen changes (null when none)",
  },
} as const satisfies Record<string, MetricDeclaration>;

export type OcrMetricName = keyof typeof OCR_METRICS;
