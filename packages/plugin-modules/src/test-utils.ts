import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sessionSeries, type LoadlightConfig, type Plugin, type SessionProfile } from '@loadlight/core';
import { createTestProfiler, type TestProfiler } from '@loadlight/core/testing';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Test helpers (not part of the package's exports): core's, with this package's 250 ms tick. */
export { burnCpu, moreSamples, sleep, stopTestProfilers as stopAll, until } from '@loadlight/core/testing';

export function makeProfiler(plugins: Plugin[], config: LoadlightConfig = {}): TestProfiler {
  return createTestProfiler(plugins, { sampleIntervalMs: 250, ...config });
}

/** Every metric's series in a session, dense (core's `sessionSeries`: computed ones computed), by name. */
export function seriesByName(session: SessionProfile): Record<string, Array<number | null>> {
  return Object.fromEntries(Object.keys(session.catalogue).map((name) => [name, sessionSeries(session, name)]));
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
