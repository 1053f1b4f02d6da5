// 24 hours of ticks at 1 Hz under fake time (Date and setTimeout; CPU and performance.now are
// real): a real Profiler with the default rules, plugin-modules with profiled functions called
// between ticks, a synthetic source of ~20 modules' worth of metrics and a reporter on `report`.
// Memory stays bounded by the ring, no timer, listener or tap is left behind, and every tick
// runs on its schedule. `npm run soak` is the real-time counterpart (scripts/soak.mjs).
import { Profiler, definePlugin, type HookName, type Plugin, type Snapshot } from '@loadlight/core';
import modules, { profileModule } from '@loadlight/plugin-modules';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exposeGc } from './support/allocation.js';

const HOURS = 24;
const INTERVAL_MS = 1000;
const TICKS_PER_HOUR = 3_600_000 / INTERVAL_MS;
const TICKS = HOURS * TICKS_PER_HOUR;
const MAX_SAMPLES = 3600; // the default: the ring is full after the first hour
const CHECKPOINTS = [1, 6, 12, 24];
const SYNTHETIC_MODULES = 20;
const HOOKS: HookName[] = ['start', 'collect', 'sample', 'evaluated', 'alert', 'report', 'stop', 'export'];
const PROCESS_EVENTS = ['SIGINT', 'SIGTERM', 'beforeExit', 'exit'] as const;
/** Every SLOW_EVERY-th tick takes SLOW_MS of (fake) time to collect: the schedule must not drift by it. */
const SLOW_EVERY = 60;
const SLOW_MS = 400;

/**
 * What a busy program's sources write: process and host figures that swing into the red for ten
 * minutes every two hours (so levels, alerts and recommendations change all day), and 20 modules
 * with the fields the default rules read.
 */
function synthetic(): Plugin {
  const moduleFields = {
    cpu_percent: { unit: 'percent', kind: 'gauge', description: 'synthetic module CPU' },
    memory_mb: { unit: 'mb', kind: 'gauge', description: 'synthetic module memory' },
    calls: { unit: 'count', kind: 'counter', description: 'synthetic module calls' },
    total_ms: { unit: 'ms', kind: 'counter', description: 'synthetic module time' },
    latency_p95_ms: { unit: 'ms', kind: 'gauge', description: 'synthetic module latency' },
  } as const;
  const metrics: Record<string, object> = {
    'process.cpu.percent': { unit: 'percent', kind: 'gauge', description: 'synthetic process CPU' },
    'process.heap.used_mb': { unit: 'mb', kind: 'gauge', description: 'synthetic heap' },
    'process.event_loop.delay_p99_ms': { unit: 'ms', kind: 'gauge', description: 'synthetic loop delay' },
    'system.cpu.percent': { unit: 'percent', kind: 'gauge', description: 'synthetic host CPU' },
    'system.memory.used_percent': { unit: 'percent', kind: 'gauge', description: 'synthetic host memory' },
  };
  const names: string[][] = [];
  for (let m = 0; m < SYNTHETIC_MODULES; m++) {
    const module = `synthetic.m${String(m).padStart(2, '0')}`;
    const tags = m % 5 === 0 ? ['ocr'] : [];
    names.push(Object.keys(moduleFields).map((field) => `module.${module}.${field}`));
    for (const [field, declaration] of Object.entries(moduleFields)) {
      metrics[`module.${module}.${field}`] = { ...declaration, module: { name: module, field, tags } };
    }
  }
  let k = 0;
  return definePlugin({
    name: 'synthetic',
    metrics: metrics as never,
    apply(profiler) {
      // A source that is sometimes slow: the clock moves on while it collects (after the timer
      // fired, so only the tick's own duration changes, as with a slow read).
      profiler.hooks.collect.tapPromise('synthetic-slow', async () => {
        await Promise.resolve();
        if (k % SLOW_EVERY === 0) vi.setSystemTime(Date.now() + SLOW_MS);
      });
      profiler.hooks.collect.tap('synthetic', (w) => {
        k++;
        const hot = k % 7200 < 600; // ten minutes in every two hours
        const wave = Math.sin(k / 300);
        w.set('process.cpu.percent', hot ? 60 + 10 * wave : 10 + 5 * wave);
        w.set('process.heap.used_mb', 40 + 5 * wave);
        w.set('process.event_loop.delay_p99_ms', hot ? 150 : 12);
        w.set('system.cpu.percent', hot ? 95 : 30 + 10 * wave);
        w.set('system.memory.used_percent', 60 + wave);
        for (let m = 0; m < SYNTHETIC_MODULES; m++) {
          const [cpu, memory, calls, total, p95] = names[m]!;
          w.set(cpu!, hot && m < 2 ? 55 : (m + 1) * (1 + wave) * 0.5);
          w.set(memory!, 5 + m);
          w.set(calls!, (k + m) % 30);
          w.set(total!, ((k + m) % 30) * 1.5);
          w.set(p95!, m % 3 === 0 ? null : 2 + (k % 10) / 10);
        }
      });
    },
  });
}

interface Checkpoint {
  hour: number;
  heapMb: number;
  storeBytes: number;
  storeSize: number;
  timers: number;
  handles: number;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

afterEach(() => {
  vi.useRealTimers();
});

describe('24 hours at 1 Hz under fake time', () => {
  it('keeps memory bounded by the ring, leaves no timer, listener or tap behind, and never drifts', { timeout: 600_000 }, async () => {
    const gc = exposeGc();
    const heapMb = () => {
      gc();
      gc();
      return mb(process.memoryUsage().heapUsed);
    };
    // Only the clock and the profiler's timers are faked: CPU readings and performance.now stay real.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: Date.UTC(2026, 0, 1) });
    const listenersBefore = PROCESS_EVENTS.map((e) => process.listenerCount(e));
    const handlesBefore = process.getActiveResourcesInfo().length;

    // The program's own work, profiled: called between ticks, as a bot would.
    const parse = profileModule('soak.parse', (s: string) => s.split(',').length);
    const score = profileModule('soak.score', (n: number) => Math.sqrt(n) * 2);
    const fetchLike = profileModule('soak.fetch', async (n: number) => n + 1);
    const failing = profileModule('soak.flaky', (n: number) => {
      if (n % 97 === 0) throw new Error('flaky');
      return n;
    });

    const ticks = new Float64Array(TICKS + 1);
    let tickCount = 0;
    let reports = 0;
    let transitions = 0;
    let lastReport: Snapshot | null = null;
    const reporter = definePlugin({
      name: 'soak-reporter',
      apply(profiler) {
        profiler.hooks.sample.tap('soak-reporter', (sample) => {
          if (tickCount <= TICKS) ticks[tickCount] = sample.t;
          tickCount++;
        });
        profiler.hooks.alert.tap('soak-reporter', () => transitions++);
        profiler.hooks.report.tapPromise('soak-reporter', async (snapshot) => {
          reports++;
          // What a status line reads: a few metrics, the evaluation, the overhead.
          void snapshot.metrics['process.cpu.percent']?.value;
          void snapshot.evaluation?.levels;
          lastReport = snapshot;
        });
      },
    });
    const warnings: string[] = [];
    const profiler = new Profiler(
      {
        plugins: [synthetic(), modules({ cpu: 'precise', memory: 'off' })],
        reporters: [reporter],
        sampleIntervalMs: INTERVAL_MS,
        sessionId: 'soak',
        watchRules: false,
      },
      { handleExit: true, warn: (message) => warnings.push(message) },
    );
    const startedAt = Date.now();
    await profiler.start();
    const tapsAfterStart = HOOKS.map((name) => profiler.hooks[name].taps.length);
    const listenersRunning = PROCESS_EVENTS.map((e) => process.listenerCount(e));

    // Fake time up to the next timer, then real turns of the loop (setImmediate is not faked) until
    // the tick's promises settled and it scheduled the next one. Not advanceTimersByTimeAsync:
    // it yields through a real setTimeout per timer, a millisecond each, which would make a day last minutes.
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const nextTick = async () => {
      const target = tickCount + 1;
      vi.advanceTimersToNextTimer(); // the tick's timer: the only one pending between ticks
      for (let turns = 0; tickCount < target; turns++) {
        if (turns === 1000) throw new Error(`tick ${target} did not run after an interval of fake time`);
        await turn();
      }
      await turn(); // the rest of the tick (rules, report, schedule) after its sample
    };
    while (tickCount < 1) await turn(); // the first tick, which start() began
    await turn();
    const checkpoints: Checkpoint[] = [];
    const timersPerHour: number[] = [];
    const began = performance.now();
    for (let k = 1; k < TICKS; k++) {
      parse('a,b,c');
      score(k);
      await fetchLike(k);
      try {
        failing(k);
      } catch {
        // counted as an error of soak.flaky
      }
      await nextTick();
      if ((k + 1) % TICKS_PER_HOUR === 0) {
        const hour = (k + 1) / TICKS_PER_HOUR;
        timersPerHour.push(vi.getTimerCount());
        expect(HOOKS.map((name) => profiler.hooks[name].taps.length)).toEqual(tapsAfterStart);
        expect(PROCESS_EVENTS.map((e) => process.listenerCount(e))).toEqual(listenersRunning);
        if (CHECKPOINTS.includes(hour)) {
          checkpoints.push({
            hour,
            heapMb: heapMb(),
            storeBytes: profiler.store.bytes,
            storeSize: profiler.store.size,
            timers: vi.getTimerCount(),
            handles: process.getActiveResourcesInfo().length,
          });
        }
      }
    }
    const loopSeconds = (performance.now() - began) / 1000;
    const stopping = profiler.stop();
    await vi.advanceTimersByTimeAsync(0);
    const session = await stopping;

    // Every tick ran, each on its schedule (start + k * interval), none skipped or late by an interval.
    expect(tickCount).toBeGreaterThanOrEqual(TICKS);
    let maxDrift = 0;
    for (let k = 0; k < TICKS; k++) maxDrift = Math.max(maxDrift, Math.abs(ticks[k]! - (startedAt + k * INTERVAL_MS)));
    expect(maxDrift).toBeLessThan(INTERVAL_MS);

    // The ring: full after the first hour, then the same size; memory stays within a small bound.
    for (const point of checkpoints) expect(point.storeSize).toBe(MAX_SAMPLES);
    const [first, ...later] = checkpoints;
    const heapGrowthMb = Math.max(...later.map((p) => p.heapMb)) - first!.heapMb;
    const storeGrowth = Math.max(...later.map((p) => p.storeBytes)) / first!.storeBytes;
    expect(heapGrowthMb).toBeLessThan(2);
    expect(storeGrowth).toBeLessThan(1.25);
    expect(session.samples.t.length).toBe(MAX_SAMPLES);

    // No timer or handle leak: one pending timer (the next tick) every hour, none after stop;
    // the exit listeners are gone and the hooks hold what the plugins tapped at start.
    expect(new Set(timersPerHour)).toEqual(new Set([1]));
    expect(vi.getTimerCount()).toBe(0);
    for (const point of checkpoints) expect(point.handles).toBeLessThanOrEqual(handlesBefore + 1);
    expect(PROCESS_EVENTS.map((e) => process.listenerCount(e))).toEqual(listenersBefore);
    expect(HOOKS.map((name) => profiler.hooks[name].taps.length)).toEqual(tapsAfterStart);

    // The day was eventful and reported: reports at every tick, alerts fired and resolved, the
    // profiled modules' calls and errors all counted.
    expect(reports).toBeGreaterThanOrEqual(TICKS - 1);
    expect(lastReport).not.toBeNull();
    expect(transitions).toBeGreaterThan(HOURS / 2);
    expect(session.faults, JSON.stringify(session.faults)).toEqual([]);
    for (const name of ['soak.parse', 'soak.score', 'soak.fetch', 'soak.flaky']) {
      expect(session.modules.find((m) => m.name === name)?.calls, name).toBeGreaterThan(0);
    }
    expect(session.modules.find((m) => m.name === 'soak.flaky')!.errors).toBeGreaterThan(0);

    console.log(
      `soak: ${tickCount} ticks in ${loopSeconds.toFixed(1)} s, max drift ${maxDrift} ms, heap ${checkpoints
        .map((p) => `${p.hour}h ${p.heapMb.toFixed(1)} MB`)
        .join(', ')}, store ${checkpoints.map((p) => `${(p.storeBytes / 1024).toFixed(0)} KiB`).join(' / ')}, growth after 1h ${heapGrowthMb.toFixed(2)} MB, ${transitions} alert transitions, warnings: ${warnings.length}`,
    );
  });
});
