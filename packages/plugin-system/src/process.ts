import {
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
  type IntervalHistogram,
} from 'node:perf_hooks';
import type { SampleWriter } from '@loadlight/core';
import { MB } from './metrics.js';

export interface ProcessSamplerOptions {
  process: boolean;
  eventLoop: boolean;
  gc: boolean;
  eventLoopResolutionMs: number;
}

const MS_PER_MINUTE = 60_000;
const NS_PER_MS = 1e6;

/**
 * This process: CPU, memory, event loop and GC. All of it comes from in-process counters
 * (process.cpuUsage, process.memoryUsage, perf_hooks): no file read and no child process.
 * Rates are measured over the real time between two ticks, so the first tick writes null.
 */
export class ProcessSampler {
  private readonly options: ProcessSamplerOptions;
  private lastAt = -1;
  private lastCpuMicros = 0;
  private lastElu: EventLoopUtilization | null = null;
  private histogram: IntervalHistogram | null = null;
  private observer: PerformanceObserver | null = null;
  private gcCount = 0;
  private gcPauseMs = 0;
  /** Busy time from the last read to the next loop turn, counted at the next read. */
  private blockedAfterReadMs = 0;

  constructor(options: ProcessSamplerOptions) {
    this.options = options;
  }

  /** Opens the monitors; the delay monitor's timer is unref'd by Node and does not keep the process alive. */
  start(): void {
    this.lastAt = -1;
    this.lastElu = null;
    this.blockedAfterReadMs = 0;
    if (this.options.eventLoop && !this.histogram) {
      this.histogram = monitorEventLoopDelay({ resolution: this.options.eventLoopResolutionMs });
      this.histogram.enable();
    }
    if (this.options.gc && !this.observer) {
      this.gcCount = 0;
      this.gcPauseMs = 0;
      this.observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          this.gcCount++;
          this.gcPauseMs += entry.duration;
        }
      });
      this.observer.observe({ entryTypes: ['gc'] });
    }
  }

  /** Resolves once the delay is read; everything else is written synchronously. */
  collect(w: SampleWriter): Promise<void> | undefined {
    const now = performance.now();
    const elapsedMs = this.lastAt < 0 ? 0 : now - this.lastAt;
    // No interval yet (first tick) or a clock that did not move: rates stay null.
    const measured = elapsedMs > 0;

    if (this.options.process) {
      const usage = process.cpuUsage();
      const cpuMicros = usage.user + usage.system;
      w.set('process.cpu.percent', measured ? Math.max(0, ((cpuMicros - this.lastCpuMicros) / (elapsedMs * 1000)) * 100) : null);
      this.lastCpuMicros = cpuMicros;
      const memory = process.memoryUsage();
      w.set('process.memory.rss_mb', memory.rss / MB);
      w.set('process.heap.used_mb', memory.heapUsed / MB);
    }

    if (this.options.eventLoop) {
      const elu = performance.eventLoopUtilization();
      w.set('process.event_loop.utilization', this.lastElu ? performance.eventLoopUtilization(elu, this.lastElu).utilization : null);
      this.lastElu = elu;
    }

    if (this.options.gc && this.observer) {
      w.set('process.gc.count_per_minute', measured ? (this.gcCount * MS_PER_MINUTE) / elapsedMs : null);
      w.set('process.gc.pause_ms_per_minute', measured ? (this.gcPauseMs * MS_PER_MINUTE) / elapsedMs : null);
      this.gcCount = 0;
      this.gcPauseMs = 0;
    }

    this.lastAt = now;
    return this.histogram ? afterDueTimers().then(() => this.readDelay(w, now)) : undefined;
  }

  stop(): void {
    this.histogram?.disable();
    this.histogram = null;
    this.observer?.disconnect();
    this.observer = null;
    this.lastAt = -1;
    this.lastElu = null;
  }

  /**
   * Node's reset() also forgets when the monitor last ran, so the monitor's interval that spans
   * a reset is never recorded, and a block right before or after the tick (work on a timer
   * aligned with it, or the tick's own rules and reports) would be lost. So: the read waits
   * for the check phase, after the timers that were due (the monitor included, when a block made
   * it late); the time from the tick to the read, and from the read to the next loop turn's
   * check phase, is measured directly and counts as delay. What remains unseen is a block that
   * starts later than that and before the monitor's next run (within one resolution).
   */
  private readDelay(w: SampleWriter, tickAt: number): void {
    const histogram = this.histogram;
    if (!histogram) return;
    const readAt = performance.now();
    const bridgedMs = Math.max(readAt - tickAt, this.blockedAfterReadMs);
    if (histogram.count === 0) {
      // The monitor has not recorded since the last read (its first run after a reset records
      // nothing). Do not reset again: that would lose the interval it is measuring now.
      w.set('process.event_loop.delay_p50_ms', null);
      w.set('process.event_loop.delay_p99_ms', null);
      w.set('process.event_loop.delay_max_ms', null);
      return;
    }
    // The histogram records the whole interval between two runs of the monitor's timer; the
    // delay is what exceeds the timer's period.
    const periodMs = this.options.eventLoopResolutionMs;
    w.set('process.event_loop.delay_p50_ms', Math.max(0, histogram.percentile(50) / NS_PER_MS - periodMs));
    w.set('process.event_loop.delay_p99_ms', Math.max(0, histogram.percentile(99) / NS_PER_MS - periodMs));
    w.set('process.event_loop.delay_max_ms', Math.max(0, histogram.max / NS_PER_MS - periodMs, bridgedMs));
    histogram.reset();
    this.blockedAfterReadMs = 0;
    setImmediate(() => {
      this.blockedAfterReadMs = performance.now() - readAt;
    });
  }
}

/** Resolves in the check phase of this loop turn, after the timers that were due have run. */
function afterDueTimers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
