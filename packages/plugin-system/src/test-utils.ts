import { Profiler, type LoadlightConfig, type Plugin } from '@loadlight/core';

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

/** Non-null values of a metric, oldest first. */
export function present(profiler: Profiler, name: string): number[] {
  return profiler.store.series(name).filter((v): v is number => v !== null);
}

/** Spends `cpuMs` of CPU time on this thread (not wall time: robust on a loaded machine). */
export function burnCpu(cpuMs: number, maxWallMs = 10_000): void {
  const start = process.cpuUsage();
  const wallEnd = Date.now() + maxWallMs;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(i);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= cpuMs || Date.now() > wallEnd) break;
  }
  if (x < 0) throw new Error('unreachable');
}

/** Blocks the event loop for `ms` of wall time. */
export function blockLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
