import { afterEach, describe, expect, it } from 'vitest';
import modules, { moduleSpan, profileModule } from './index.js';
import { burnCpu, makeProfiler, moreSamples, seriesByName, sleep, stopAll, sumOf } from './test-utils.js';

afterEach(stopAll);

/** Within `share` of `expected` (the machine is shared and noisy: 25% as the issue asks). */
function near(actual: number, expected: number, share = 0.25): void {
  expect(actual, `${actual.toFixed(1)} vs ${expected.toFixed(1)}`).toBeGreaterThanOrEqual(expected * (1 - share));
  expect(actual, `${actual.toFixed(1)} vs ${expected.toFixed(1)}`).toBeLessThanOrEqual(expected * (1 + share));
}

for (const cpu of ['sampling', 'precise'] as const) {
  describe(`CPU attribution (cpu: '${cpu}')`, () => {
    const options = { cpu, cpuSampleIntervalMs: 2 };

    it('charges a CPU-heavy module its on-CPU time and a waiting one almost none', async () => {
      const heavy = profileModule(`${cpu}.heavy`, (ms: number) => burnCpu(ms));
      const waiting = profileModule(`${cpu}.waiting`, async () => {
        await sleep(100);
      });
      const { profiler } = makeProfiler([modules(options)]);
      await profiler.start();
      let truthMs = 0;
      const until = Date.now() + 2000;
      await Promise.all([
        (async () => {
          while (Date.now() < until) {
            // the truth: CPU time around its synchronous work
            const before = process.cpuUsage();
            heavy(15);
            const used = process.cpuUsage(before);
            truthMs += (used.user + used.system) / 1000;
            await sleep(5);
          }
        })(),
        (async () => {
          while (Date.now() < until) await waiting();
        })(),
      ]);
      await moreSamples(profiler, 1); // core does not collect at stop: let the last events land
      const session = await profiler.stop();
      const values = seriesByName(session);
      near(sumOf(values[`module.${cpu}.heavy.cpu_ms`]), truthMs);
      const waitingCpuMs = sumOf(values[`module.${cpu}.waiting.cpu_ms`]);
      expect(waitingCpuMs).toBeLessThan(Math.max(20, truthMs * 0.02));
      const waitingModule = session.modules.find((m) => m.name === `${cpu}.waiting`)!;
      expect(waitingModule.calls).toBeGreaterThanOrEqual(5);
      // its latency is its timer (plus the heavy module's blocks of 15 ms at most)
      expect(waitingModule.meanMs).toBeGreaterThanOrEqual(98.5);
      expect(waitingModule.meanMs).toBeLessThan(100 + 60);
      expect(waitingModule.minMs).toBeGreaterThanOrEqual(98.5); // libuv timers may fire up to 1 ms early
    });

    it('charges an async module its computing, not its waiting', async () => {
      let truthMs = 0;
      const mixed = profileModule(`${cpu}.mixed`, async () => {
        await sleep(200);
        truthMs += burnCpu(50);
      });
      const { profiler } = makeProfiler([modules(options)]);
      await profiler.start();
      for (let i = 0; i < 4; i++) await mixed();
      await moreSamples(profiler, 1); // core does not collect at stop: let the last events land
      const session = await profiler.stop();
      const values = seriesByName(session);
      near(sumOf(values[`module.${cpu}.mixed.cpu_ms`]), truthMs);
      const module = session.modules.find((m) => m.name === `${cpu}.mixed`)!;
      expect(module.calls).toBe(4);
      expect(module.meanMs).toBeGreaterThanOrEqual(200 + truthMs / 4 - 1);
      expect(module.meanMs).toBeLessThan(200 + truthMs / 4 + 100);
    });

    it('charges nested modules their own time: a parent does not hold its child', async () => {
      let parentTruth = 0;
      let childTruth = 0;
      const child = profileModule(`${cpu}.child`, () => {
        childTruth += burnCpu(40);
      });
      const parent = profileModule(`${cpu}.parent`, () => {
        parentTruth += burnCpu(20);
        child();
        parentTruth += burnCpu(10);
      });
      const asyncParent = profileModule(`${cpu}.async-parent`, async () => {
        await sleep(20);
        parentTruth += burnCpu(10);
        child();
        await sleep(20);
        child();
      });
      const { profiler } = makeProfiler([modules(options)]);
      await profiler.start();
      for (let i = 0; i < 8; i++) {
        parent();
        await asyncParent();
      }
      await moreSamples(profiler, 1); // core does not collect at stop: let the last events land
      const session = await profiler.stop();
      const values = seriesByName(session);
      near(sumOf(values[`module.${cpu}.child.cpu_ms`]), childTruth);
      near(sumOf(values[`module.${cpu}.parent.cpu_ms`]) + sumOf(values[`module.${cpu}.async-parent.cpu_ms`]), parentTruth);
      // The parent's latency holds its child's time; its CPU does not.
      const parentModule = session.modules.find((m) => m.name === `${cpu}.parent`)!;
      expect(parentModule.meanMs).toBeGreaterThan(65);
    });
  });
}

describe('what is not CPU', () => {
  it('does not charge a call that blocks the thread without computing (capped at the thread’s own CPU time)', async () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const blocked = profileModule('blocking.wait', () => Atomics.wait(cell, 0, 0, 150));
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    for (let i = 0; i < 4; i++) {
      blocked();
      await sleep(10);
    }
    await moreSamples(profiler, 1);
    const session = await profiler.stop();
    const module = session.modules.find((m) => m.name === 'blocking.wait')!;
    expect(module.totalMs).toBeGreaterThanOrEqual(4 * 149);
    expect(module.cpuMs).toBeLessThan(4 * 150 * 0.25);
  });
});

describe('spans', () => {
  it('charges a synchronous span its own time, without its profiled callees', async () => {
    let spanTruth = 0;
    let innerTruth = 0;
    const inner = profileModule('span.inner', () => {
      innerTruth += burnCpu(20);
    });
    const { profiler, warnings } = makeProfiler([modules()]);
    await profiler.start();
    for (let i = 0; i < 6; i++) {
      const end = moduleSpan('span.block');
      spanTruth += burnCpu(15);
      inner();
      end();
      await sleep(5);
    }
    // across an await: counted and timed, its CPU not attributed, and said once
    const end = moduleSpan('span.across');
    await sleep(30);
    end();
    await moreSamples(profiler, 1); // core does not collect at stop: let the last events land
      const session = await profiler.stop();
    const values = seriesByName(session);
    near(sumOf(values['module.span.block.cpu_ms']), spanTruth);
    near(sumOf(values['module.span.inner.cpu_ms']), innerTruth);
    expect(sumOf(values['module.span.across.calls'])).toBe(1);
    expect(sumOf(values['module.span.across.cpu_ms'])).toBe(0);
    expect(session.modules.find((m) => m.name === 'span.across')!.meanMs).toBeGreaterThanOrEqual(28.5);
    expect(warnings.join('\n')).toContain('module "span.across": a moduleSpan stayed open across an await');
  });
});
