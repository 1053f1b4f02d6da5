import { Profiler, type LoadlightConfig, type Plugin, type SampleWriter } from '@loadlight/core';

/** Test helpers (not part of the package's exports). */
export interface TestProfiler {
  profiler: Profiler;
  warnings: string[];
}

const running: Profiler[] = [];

export function makeProfiler(plugins: Plugin[], config: LoadlightConfig = {}): TestProfiler {
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
    await sleep(20);
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

/** A SampleWriter that keeps what was written. */
export function recorder(): SampleWriter & { values: Record<string, number | null> } {
  const values: Record<string, number | null> = {};
  return { t: Date.now(), values, set: (name, value) => void (values[name] = value) };
}

/** A clock the test moves by hand. */
export function manualClock(startMs = 0): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms) => void (nowMs += ms), set: (ms) => void (nowMs = ms) };
}

/**
 * The integral of a per-second rate over the session's samples: the bytes it stands for.
 * Each value covers the time since the previous sample.
 */
export function integrate(t: number[], perSecond: Array<number | null>): number {
  let total = 0;
  for (let i = 1; i < t.length; i++) total += (perSecond[i] ?? 0) * ((t[i]! - t[i - 1]!) / 1000);
  return total;
}
