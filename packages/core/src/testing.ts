/**
 * Helpers for testing plugins against a real Profiler: `@loadlight/core/testing`.
 *
 * ```ts
 * import { createTestProfiler, moreSamples, stopTestProfilers } from '@loadlight/core/testing';
 * afterEach(stopTestProfilers);
 * const { profiler, warnings } = createTestProfiler([queue()]);
 * await profiler.start();
 * await moreSamples(profiler, 3);
 * ```
 */
import { Profiler } from './profiler.js';
import type { LoadlightConfig, Plugin, SampleWriter } from './types.js';

export interface TestProfiler {
  profiler: Profiler;
  /** What `profiler.warn()` said, instead of printing it. */
  warnings: string[];
}

const made: Profiler[] = [];

/**
 * A profiler with only `plugins`: no reporters, no rules, 100 ms ticks, no exit handlers, warnings
 * kept in a list. `config` overrides any of that.
 */
export function createTestProfiler(plugins: Plugin[], config: LoadlightConfig = {}): TestProfiler {
  const warnings: string[] = [];
  const profiler = new Profiler(
    { plugins, reporters: [], rules: [], sampleIntervalMs: 100, ...config },
    { handleExit: false, warn: (message) => warnings.push(message) },
  );
  made.push(profiler);
  return { profiler, warnings };
}

/**
 * Stops every profiler `createTestProfiler` made that still runs (for `afterEach`). A stop that
 * fails is ignored: tests that inject faults assert on those themselves.
 */
export async function stopTestProfilers(): Promise<void> {
  await Promise.all(made.splice(0).map((p) => (p.running ? p.stop().catch(() => undefined) : undefined)));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds; generous by default, since test machines may be loaded. */
export async function until(check: () => boolean, what = 'a condition', timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until the profiler committed `count` more samples. */
export async function moreSamples(profiler: Profiler, count: number, timeoutMs?: number): Promise<void> {
  const target = profiler.store.size + count;
  await until(() => profiler.store.size >= target, `${count} more samples`, timeoutMs);
}

/** Non-null values of a metric, oldest first. */
export function present(profiler: Profiler, name: string): number[] {
  return profiler.store.series(name).filter((v): v is number => v !== null);
}

/** Sum of a metric's values over the session so far. */
export function total(profiler: Profiler, name: string): number {
  return present(profiler, name).reduce((sum, v) => sum + v, 0);
}

/** A SampleWriter that keeps what a collect wrote, to call a source's collect directly. */
export class RecordingWriter implements SampleWriter {
  readonly t = Date.now();
  readonly values = new Map<string, number | null>();

  set(name: string, value: number | null): void {
    this.values.set(name, value);
  }

  get(name: string): number | null {
    if (!this.values.has(name)) throw new Error(`metric ${name} was not written`);
    return this.values.get(name)!;
  }
}

/**
 * Spends `cpuMs` of CPU time on this thread (CPU, not wall time: robust on a loaded machine) and
 * returns the CPU time it measured with process.cpuUsage().
 */
export function burnCpu(cpuMs: number, maxWallMs = 10_000): number {
  const start = process.cpuUsage();
  const wallEnd = Date.now() + maxWallMs;
  let x = 0;
  let usedMs = 0;
  for (;;) {
    for (let i = 0; i < 5_000; i++) x += Math.sqrt(i);
    const used = process.cpuUsage(start);
    usedMs = (used.user + used.system) / 1000;
    if (usedMs >= cpuMs || Date.now() > wallEnd) break;
  }
  if (x < 0) throw new Error('unreachable');
  return usedMs;
}

/** Blocks the event loop for `ms` of wall time. */
export function blockLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
