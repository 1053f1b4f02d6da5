import type { MetricDeclaration } from '@loadlight/core';

// Metric names are a contract with the rules (core's STANDARD_PATHS): keep them exactly.

/** This program's IO waits, from `trackIoWait(ms)` and `timeIo()`. */
export const WAIT_METRICS = {
  'io.wait.ms_per_minute': {
    unit: 'ms_per_minute',
    kind: 'gauge',
    description: 'Time spent waiting on IO (trackIoWait / timeIo) between two ticks, per minute of elapsed time; a wait counts in the tick it ends in',
  },
  'io.wait.share_percent': {
    unit: 'percent',
    kind: 'gauge',
    description:
      'IO wait time between two ticks as a percent of the elapsed wall time. Waits in flight together add up, so it can exceed 100: it is the mean number of waits in flight x 100',
  },
  'io.waits.per_minute': {
    unit: 'per_minute',
    kind: 'gauge',
    description: 'IO waits that ended between two ticks, per minute of elapsed time',
  },
  'io.wait.p95_ms': {
    unit: 'ms',
    kind: 'gauge',
    description: '95th percentile of the IO waits that ended between two ticks (null when none ended)',
  },
} as const satisfies Record<string, MetricDeclaration>;

/** The host's disk and network throughput and CPU iowait. */
export const HOST_METRICS = {
  'io.disk.read_bytes_per_second': {
    unit: 'bytes_per_second',
    kind: 'gauge',
    description: 'Bytes read by the host\'s disks between two ticks, per second (/proc/diskstats on Linux: whole physical disks; systeminformation fsStats() elsewhere)',
  },
  'io.disk.write_bytes_per_second': {
    unit: 'bytes_per_second',
    kind: 'gauge',
    description: 'Bytes written by the host\'s disks between two ticks, per second (/proc/diskstats on Linux: whole physical disks; systeminformation fsStats() elsewhere)',
  },
  'io.net.rx_bytes_per_second': {
    unit: 'bytes_per_second',
    kind: 'gauge',
    description: 'Bytes received on every network interface except loopback between two ticks, per second (/proc/net/dev on Linux; systeminformation networkStats() elsewhere)',
  },
  'io.net.tx_bytes_per_second': {
    unit: 'bytes_per_second',
    kind: 'gauge',
    description: 'Bytes sent on every network interface except loopback between two ticks, per second (/proc/net/dev on Linux; systeminformation networkStats() elsewhere)',
  },
  'io.cpu.iowait_percent': {
    unit: 'percent',
    kind: 'gauge',
    description: 'Share of the host\'s CPU time spent idle with IO outstanding between two ticks, 0-100, all cores (/proc/stat; Linux only)',
  },
} as const satisfies Record<string, MetricDeclaration>;

export type WaitMetric = keyof typeof WAIT_METRICS;
export type HostMetric = keyof typeof HOST_METRICS;
