// The dashboard under load (issue 7, item 6): 50 SSE clients and a burst of 1,000 API requests on
// loopback, against a real Profiler sampling every 200 ms with the system and modules plugins and
// the default rules. The clients run in a worker thread (load-clients.mjs) at the lowest priority,
// as browsers would run elsewhere: this thread is the profiled program, whose ticks, memory and
// server state are measured.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { defaultRuleFiles } from '@loadlight/core';
import { createTestProfiler, sleep, stopTestProfilers, until } from '@loadlight/core/testing';
import modules, { moduleSpan, profileModule } from '@loadlight/plugin-modules';
import system from '@loadlight/plugin-system';
import { afterEach, expect, it } from 'vitest';
import { exposeGc } from '../../../test/support/allocation.js';
import dashboard, { dashboardSnapshot } from './index.js';

const INTERVAL_MS = 200;
const CLIENTS = 50;
const CONCURRENCY = 64;
/** Reports every stream must receive after the burst starts (at 200 ms: 5 s). */
const MIN_REPORTS = 25;
/** Heap (after a full GC) once every client left, over the baseline: the allowed rest. */
const HEAP_SLACK_BYTES = 3 * 1024 * 1024;

interface StreamRecord {
  ids: number[];
  ts: number[];
  hello: number;
  actions: number;
  stopped: number;
  badSnapshots: string[];
  status: number;
  ended: boolean;
  error: string | null;
}

interface BurstResult {
  total: number;
  byKind: Record<string, { expected: number; count: number; statuses: Record<string, number>; invalid: string[] }>;
  durationMs: number;
  latency: { p50: number; p99: number; max: number };
}

/** The worker of load-clients.mjs, called like functions. */
class Clients {
  private readonly worker = new Worker(new URL('./load-clients.mjs', import.meta.url));
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor() {
    this.worker.on('message', ({ seq, result, error }: { seq: number; result?: unknown; error?: string }) => {
      const call = this.pending.get(seq)!;
      this.pending.delete(seq);
      if (error !== undefined) call.reject(new Error(`load clients: ${error}`));
      else call.resolve(result);
    });
    this.worker.on('error', (error) => {
      for (const call of this.pending.values()) call.reject(error);
      this.pending.clear();
    });
  }

  call<T>(cmd: string, args: unknown = {}): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ seq, cmd, args });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

let clients: Clients | null = null;
afterEach(async () => {
  await clients?.terminate();
  clients = null;
  await stopTestProfilers();
});

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Three full GCs, each after a turn of the event loop (WeakRefs are cleared only once a job ended). */
async function settle(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return getHeapStatistics().used_heap_size;
}

it(
  'serves 50 SSE clients and 1,000 API requests with no lost update, no late tick and no memory kept',
  async () => {
    const gc = exposeGc();
    const reporter = dashboard({ port: 0, quiet: true, title: 'load' });
    const { profiler } = createTestProfiler([system(), modules()], {
      reporters: [reporter],
      rules: defaultRuleFiles(),
      watchRules: false,
      sampleIntervalMs: INTERVAL_MS,
    });
    const reports: number[] = []; // t of report n at index n - 1: the dashboard's event id n
    profiler.hooks.report.tap('load-test', (snapshot) => void reports.push(snapshot.t));
    await profiler.start();

    // The profiled program: a few modules at work, every 20 ms.
    const parse = profileModule('input.parse', (n: number) => JSON.parse(JSON.stringify({ n, items: Array.from({ length: 50 }, (_, i) => i * n) })) as unknown);
    const score = profileModule('core.score', (n: number) => {
      let s = 0;
      for (let i = 0; i < 20_000; i++) s += Math.sqrt(i + n);
      return s;
    }, { tags: ['heavy'] });
    const store = profileModule('io.store', async (n: number) => sleep(n % 5));
    let n = 0;
    const work = setInterval(() => {
      n++;
      parse(n);
      score(n);
      void store(n);
      const end = moduleSpan('io.log');
      end();
    }, 20);
    try {
      const server = reporter.server!;
      const http = (server as unknown as { server: Server }).server;
      const origin = server.origin;
      const token = new URL(reporter.url!).searchParams.get('token')!;
      const sessionId = profiler.sessionId;
      const moduleCount = 4;
      await until(() => dashboardSnapshot(profiler).modules.length === moduleCount && profiler.evaluation !== null, 'the modules and an evaluation');
      const args = { origin, token, sessionId, metric: 'process.cpu.percent', modules: moduleCount };
      clients = new Clients();

      // Warm up (code, caches, parser pools), then the baseline.
      await clients.call('connect', { ...args, count: 2 });
      await clients.call('burst', { ...args, concurrency: 4 });
      await clients.call('close');
      await until(() => server.clientCount === 0 && server.connectionCount === 0, 'the warm-up connections to close');
      const listeners = (emitter: NodeJS.EventEmitter) => Object.fromEntries(emitter.eventNames().map((e) => [String(e), emitter.listenerCount(e)]));
      const serverListenersBefore = listeners(http);
      const processListenersBefore = listeners(process);
      const heapBefore = await settle(gc);
      const buffersBefore = process.memoryUsage().arrayBuffers;
      await sleep(2 * INTERVAL_MS); // the forced GCs above delay a tick: not one of the load's

      // WeakRefs to every connection and response of the load, to see them all collected after.
      const refs: Array<WeakRef<object>> = [];
      const onConnection = (socket: Socket) => refs.push(new WeakRef(socket));
      const onRequest = (_req: unknown, res: object) => refs.push(new WeakRef(res));
      http.on('connection', onConnection);
      http.on('request', onRequest);
      let heapPeak = 0;
      const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size)), 50);
      const loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      const loadStart = Date.now();

      // 50 streams; the burst while they are open; then reports until MIN_REPORTS since the burst began.
      const opened = await clients.call<Array<{ status: number }>>('connect', { ...args, count: CLIENTS });
      expect(opened.map((o) => o.status)).toEqual(Array(CLIENTS).fill(200));
      expect(server.clientCount).toBe(CLIENTS);
      const burstFromId = server.reportId;
      const burst = await clients.call<BurstResult>('burst', { ...args, concurrency: CONCURRENCY });
      await until(() => server.reportId >= burstFromId + MIN_REPORTS, `${MIN_REPORTS} reports`, 30_000);
      // Every stream must get the latest report (they are all still connected).
      const lastId = server.reportId;
      const deadline = Date.now() + 20_000;
      while ((await clients.call<{ minLastId: number }>('status')).minLastId < lastId) {
        if (Date.now() > deadline) throw new Error(`the streams did not all receive report ${lastId} within 20 s`);
        await sleep(20);
      }
      const loadEnd = Date.now();
      loopDelay.disable();
      clearInterval(sampler);
      const records = await clients.call<StreamRecord[]>('records');
      const heapConnected = await settle(gc);

      // Every client leaves: the server lets go of everything.
      await clients.call('close');
      await until(() => server.clientCount === 0 && server.connectionCount === 0, 'every connection to close');
      http.off('connection', onConnection);
      http.off('request', onRequest);
      const heapAfter = await settle(gc);
      const buffersAfter = process.memoryUsage().arrayBuffers;
      const alive = refs.filter((r) => r.deref() !== undefined).length;

      // No lost update: each stream got every report from its connect on, in order: the same ones.
      for (const [i, r] of records.entries()) {
        const what = `stream ${i}`;
        expect({ what, status: r.status, hello: r.hello, bad: r.badSnapshots, error: r.error }).toEqual({ what, status: 200, hello: 1, bad: [], error: null });
        const first = r.ids[0]!;
        expect(first, what).toBeLessThanOrEqual(burstFromId);
        expect(r.ids, what).toEqual(Array.from({ length: r.ids.length }, (_, k) => first + k));
        // Event id n is report n: its sample time is the one the profiler reported.
        expect(r.ts.slice(1), what).toEqual(reports.slice(first, first + r.ids.length - 1));
        expect(r.ids.at(-1)!, what).toBeGreaterThanOrEqual(lastId);
      }
      const perStream = records.map((r) => r.ids.length - 1).sort((a, b) => a - b);

      // Every request answered as it should be, with a valid body.
      expect(Object.entries(burst.byKind).filter(([, k]) => k.statuses[k.expected] !== k.count || k.invalid.length > 0)).toEqual([]);
      expect(Object.values(burst.byKind).reduce((sum, k) => sum + k.count, 0)).toBe(1000);

      // The ticks kept their schedule (tick i is due at t0 + i * interval): under load, no slot
      // without a tick and no tick late by an interval or more (before the load, the test's own
      // warm-up and forced collections may delay a tick: not the dashboard's doing).
      const times = profiler.store.timeSeries();
      const lateness = times.map((t, i) => t - (times[0]! + i * INTERVAL_MS));
      const inLoad = (t: number) => t >= loadStart && t <= loadEnd + INTERVAL_MS;
      const underLoad = lateness.filter((_, i) => inLoad(times[i]!)).sort((a, b) => a - b);
      // Slots with no tick between the ticks of the load: a tick late by a whole interval, or skipped.
      const first = times.findIndex(inLoad);
      const skipped = Math.max(0, ...times.map((t, i) => (i >= first && inLoad(t) ? Math.floor((t - times[first]!) / INTERVAL_MS) - (i - first) : 0)));

      const statuses = Object.entries(burst.byKind).map(([kind, k]) => `${kind} ${k.count}x${k.expected}`);
      console.log(
        `[dashboard load] ${CLIENTS} streams: ${perStream[0]}-${perStream.at(-1)} reports each, 0 gaps; ` +
          `${burst.total} requests at concurrency ${CONCURRENCY} in ${burst.durationMs.toFixed(0)} ms ` +
          `(latency p50 ${burst.latency.p50.toFixed(0)} ms, p99 ${burst.latency.p99.toFixed(0)} ms, max ${burst.latency.max.toFixed(0)} ms): ${statuses.join(', ')}; ` +
          `${underLoad.length} ticks under load: lateness max ${underLoad.at(-1)} ms, p99 ${quantile(underLoad, 0.99)} ms, ` +
          `${skipped} skipped (whole run: max ${Math.max(...lateness)} ms); ` +
          `event-loop delay max ${(loopDelay.max / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms; ` +
          `heap ${mib(heapBefore)} MiB before, ${mib(heapPeak)} MiB peak, ${mib(heapConnected)} MiB with ${CLIENTS} streams open (after GC), ` +
          `${mib(heapAfter)} MiB after (${((heapAfter - heapBefore) / 1024).toFixed(0)} KiB more); ` +
          `array buffers ${((buffersAfter - buffersBefore) / 1024).toFixed(0)} KiB more; ${refs.length} connections and responses, ${alive} left`,
      );

      expect(underLoad.length).toBeGreaterThanOrEqual(MIN_REPORTS);
      expect(skipped).toBe(0);
      expect(underLoad.at(-1)!).toBeLessThan(INTERVAL_MS);
      expect(profiler.snapshot().faults).toEqual([]);

      // Memory and state back to the baseline.
      expect(alive).toBe(0);
      expect(heapAfter - heapBefore).toBeLessThan(HEAP_SLACK_BYTES);
      expect(buffersAfter - buffersBefore).toBeLessThan(HEAP_SLACK_BYTES);
      expect(listeners(http)).toEqual(serverListenersBefore);
      expect(listeners(process)).toEqual(processListenersBefore);
    } finally {
      clearInterval(work);
    }
  },
  90_000,
);
