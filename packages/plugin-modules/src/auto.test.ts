import { afterEach, describe, expect, it } from 'vitest';
import type { Plugin } from '@loadlight/core';
import { engine } from './engine.js';
import modules, { profileModule } from './index.js';
import { autoSampler } from './plugin.js';
import { burnCpu, makeProfiler, moreSamples, seriesByName, sleep, stopAll, sumOf, until } from './test-utils.js';

const defaults = { ...autoSampler };

afterEach(async () => {
  await stopAll();
  Object.assign(autoSampler, defaults);
});

/** Calls `step` in a loop until the returned function is called (which waits for the loop to end). */
function keepCalling(step: () => Promise<unknown>): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) await step();
  })();
  return async () => {
    running = false;
    await loop;
  };
}

describe("cpu: 'auto' (the default)", () => {
  it('leaves V8’s CPU sampler off while the wrappers time nearly all the JavaScript, and still charges synchronous runs', async () => {
    autoSampler.windowMs = 1000;
    let truthMs = 0;
    const compute = profileModule('auto.quiet.compute', () => {
      truthMs += burnCpu(10);
    });
    // An async module (continuations are possible) whose continuations compute nothing.
    const wait = profileModule('auto.quiet.wait', async () => {
      await sleep(15);
    });
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    const rotations = engine().stats.cpuRotations;
    const stop = keepCalling(async () => {
      compute();
      await wait();
    });
    await sleep(3500); // the start-up window, then two judged ones
    await stop();
    await moreSamples(profiler, 1);
    expect(engine().cpuSamplerRequested).toBe(false);
    expect(engine().cpuSamplerRunning).toBe(false);
    expect(engine().stats.cpuRotations).toBe(rotations);
    const session = await profiler.stop();
    const computed = sumOf(seriesByName(session)['module.auto.quiet.compute.cpu_ms']!);
    expect(computed).toBeGreaterThanOrEqual(truthMs * 0.75);
    expect(computed).toBeLessThanOrEqual(truthMs * 1.25);
  }, 15_000);

  it('starts the sampler once continuations compute (not in the first window), and charges them from then on', async () => {
    autoSampler.windowMs = 1000;
    let truthMs = 0;
    const mixed = profileModule('auto.busy.mixed', async () => {
      await sleep(10);
      truthMs += burnCpu(15); // a continuation: outside any wrapped synchronous run
    });
    const { profiler } = makeProfiler([modules({ cpuSampleIntervalMs: 2 })]);
    await profiler.start();
    const rotations = engine().stats.cpuRotations;
    const startedAt = performance.now();
    const stop = keepCalling(mixed);
    await until(() => engine().stats.cpuRotations >= rotations + 2, 'the CPU sampler to start and rotate', 10_000);
    // the first window (start-up) is not judged: the second one decides
    expect(engine().stats.cpuSamplerRequestedAt! - startedAt).toBeGreaterThanOrEqual(2 * autoSampler.windowMs);
    const from = profiler.store.size;
    truthMs = 0;
    await sleep(2000);
    await stop();
    await moreSamples(profiler, 1);
    const charged = profiler.store.series('module.auto.busy.mixed.cpu_ms').slice(from);
    await profiler.stop();
    // the continuations of the last 2 s, charged by the sampler (within a tick at each end)
    const chargedMs = sumOf(charged);
    expect(chargedMs).toBeGreaterThanOrEqual(truthMs * 0.6);
    expect(chargedMs).toBeLessThanOrEqual(truthMs * 1.4);
  }, 20_000);
});

describe("cpu: 'sampling'", () => {
  it('starts V8’s CPU sampler after the first sample is committed, not inside the first tick', async () => {
    const job = profileModule('sampling.first.job', async () => {
      await sleep(5);
      burnCpu(2);
    });
    await job();
    // A source that finishes in the check phase (as plugin-system's event-loop read does), listed
    // after this plugin: a sampler started from the collect would run before it, inside the tick.
    const checkPhase: Plugin = {
      name: 'check-phase',
      apply(p) {
        p.hooks.collect.tapPromise('check-phase', () => new Promise<void>((resolve) => setImmediate(resolve)));
      },
    };
    const { profiler } = makeProfiler([modules({ cpu: 'sampling' }), checkPhase], { sampleIntervalMs: 1000 });
    // What the sampler's state is when the first row is committed (the sample hook runs right after).
    let runningAtFirstSample: boolean | null = null;
    profiler.hooks.sample.tap('test', () => {
      runningAtFirstSample ??= engine().cpuSamplerRunning;
    });
    await profiler.start();
    await until(() => runningAtFirstSample !== null, 'the first sample');
    expect(runningAtFirstSample).toBe(false);
    // ... and it runs well before the second tick
    await until(() => engine().cpuSamplerRunning, 'the CPU sampler to start', 900);
    expect(profiler.store.size).toBe(1);
  }, 15_000);
});
