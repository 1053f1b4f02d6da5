import type { MetricDeclaration } from '@loadlight/core';

/** Bytes in one MB as the rest of loadlight counts it (MiB). */
export const MB = 1024 * 1024;

// Metric names are a contract with the rules: keep them exactly.

export const HOST_METRICS = {
  'system.cpu.percent': {
    unit: 'percent',
    kind: 'gauge',
    description: 'Host CPU busy time across all cores between two ticks, 0-100 (/proc/stat on Linux, os.cpus() elsewhere)',
  },
  'system.memory.used_mb': {
    unit: 'mb',
    kind: 'gauge',
    description: 'Host memory in use, not counting buffers and page cache (systeminformation mem().active: total minus available)',
  },
  'system.memory.used_percent': {
    unit: 'percent',
    kind: 'gauge',
    description: 'Host memory in use as a percent of total, not counting buffers and page cache (mem().active / mem().total)',
  },
  'system.load.avg1': { unit: 'load', kind: 'gauge', description: 'Host load average over 1 minute (os.loadavg)' },
  'system.load.avg5': { unit: 'load', kind: 'gauge', description: 'Host load average over 5 minutes (os.loadavg)' },
  'system.load.avg15': { unit: 'load', kind: 'gauge', description: 'Host load average over 15 minutes (os.loadavg)' },
} as const satisfies Record<string, MetricDeclaration>;

export const PROCESS_METRICS = {
  'process.cpu.percent': {
    unit: 'percent',
    kind: 'gauge',
    description: 'CPU time of this process (user + system, all threads) between two ticks, as a percent of one core; can exceed 100',
  },
  'process.memory.rss_mb': { unit: 'mb', kind: 'gauge', description: 'Resident set size of this process' },
  'process.heap.used_mb': { unit: 'mb', kind: 'gauge', description: 'V8 heap in use (process.memoryUsage().heapUsed)' },
  'process.heap.growth_mb_per_minute': {
    unit: 'mb_per_minute',
    kind: 'gauge',
    description: 'Growth of the V8 heap in use: least-squares slope of process.heap.used_mb over the window; steady growth hints at a leak',
    derivedFrom: 'process.heap.used_mb',
    aggregate: 'slope_per_minute',
  },
} as const satisfies Record<string, MetricDeclaration>;

export const EVENT_LOOP_METRICS = {
  'process.event_loop.delay_p50_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Median event-loop delay between two ticks: how late the delay monitor\'s timer ran, beyond its period (perf_hooks.monitorEventLoopDelay)',
  },
  'process.event_loop.delay_p99_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: '99th percentile of event-loop delay between two ticks (perf_hooks.monitorEventLoopDelay)',
  },
  'process.event_loop.delay_max_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: 'Longest event-loop delay between two ticks: the longest the loop was blocked (perf_hooks.monitorEventLoopDelay)',
    aggregate: 'max',
  },
  'process.event_loop.utilization': {
    unit: 'ratio',
    kind: 'gauge',
    description: 'Share of the time between two ticks the event loop spent running code rather than waiting, 0-1 (performance.eventLoopUtilization)',
  },
} as const satisfies Record<string, MetricDeclaration>;

export const GC_METRICS = {
  'process.gc.pause_ms_per_minute': {
    unit: 'ms_per_minute',
    kind: 'gauge',
    description: 'Time spent in garbage-collection pauses between two ticks, per minute of elapsed time (PerformanceObserver "gc")',
  },
  'process.gc.count_per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'Garbage collections between two ticks, per minute of elapsed time (PerformanceObserver "gc")',
  },
} as const satisfies Record<string, MetricDeclaration>;

/** The two metrics of one watched process, `module.<name>.<field>`. */
export function processMetrics(name: string, pid: number): Record<'cpu' | 'memory', { name: string; declaration: MetricDeclaration }> {
  return {
    cpu: {
      name: `module.${name}.cpu_percent`,
      declaration: {
        unit: 'percent',
        kind: 'gauge',
        description: `CPU time of watched process "${name}" (pid ${pid}) between two ticks, as a percent of one core (pidusage)`,
        module: { name, field: 'cpu_percent' },
      },
    },
    memory: {
      name: `module.${name}.memory_mb`,
      declaration: {
        unit: 'mb',
        kind: 'gauge',
        description: `Resident set size of watched process "${name}" (pid ${pid}) (pidusage)`,
        module: { name, field: 'memory_mb' },
      },
    },
  };
}
