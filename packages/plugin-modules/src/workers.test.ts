import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import modules, { watchWorker } from './index.js';
import { makeProfiler, moreSamples, stopAll, until } from './test-utils.js';

const workers: Worker[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

/** A worker that computes in 50 ms slices, holding a few MB of heap and 16 MB outside it. */
function busyWorker(): Worker {
  const worker = new Worker(
    `
    const held = Array.from({ length: 200000 }, (_, i) => ({ i }));
    const outside = new Uint8Array(16 * 1024 * 1024).fill(7);
    let x = 0;
    function slice() {
      const end = Date.now() + 50;
      while (Date.now() < end) x += Math.sqrt(x + held.length + outside[0]);
      setImmediate(slice);
    }
    slice();
    `,
    { eval: true },
  );
  workers.push(worker);
  return worker;
}

describe('watchWorker', () => {
  it("reports a busy worker's CPU and heap from its own accounting", async () => {
    const { profiler } = makeProfiler([modules()]);
    const worker = busyWorker();
    watchWorker(worker, 'workers.busy', { tags: ['ocr'] });
    await profiler.start();
    const latest = (field: string) => profiler.store.latest(`module.workers.busy.${field}`);
    await until(() => (latest('cpu_percent') ?? 0) > 20 && (latest('memory_mb') ?? 0) > 0, 'CPU and memory of the worker');
    expect(latest('cpu_percent')!).toBeLessThanOrEqual(105); // one thread: at most one core
    // 200,000 small objects on its heap and a 16 MB buffer outside it
    expect(latest('memory_mb')!).toBeGreaterThan(16 + 3);
    expect(profiler.store.info('module.workers.busy.cpu_percent')!.module).toEqual({ name: 'workers.busy', field: 'cpu_percent', tags: ['ocr'] });
    // Only what a worker can give: no calls or latency.
    expect(profiler.store.info('module.workers.busy.calls')).toBeUndefined();

    await worker.terminate();
    await moreSamples(profiler, 2);
    expect(latest('cpu_percent')).toBeNull();
    expect(latest('memory_mb')).toBeNull();
    const session = await profiler.stop();
    const module = session.modules.find((m) => m.name === 'workers.busy')!;
    expect(module.cpuMs).toBeGreaterThan(0);
    expect(module.calls).toBeNull();
  });

  it('watches a worker a library creates internally, through process.on("worker")', async () => {
    const { profiler } = makeProfiler([modules()]);
    const onWorker = (worker: Worker) => watchWorker(worker, 'workers.library');
    process.on('worker', onWorker);
    try {
      await profiler.start();
      busyWorker(); // as tesseract.js does inside createWorker()
      busyWorker();
      await until(() => (profiler.store.latest('module.workers.library.cpu_percent') ?? 0) > 40, 'both workers counted');
    } finally {
      process.off('worker', onWorker);
    }
  });

  it('checks its arguments', () => {
    expect(() => watchWorker({} as Worker, 'workers.fake')).toThrowError(
      'watchWorker(…, "workers.fake"): the first argument must be a worker_threads Worker, got Object',
    );
    const worker = busyWorker();
    expect(() => watchWorker(worker, 'Workers')).toThrowError(/watchWorker\(\): the module name must be lower-case dotted words/);
    watchWorker(worker, 'workers.named');
    expect(() => watchWorker(worker, 'count.sync.other')).not.toThrow();
  });
});
