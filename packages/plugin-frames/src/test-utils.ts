import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Profiler, type LoadlightConfig, type Plugin, type SampleWriter } from '@loadlight/core';

/** Test helpers (not part of the package's exports). */

const running: Profiler[] = [];

export function makeProfiler(plugins: Plugin[], config: LoadlightConfig = {}): { profiler: Profiler; warnings: string[] } {
  const warnings: string[] = [];
  const profiler = new Profiler(
    { plugins, reporters: [], rules: [], sampleIntervalMs: 100, ...config },
    { handleExit: false, warn: (message) => warnings.push(message) },
  );
  running.push(profiler);
  return { profiler, warnings };
}

/** Stops every profiler a test made (for afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((p) => (p.running ? p.stop() : undefined)));
}

/** Polls until `check` holds; generous by default, the machine may be loaded. */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until the profiler committed `count` more samples. */
export async function moreSamples(profiler: Profiler, count: number): Promise<void> {
  const target = profiler.store.size + count;
  await until(() => profiler.store.size >= target, `${count} more samples`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sum of a metric's values over the session so far. */
export function total(profiler: Profiler, name: string): number {
  return profiler.store.series(name).reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

/** Non-null values of a metric, oldest first. */
export function present(profiler: Profiler, name: string): number[] {
  return profiler.store.series(name).filter((v): v is number => v !== null);
}

/** A SampleWriter that keeps what a collect wrote, for reading one window directly. */
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

/** Node's gc(), switched on at run time (vitest's workers do not start with --expose-gc). */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Bytes allocated in V8's young generation while `run` runs, after a full GC, or null when a GC
 * ran meanwhile (the difference would mean nothing). A closure, object or boxed number made per
 * call shows up here.
 */
export async function youngBytesDuring(gc: () => void, run: () => void): Promise<number | null> {
  const gcStarts: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  const newSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
  gc();
  const from = performance.now();
  const before = newSpaceUsed();
  run();
  const after = newSpaceUsed();
  const to = performance.now();
  await sleep(50); // gc entries are delivered asynchronously
  observer.disconnect();
  return gcStarts.some((t) => t >= from && t <= to) ? null : after - before;
}

/** `youngBytesDuring`, retried when a GC got in the way. */
export async function allocatedBytes(gc: () => void, run: () => void): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const bytes = await youngBytesDuring(gc, run);
    if (bytes !== null) return bytes;
  }
  throw new Error('a GC ran during every measurement');
}
