import type { MetricInfo } from '@loadlight/core';
import { describe, expect, it } from 'vitest';
import { exposedName, exposedType, exposedUnit, MB, msToSeconds } from './names.js';

type Info = Pick<MetricInfo, 'name' | 'unit' | 'kind' | 'derivedFrom' | 'module'>;
const gauge = (name: string, unit: string, extra: Partial<Info> = {}): Info => ({ name, unit: unit as never, kind: 'gauge', ...extra });
const counter = (name: string, unit: string, extra: Partial<Info> = {}): Info => ({ name, unit: unit as never, kind: 'counter', ...extra });
const field = (module: string, name: string, unit: string, kind: 'gauge' | 'counter' = 'gauge'): Info => ({
  name: `module.${module}.${name}`,
  unit: unit as never,
  kind,
  module: { name: module, field: name },
});

describe('exposedName', () => {
  it.each<[Info, string]>([
    // The unit ending becomes the base unit, or stays where there is no plainer one.
    [gauge('system.cpu.percent', 'percent'), 'system_cpu_percent'],
    [gauge('frames.latency.p95_ms', 'ms'), 'frames_latency_p95_seconds'],
    [gauge('process.memory.rss_mb', 'mb'), 'process_memory_rss_bytes'],
    [gauge('io.wait.ms_per_minute', 'ms_per_minute'), 'io_wait_seconds_per_minute'],
    [gauge('process.heap.growth_mb_per_minute', 'mb_per_minute', { derivedFrom: 'process.heap.used_mb' }), 'process_heap_growth_bytes_per_minute'],
    [gauge('io.disk.read_bytes_per_second', 'bytes_per_second'), 'io_disk_read_bytes_per_second'],
    [gauge('ocr.calls.per_minute', 'per_minute'), 'ocr_calls_per_minute'],
    [gauge('frames.fps', 'fps'), 'frames_fps'],
    [gauge('queue.wait', 'seconds'), 'queue_wait_seconds'],
    // A name without its unit ending gets the exposed unit appended.
    [gauge('ocr.confidence.mean', 'percent'), 'ocr_confidence_mean_percent'],
    [gauge('process.event_loop.utilization', 'ratio'), 'process_event_loop_utilization_ratio'],
    [gauge('queue.latency', 'ms'), 'queue_latency_seconds'],
    // Counts and load averages have no unit word.
    [gauge('queue.depth', 'count'), 'queue_depth'],
    [gauge('system.load.avg1', 'load'), 'system_load_avg1'],
    [gauge('cpu.load', 'load'), 'cpu_load'],
    [gauge('queue.count', 'count'), 'queue_count'],
    // Counters end in _total, without a count/total word before it.
    [counter('ocr.calls.count', 'count'), 'ocr_calls_total'],
    [counter('queue.jobs', 'count'), 'queue_jobs_total'],
    [counter('queue.busy_ms', 'ms'), 'queue_busy_seconds_total'],
    [counter('queue.total_ms', 'ms'), 'queue_seconds_total'],
    // A derived counter is a window aggregate: a gauge.
    [counter('queue.rate', 'per_minute', { derivedFrom: 'queue.jobs' }), 'queue_rate_per_minute'],
    // Dashes (allowed after the first part) become underscores; an unknown unit is left alone.
    [gauge('ui.heatmap-render.frames', 'frames'), 'ui_heatmap_render_frames'],
    // A module's metric is named by its field alone; the module is a label.
    [field('core.ocr', 'cpu_percent', 'percent'), 'module_cpu_percent'],
    [field('ui.heatmap-render', 'latency_p95_ms', 'ms'), 'module_latency_p95_seconds'],
    [field('core.ocr', 'cpu_ms', 'ms', 'counter'), 'module_cpu_seconds_total'],
    [field('core.ocr', 'calls', 'count', 'counter'), 'module_calls_total'],
    [field('core.ocr', 'total_ms', 'ms', 'counter'), 'module_call_duration_seconds_total'],
    [field('core.ocr', 'memory_mb', 'mb'), 'module_memory_bytes'],
  ])('%o -> %s', (info, expected) => {
    expect(exposedName(info)).toBe(expected);
  });

  it('gives every name in the Prometheus metric name syntax', () => {
    for (const name of ['a.b', 'a.0', 'a.b-c.d_e', 'a1.b2_ms']) {
      expect(exposedName(gauge(name, 'ms'))).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
  });
});

describe('exposedType', () => {
  it('keeps counters counters and exposes a derived metric as a gauge', () => {
    expect(exposedType({ kind: 'counter' })).toBe('counter');
    expect(exposedType({ kind: 'gauge' })).toBe('gauge');
    expect(exposedType({ kind: 'counter', derivedFrom: 'x.y' })).toBe('gauge');
  });
});

describe('unit conversions', () => {
  it('turns ms into seconds, with the exact decimal for a whole number of microseconds', () => {
    const { convert, suffix, scaled } = exposedUnit('ms');
    expect([suffix, scaled]).toEqual(['seconds', true]);
    expect(convert(33.03)).toBe(0.03303); // 33.03 / 1000 is 0.033030000000000004
    expect(convert(1500)).toBe(1.5);
    expect(convert(0)).toBe(0);
    expect(msToSeconds(0.0001234)).toBeCloseTo(1.234e-7, 20); // finer than a microsecond: kept
    expect(msToSeconds(-2.5)).toBe(-0.0025);
  });

  it('turns MB (MiB, as loadlight counts them) into whole bytes', () => {
    const { convert, suffix } = exposedUnit('mb');
    expect(suffix).toBe('bytes');
    expect(convert(1)).toBe(MB);
    expect(convert(1.5)).toBe(1_572_864);
    expect(convert(0.001)).toBe(1049); // 1048.576, rounded
    expect(exposedUnit('mb_per_minute').convert(2)).toBe(2 * MB);
  });

  it('leaves percent, ratio, rates, counts and unknown units as they are', () => {
    for (const unit of ['percent', 'ratio', 'per_minute', 'fps', 'count', 'bytes', 'bytes_per_second', 'seconds', 'load', 'frames']) {
      expect(exposedUnit(unit).convert(12.345), unit).toBe(12.345);
      expect(exposedUnit(unit).scaled, unit).toBe(false);
    }
  });
});
