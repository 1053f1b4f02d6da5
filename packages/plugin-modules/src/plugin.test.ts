import { afterEach, describe, expect, it } from 'vitest';
import { atResolution, MODULE_FIELDS, validateSession } from '@loadlight/core';
import modules, { MODULE_METRICS, profileModule } from './index.js';
import { engine, HEAP_READ_BUDGET } from './engine.js';
import { makeProfiler, moreSamples, seriesByName, sleep, stopAll, sumOf, until } from './test-utils.js';

afterEach(stopAll);

describe('modules plugin', () => {
  it('declares a module first seen while running, with its fields and tags, and summarises it in the session', async () => {
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    await moreSamples(profiler, 1);
    expect(profiler.store.catalogue().some((m) => m.name.startsWith('module.late.'))).toBe(false);

    // Made and called only now, while the profiler runs.
    const late = profileModule('late.arrival', (n: number) => n * 2, { tags: ['verbose', 'optional'] });
    for (let i = 0; i < 10; i++) late(i);
    await moreSamples(profiler, 2);

    const fields = Object.keys(MODULE_METRICS);
    // the fields are the ones core's rules know for the module fact (its catalogue and validation)
    expect(fields).toHaveLength(14);
    expect(MODULE_FIELDS).toEqual(expect.arrayContaining(fields));
    for (const field of fields) {
      const info = profiler.store.info(`module.late.arrival.${field}`);
      expect(info, field).toBeDefined();
      expect(info!.plugin).toBe('modules');
      expect(info!.module).toEqual({ name: 'late.arrival', field, tags: ['optional', 'verbose'] });
    }
    // A module wrapped but never called costs nothing in the store.
    profileModule('never.called', () => 1);
    await moreSamples(profiler, 1);
    expect(profiler.store.info('module.never.called.calls')).toBeUndefined();

    const session = await profiler.stop();
    validateSession(JSON.parse(JSON.stringify(session)));
    const module = session.modules.find((m) => m.name === 'late.arrival');
    expect(module).toMatchObject({ name: 'late.arrival', calls: 10, errors: 0 });
    expect(module!.meanMs).toBeGreaterThan(0);
    expect(module!.cpuMs).toBeGreaterThan(0);
    expect(session.catalogue['module.late.arrival.cpu_percent']).toMatchObject({ unit: 'percent', module: 'late.arrival' });
  });

  it('gives rates per minute from the tick’s real elapsed time', async () => {
    const { profiler } = makeProfiler([modules()], { sampleIntervalMs: 1000 });
    const counted = profileModule('rate.counted', () => undefined);
    const failing = profileModule('rate.failing', () => {
      throw new Error('counted');
    });
    await profiler.start();
    const ticks: Array<{ t: number; at: number }> = [];
    profiler.hooks.sample.tap('test', (sample) => ticks.push({ t: sample.t, at: performance.now() }));
    await until(() => ticks.length >= 1, 'the first tick');
    // 120 calls and 30 errors inside one tick of about a second
    for (let i = 0; i < 120; i++) counted();
    for (let i = 0; i < 30; i++) expect(() => failing()).toThrow();
    await until(() => ticks.length >= 3, 'two more ticks');
    const session = await profiler.stop();
    const values = seriesByName(session);
    const calls = values['module.rate.counted.calls']!;
    const row = calls.indexOf(120);
    expect(row).toBeGreaterThan(0);
    const elapsedMs = session.samples.t[row]! - session.samples.t[row - 1]!;
    // the plugin times the tick itself (performance.now); the rows are stamped with Date.now
    expect(values['module.rate.counted.calls_per_minute']![row]!).toBeCloseTo((120 * 60_000) / elapsedMs, -2);
    expect(Math.abs(values['module.rate.counted.calls_per_minute']![row]! - (120 * 60_000) / elapsedMs)).toBeLessThan(7200 * 0.03);
    expect(values['module.rate.failing.errors']![row]).toBe(30);
    expect(Math.abs(values['module.rate.failing.errors_per_minute']![row]! - (30 * 60_000) / elapsedMs)).toBeLessThan(1800 * 0.03);
    // a tick without calls: zero calls, no latency
    const quiet = calls.findIndex((c, i) => i > row && c === 0);
    expect(quiet).toBeGreaterThan(row);
    expect(values['module.rate.counted.latency_mean_ms']![quiet]).toBeNull();
    expect(values['module.rate.counted.calls_per_minute']![quiet]).toBe(0);
  });

  it('reports latency percentiles of the tick within the histogram’s 3.2%', async () => {
    const { profiler } = makeProfiler([modules()], { sampleIntervalMs: 2000 });
    const timed = profileModule('latency.timed', async (ms: number) => sleep(ms));
    await profiler.start();
    await until(() => profiler.store.size >= 1, 'the first tick');
    // 20 calls of 10 ms, 1 of 100 ms
    await Promise.all([...Array.from({ length: 20 }, () => timed(10)), timed(100)]);
    await moreSamples(profiler, 1);
    const session = await profiler.stop();
    const values = seriesByName(session);
    const row = values['module.latency.timed.calls']!.indexOf(21);
    expect(row).toBeGreaterThanOrEqual(0);
    const at = (field: string) => values[`module.latency.timed.${field}`]![row]!;
    expect(at('latency_min_ms')).toBeGreaterThanOrEqual(8.5); // libuv timers may fire up to 1 ms early
    expect(at('latency_p50_ms')).toBeGreaterThanOrEqual(at('latency_min_ms'));
    expect(at('latency_p50_ms')).toBeLessThan(60);
    expect(at('latency_max_ms')).toBeGreaterThanOrEqual(98.5);
    // 21 calls: p99 is the largest, as a bucket midpoint
    expect(Math.abs(at('latency_p99_ms') - at('latency_max_ms'))).toBeLessThanOrEqual(at('latency_max_ms') * 0.032);
    expect(at('latency_mean_ms')).toBe(atResolution(at('total_ms') / 21, 'ms')); // computed, held to 1 us
  });

  it('lets two profilers count the same calls without taking each other’s', async () => {
    const shared = profileModule('shared.work', () => undefined);
    const first = makeProfiler([modules()], { sampleIntervalMs: 100 }).profiler;
    const second = makeProfiler([modules()], { sampleIntervalMs: 170 }).profiler;
    await first.start();
    await second.start();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++) shared();
      await sleep(30);
    }
    await Promise.all([moreSamples(first, 1), moreSamples(second, 1)]);
    const [a, b] = await Promise.all([first.stop(), second.stop()]);
    expect(sumOf(seriesByName(a)['module.shared.work.calls']!)).toBe(500);
    expect(sumOf(seriesByName(b)['module.shared.work.calls']!)).toBe(500);
  });

  it('attributes live memory to the module that allocated it', async () => {
    const retained: unknown[] = [];
    // ~16 MB held: 2,000 arrays of 1,000 doubles
    const hoard = profileModule('memory.hoard', () => {
      for (let i = 0; i < 2000; i++) retained.push(new Array(1000).fill(i + 0.5));
    });
    const churn = profileModule('memory.churn', () => {
      let kept = 0;
      for (let i = 0; i < 2000; i++) kept += new Array(1000).fill(i + 0.5).length;
      return kept;
    });
    const { profiler } = makeProfiler([modules({ memorySampleIntervalKb: 64, memoryReadIntervalMs: 1000 })]);
    await profiler.start();
    await moreSamples(profiler, 1); // the heap sampler starts with the first tick
    hoard();
    churn();
    const latest = (name: string) => profiler.store.latest(`module.memory.${name}.memory_mb`);
    await until(() => (latest('hoard') ?? 0) > 0, 'a heap read', 30_000);
    const expectedMb = (2000 * 1000 * 8) / (1024 * 1024);
    expect(latest('hoard')!).toBeGreaterThan(expectedMb * 0.6);
    expect(latest('hoard')!).toBeLessThan(expectedMb * 1.6);
    expect(latest('churn')!).toBeLessThan(expectedMb * 0.2);
    expect(retained.length).toBe(2000);
  });

  it('does not guess between modules that wrap closures of the same code', async () => {
    const { profiler, warnings } = makeProfiler([modules({ memoryReadIntervalMs: 1000 })]);
    const make = (name: string) => profileModule(name, () => new Array(1000).fill(1));
    const first = make('closure.first');
    const second = make('closure.second');
    const own = profileModule('closure.own', () => new Array(1000).fill(2));
    await profiler.start();
    first();
    second();
    own();
    await until(() => profiler.store.latest('module.closure.own.memory_mb') !== null, 'a heap read', 30_000);
    expect(warnings.join('\n')).toContain('modules "closure.first", "closure.second" wrap closures made from the same source code');
    expect(profiler.store.latest('module.closure.first.memory_mb')).toBeNull();
    expect(profiler.store.latest('module.closure.second.memory_mb')).toBeNull();
    // what the wrappers time themselves is still theirs
    await moreSamples(profiler, 1);
    const session = await profiler.stop();
    expect(session.modules.find((m) => m.name === 'closure.first')!.cpuMs).toBeGreaterThan(0);
  });

  it('spaces memory reads so that their forced collections cost at most 0.05% of a core', async () => {
    const retained: unknown[] = [];
    const hold = profileModule('memory.spaced', () => {
      for (let i = 0; i < 500; i++) retained.push(new Array(1000).fill(i + 0.5));
    });
    const { profiler } = makeProfiler([modules({ memoryReadIntervalMs: 1000 })]);
    const stats = engine().stats;
    const reads = stats.heapReads;
    await profiler.start();
    hold();
    await until(() => stats.heapReads > reads, 'the first heap read', 30_000);
    // A full collection of this test process's heap takes well over 2 ms: 4 s or more to the next read.
    const costMs = stats.lastHeapReadMs!;
    expect(costMs).toBeGreaterThan(2);
    expect(costMs / HEAP_READ_BUDGET).toBeGreaterThan(4000);
    await sleep(3000); // three times memoryReadIntervalMs
    expect(stats.heapReads).toBe(reads + 1);
    expect(profiler.store.latest('module.memory.spaced.memory_mb')).toBeGreaterThan(0);
    expect(retained.length).toBe(500);
  });

  it("marks memory unavailable with a reason when it is off", async () => {
    const { profiler } = makeProfiler([modules({ memory: 'off' })]);
    const work = profileModule('memory.off', () => 1);
    await profiler.start();
    work();
    await moreSamples(profiler, 2);
    const session = await profiler.stop();
    expect(session.catalogue['module.memory.off.memory_mb']!.unavailable).toBe("memory attribution is off (modules plugin option memory: 'off')");
    expect(seriesByName(session)['module.memory.off.memory_mb']!.every((v) => v === null)).toBe(true);
  });
});
