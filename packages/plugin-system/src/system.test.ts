import os from 'node:os';
import { isLoadlightError, sessionSeries } from '@loadlight/core';
import { blockLoop, burnCpu, createTestProfiler, moreSamples, present, sleep, stopTestProfilers } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { exposeGc } from '../../../test/support/allocation.js';
import system from './index.js';

afterEach(stopTestProfilers);

const MB = 1024 * 1024;
const CORES = os.availableParallelism();

/** The metric names are a contract with the rules: this list must not change by accident. */
const ALL_METRICS = [
  'system.cpu.percent',
  'system.memory.used_mb',
  'system.memory.used_percent',
  'system.load.avg1',
  'system.load.avg5',
  'system.load.avg15',
  'process.cpu.percent',
  'process.memory.rss_mb',
  'process.heap.used_mb',
  'process.heap.growth_mb_per_minute',
  'process.event_loop.delay_p50_ms',
  'process.event_loop.delay_p99_ms',
  'process.event_loop.delay_max_ms',
  'process.event_loop.utilization',
  'process.gc.pause_ms_per_minute',
  'process.gc.count_per_minute',
];

describe('system plugin', () => {
  it('declares every metric with a unit, kind and description', () => {
    const plugin = system();
    expect(plugin.name).toBe('system');
    expect(Object.keys(plugin.metrics ?? {}).sort()).toEqual([...ALL_METRICS].sort());
    for (const [name, declaration] of Object.entries(plugin.metrics ?? {})) {
      expect(declaration.unit, name).toBeTruthy();
      expect(['gauge', 'counter'], name).toContain(declaration.kind);
      expect(declaration.description.length, name).toBeGreaterThan(10);
    }
    expect(plugin.metrics?.['process.heap.growth_mb_per_minute']).toMatchObject({
      derivedFrom: 'process.heap.used_mb',
      aggregate: 'slope_per_minute',
      unit: 'mb_per_minute',
      kind: 'gauge',
    });
    expect(plugin.metrics?.['system.memory.used_mb']?.description).toMatch(/buffers and page cache/);
  });

  it('measures plausible values at every tick', async () => {
    const { profiler } = createTestProfiler([system()]);
    await profiler.start();
    await moreSamples(profiler, 10);
    const session = await profiler.stop();

    const catalogue = session.catalogue;
    for (const name of ALL_METRICS) expect(catalogue[name], name).toMatchObject({ plugin: 'system' });
    expect(catalogue['process.heap.growth_mb_per_minute']?.derivedFrom).toBe('process.heap.used_mb');
    expect(session.samples.values['process.heap.growth_mb_per_minute']).toBeUndefined();
    expect(session.faults).toEqual([]);

    const loadAvailable = process.platform !== 'win32';
    for (const name of ALL_METRICS) {
      if (name === 'process.heap.growth_mb_per_minute') continue;
      if (name.startsWith('system.load.') && !loadAvailable) continue;
      // Every metric is measured (rates from the second tick on).
      expect(present(profiler, name).length, name).toBeGreaterThanOrEqual(5);
    }
    // Rates need an interval: the first tick has none.
    expect(profiler.store.series('process.cpu.percent')[0]).toBeNull();
    expect(profiler.store.series('system.cpu.percent')[0]).toBeNull();

    const all = (name: string) => present(profiler, name);
    const inRange = (name: string, min: number, max: number) => {
      for (const v of all(name)) {
        expect(v, name).toBeGreaterThanOrEqual(min);
        expect(v, name).toBeLessThanOrEqual(max);
      }
    };
    const totalMb = os.totalmem() / MB;
    inRange('system.cpu.percent', 0, 100);
    inRange('system.memory.used_mb', 1, totalMb);
    inRange('system.memory.used_percent', 0, 100);
    if (loadAvailable) for (const n of ['avg1', 'avg5', 'avg15']) inRange(`system.load.${n}`, 0, 100 * CORES);
    inRange('process.cpu.percent', 0, 100 * CORES + 20);
    inRange('process.memory.rss_mb', 1, totalMb);
    inRange('process.heap.used_mb', 0.5, totalMb);
    inRange('process.event_loop.utilization', 0, 1);
    inRange('process.gc.count_per_minute', 0, 1e6);
    inRange('process.gc.pause_ms_per_minute', 0, 60_000);
    for (const q of ['p50', 'p99', 'max']) inRange(`process.event_loop.delay_${q}_ms`, 0, 60_000);

    // Within one tick: heap <= rss, p50 <= p99 <= max.
    const series = Object.fromEntries(Object.keys(session.catalogue).map((name) => [name, sessionSeries(session, name)]));
    for (let i = 0; i < session.samples.t.length; i++) {
      const heap = series['process.heap.used_mb']![i];
      const rss = series['process.memory.rss_mb']![i];
      if (heap != null && rss != null) expect(heap).toBeLessThanOrEqual(rss);
      const p50 = series['process.event_loop.delay_p50_ms']![i];
      const p99 = series['process.event_loop.delay_p99_ms']![i];
      const max = series['process.event_loop.delay_max_ms']![i];
      if (p50 != null && p99 != null && max != null) {
        expect(p50).toBeLessThanOrEqual(p99);
        expect(p99).toBeLessThanOrEqual(max);
      }
    }
    // The snapshot gives the derived growth as a number once there are samples.
    expect(typeof profiler.snapshot().metrics['process.heap.growth_mb_per_minute']?.value).toBe('number');
  });

  it('sees a CPU-burning phase as more process CPU than an idle phase', async () => {
    const { profiler } = createTestProfiler([system({ host: false, eventLoop: false, gc: false })]);
    await profiler.start();
    await moreSamples(profiler, 6);
    const idle = present(profiler, 'process.cpu.percent');
    const idleMean = idle.reduce((a, b) => a + b, 0) / idle.length;

    const before = profiler.store.size;
    burnCpu(500);
    await moreSamples(profiler, 2);
    const busy = Math.max(...profiler.store.series('process.cpu.percent').slice(before).map((v) => v ?? 0));
    // 500 ms of CPU inside an interval of about 600 ms wall time; generous for a loaded machine.
    expect(busy).toBeGreaterThan(Math.max(2 * idleMean, idleMean + 15));
  });

  it('counts garbage collections and their pauses', async () => {
    const { profiler } = createTestProfiler([system({ host: false, eventLoop: false, process: false })]);
    await profiler.start();
    await moreSamples(profiler, 1);
    let gc: (() => void) | null = null;
    try {
      gc = exposeGc();
    } catch {
      gc = null;
    }
    for (let round = 0; round < 3; round++) {
      if (gc) gc();
      else {
        // Without gc(), allocate enough short-lived garbage to force scavenges.
        let keep: unknown[] = [];
        for (let i = 0; i < 300_000; i++) keep.push({ i, s: `x${i}` });
        keep = [];
      }
      await sleep(120);
    }
    await moreSamples(profiler, 2);
    expect(Math.max(...present(profiler, 'process.gc.count_per_minute'))).toBeGreaterThan(0);
    expect(Math.max(...present(profiler, 'process.gc.pause_ms_per_minute'))).toBeGreaterThan(0);
  });

  it('sees a blocked event loop in the delay and utilisation', async () => {
    const { profiler } = createTestProfiler([system({ host: false, process: false, gc: false, eventLoopResolutionMs: 20 })]);
    await profiler.start();
    await moreSamples(profiler, 3);
    const idleMax = Math.max(...present(profiler, 'process.event_loop.delay_max_ms'));
    const before = profiler.store.size;
    // Between two ticks, and then right after a tick's own read (the blind spot of Node's reset()).
    setTimeout(() => blockLoop(200), 30);
    await moreSamples(profiler, 3);
    const afterFirst = profiler.store.size;
    await new Promise<void>((resolve) => {
      let done = false;
      profiler.hooks.sample.tap('test-block', () => {
        if (done) return;
        done = true;
        blockLoop(200);
        resolve();
      });
    });
    await moreSamples(profiler, 3);

    const maxOf = (from: number, to: number) =>
      Math.max(...profiler.store.series('process.event_loop.delay_max_ms').slice(from, to).map((v) => v ?? 0));
    expect(maxOf(before, afterFirst)).toBeGreaterThanOrEqual(150);
    expect(maxOf(afterFirst, profiler.store.size)).toBeGreaterThanOrEqual(150);
    expect(idleMax).toBeLessThan(150);
    const utilization = profiler.store.series('process.event_loop.utilization').slice(before, afterFirst);
    expect(Math.max(...utilization.map((v) => v ?? 0))).toBeGreaterThan(0.5);
  });

  it('declares only the groups that are on, and writes nothing else', async () => {
    const plugin = system({ host: false, eventLoop: false, gc: false });
    expect(Object.keys(plugin.metrics ?? {}).sort()).toEqual(
      ['process.cpu.percent', 'process.heap.growth_mb_per_minute', 'process.heap.used_mb', 'process.memory.rss_mb'].sort(),
    );
    const { profiler } = createTestProfiler([plugin]);
    await profiler.start();
    await moreSamples(profiler, 2);
    const session = await profiler.stop();
    expect(Object.keys(session.catalogue).sort()).toEqual(Object.keys(plugin.metrics ?? {}).sort());
    expect(session.faults).toEqual([]);
  });

  it('keeps the state of two profilers apart', async () => {
    const plugin = system({ host: false, gc: false });
    const a = createTestProfiler([plugin]);
    const b = createTestProfiler([plugin]);
    await a.profiler.start();
    await b.profiler.start();
    await moreSamples(a.profiler, 3);
    await moreSamples(b.profiler, 3);
    await a.profiler.stop();
    // b keeps measuring after a stopped (a's monitors are its own).
    const size = b.profiler.store.size;
    await moreSamples(b.profiler, 3);
    expect(present(b.profiler, 'process.event_loop.delay_p50_ms').length).toBeGreaterThan(0);
    expect(b.profiler.store.series('process.cpu.percent').slice(size).every((v) => v !== null)).toBe(true);
    await b.profiler.stop();
  });

  it('refuses to be applied twice to one profiler', async () => {
    const plugin = system();
    const { profiler } = createTestProfiler([plugin, plugin]);
    await expect(profiler.start()).rejects.toThrow(/listed twice/);
  });
});

describe('system options', () => {
  const message = (options: unknown): string => {
    try {
      system(options as never);
    } catch (error) {
      expect(isLoadlightError(error)).toBe(true);
      expect((error as { code: string }).code).toBe('PLUGIN_OPTIONS_INVALID');
      return (error as Error).message;
    }
    throw new Error('expected an error');
  };

  it('gives clear errors that name the option', () => {
    expect(message({ eventLoopResolutionMs: 1 })).toMatchInlineSnapshot(`"plugin "system" options: "eventLoopResolutionMs" must be >= 10, got number 1."`);
    expect(message({ hots: true })).toMatchInlineSnapshot(`"plugin "system" options: unknown option "hots". Expected one of: host, process, eventLoop, gc, eventLoopResolutionMs, processes. Did you mean "host"?"`);
    expect(message({ gc: 'yes', process: 1 })).toMatchInlineSnapshot(`
      "plugin "system" options:
        - "process" must be boolean, got number 1.
        - "gc" must be boolean, got string "yes"."
    `);
    expect(message({ processes: [{ pid: 0, name: 'worker' }] })).toMatchInlineSnapshot(`"plugin "system" options: "processes[0].pid" must be >= 1, got number 0."`);
    expect(message({ processes: [{ pid: 10, name: 'OCR/worker' }] })).toMatchInlineSnapshot(`"plugin "system" options: "processes[0].name" must hold only letters, digits, "_" and "-" (spaces and dots become "_"), because it names the metrics module.<name>.cpu_percent and module.<name>.memory_mb; got "OCR/worker"."`);
    expect(message({ processes: [{ pid: 10 }] })).toMatchInlineSnapshot(`"plugin "system" options: "processes[0].name" is required."`);
  });

  it('accepts the defaults and undefined values', () => {
    expect(() => system()).not.toThrow();
    expect(() => system({})).not.toThrow();
    expect(() => system({ host: undefined, eventLoopResolutionMs: 10 })).not.toThrow();
  });
});
