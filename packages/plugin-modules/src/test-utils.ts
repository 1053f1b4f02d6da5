import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Profiler, type LoadlightConfig, type Plugin } from '@loadlight/core';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Test helpers (not part of the package's exports). */
export interface TestProfiler {
  profiler: Profiler;
  warnings: string[];
}

const running: Profiler[] = [];

export function makeProfiler(plugins: Plugin[], config: LoadlightConfig = {}): TestProfiler {
  const warnings: string[] = [];
  const profiler = new Profiler(
    { plugins, reporters: [], rules: [], sampleIntervalMs: 250, ...config },
    { handleExit: false, warn: (message) => warnings.push(message) },
  );
  running.push(profiler);
  return { profiler, warnings };
}

/** Stops every profiler a test made (for afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((p) => (p.running ? p.stop() : undefined)));
}

/** Polls until `check` holds; generous, the machine may be loaded. */
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

/** Spends `cpuMs` of CPU time on this thread and returns the CPU time it measured (process.cpuUsage). */
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

/** Sum of the non-null values of a metric in a session. */
export function sumOf(values: Array<number | null> | undefined): number {
  return (values ?? []).reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

/** Mean of the non-null values. */
export function meanOf(values: Array<number | null> | undefined): number {
  const present = (values ?? []).filter((v): v is number => v !== null);
  return present.length === 0 ? Number.NaN : present.reduce((a, b) => a + b, 0) / present.length;
}

/** Runs an ES module script in a child process, from this package's folder (so that '@loadlight/*' resolves to the built packages). */
export function runScript(source: string, timeoutMs = 20_000): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd: packageDir,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
