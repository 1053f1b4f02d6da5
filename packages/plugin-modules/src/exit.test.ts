import { describe, expect, it } from 'vitest';
import { runScript } from './test-utils.js';

describe('in a real process', () => {
  it('releases everything on stop: the process exits by itself', () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      import { Profiler } from '@loadlight/core';
      import modules, { profileModule, moduleSpan, watchWorker } from '@loadlight/plugin-modules';
      const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
      const sync = profileModule('exit.sync', () => spin(5));
      const later = profileModule('exit.async', async () => { await new Promise((r) => setTimeout(r, 20)); spin(5); });
      const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
      watchWorker(worker, 'exit.worker');
      const sampling = new Profiler({ plugins: [modules({ cpu: 'sampling', memoryReadIntervalMs: 1000, cpuSampleIntervalMs: 5 })], reporters: [], rules: [], sampleIntervalMs: 200 }, { handleExit: false });
      const precise = new Profiler({ plugins: [modules({ cpu: 'precise' })], reporters: [], rules: [], sampleIntervalMs: 300 }, { handleExit: false });
      await sampling.start();
      await precise.start();
      const end = Date.now() + 2500;
      while (Date.now() < end) {
        sync();
        await later();
        const done = moduleSpan('exit.span');
        done();
      }
      const [a, b] = await Promise.all([sampling.stop(), precise.stop()]);
      await worker.terminate();
      const mine = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
      console.log(JSON.stringify({
        resources: mine,
        modules: a.modules.map((m) => m.name).sort(),
        asyncCpu: [a, b].map((s) => s.modules.find((m) => m.name === 'exit.async').cpuMs),
        workerCpu: a.modules.find((m) => m.name === 'exit.worker').cpuMs,
      }));
    `;
    const started = Date.now();
    const result = runScript(script, 25_000);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // it ended on its own, not by the time-out
    expect(Date.now() - started).toBeLessThan(20_000);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      resources: string[];
      modules: string[];
      asyncCpu: number[];
      workerCpu: number;
    };
    expect(report.resources).toEqual([]);
    expect(report.modules).toEqual(['exit.async', 'exit.span', 'exit.sync', 'exit.worker']);
    for (const cpuMs of report.asyncCpu) expect(cpuMs).toBeGreaterThan(0);
    expect(report.workerCpu).toBeGreaterThanOrEqual(0);
  });

  it('shares modules between the ESM and CJS builds loaded in one process', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { Profiler } from '@loadlight/core';
      import modules from '@loadlight/plugin-modules';
      // a perf.config.ts read through jiti loads the CJS build; the program imports the ESM one
      const cjs = createRequire(import.meta.url)('@loadlight/plugin-modules');
      const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
      const work = cjs.profileModule('dual.work', async () => { await new Promise((r) => setTimeout(r, 10)); spin(20); });
      const profiler = new Profiler({ plugins: [modules({ cpu: 'sampling', cpuSampleIntervalMs: 2 })], reporters: [], rules: [], sampleIntervalMs: 200 }, { handleExit: false });
      await profiler.start();
      for (let i = 0; i < 20; i++) await work();
      await new Promise((r) => setTimeout(r, 300));
      const session = await profiler.stop();
      const module = session.modules.find((m) => m.name === 'dual.work');
      console.log(JSON.stringify({ calls: module.calls, cpuMs: module.cpuMs }));
    `;
    const result = runScript(script);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout.trim()) as { calls: number; cpuMs: number };
    expect(report.calls).toBe(20);
    // 20 continuations of 20 ms each, seen by the ESM build's sampler in CJS-wrapped code
    expect(report.cpuMs).toBeGreaterThan(20 * 20 * 0.6);
    expect(report.cpuMs).toBeLessThan(20 * 20 * 1.5);
  });
});
