import type { MetricDeclaration } from '@loadlight/core';

// Metric names are a contract with the rules: keep them exactly.

export const FRAMES_METRICS = {
  'frames.analysed.count': {
    unit: 'count',
    kind: 'counter',
    description: 'Frames analysed since the previous tick (trackFrame, frameEnd, frameTimer)',
  },
  'frames.analysed.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'Frames analysed between two ticks, per minute of elapsed time',
  },
  'frames.fps': {
    unit: 'fps',
    kind: 'gauge',
    description: 'Frames analysed per second between two ticks (the achieved rate)',
  },
  'frames.target_fps': {
    unit: 'fps',
    kind: 'gauge',
    description: 'The frame rate aimed for (option targetFps)',
  },
  'frames.budget_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Time allowed per frame, 1000 / targetFps; a frame that takes longer is late',
  },
  'frames.latency.mean_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Mean analysis time of the timed frames between two ticks (null when none)',
  },
  'frames.latency.p50_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Median analysis time of the timed frames between two ticks (perf_hooks histogram, null when none)',
  },
  'frames.latency.p95_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: '95th percentile analysis time of the timed frames between two ticks (null when none)',
  },
  'frames.latency.p99_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: '99th percentile analysis time of the timed frames between two ticks (null when none)',
  },
  'frames.latency.max_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Longest analysis time of a frame between two ticks (null when none)',
    aggregate: 'max',
  },
  'frames.late.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'Frames whose analysis took longer than the budget, between two ticks, per minute of elapsed time',
  },
  'frames.late.percent': {
    unit: 'percent',
    kind: 'gauge',
    description: 'Late frames as a percent of the frames analysed between two ticks (null when none were analysed)',
  },
  'frames.dropped.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'Frames skipped without analysis (trackFrameDropped) between two ticks, per minute of elapsed time',
  },
} as const satisfies Record<string, MetricDeclaration>;

export type FramesMetricName = keyof typeof FRAMES_METRICS;
