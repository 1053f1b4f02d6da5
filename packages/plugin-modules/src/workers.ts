import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LoadlightError } from '@loadlight/core';
import type { InspectorLink } from './inspector.js';
import { checkModuleName, checkModuleOptions, PLUGIN_NAME } from './names.js';
import { hot, slotFor, type WorkerWatch } from './runtime.js';
import { ThreadClock, threadCpuAvailable } from './thread-cpu.js';
import { traceWorkerExit } from './trace.js';
import type { ModuleOptions } from './wrap.js';

function fail(message: string): never {
  throw new LoadlightError('PLUGIN_OPTIONS_INVALID', message, { plugin: PLUGIN_NAME });
}

/**
 * Watches a worker thread as module `name`: its CPU (the thread's own on-CPU time, from Linux's
 * /proc) and memory (its heap in use plus external memory, as its own `process.memoryUsage()`
 * tells through its inspector) become
 * `module.<name>.cpu_ms`, `cpu_percent` and `memory_mb` in every profiler running the modules
 * plugin. Several workers watched under one name are summed (a pool). Returns a function that
 * stops watching; a worker that exits is dropped by itself.
 *
 * ```ts
 * // a worker a library creates internally (tesseract.js): watch every worker as it starts
 * process.on('worker', (worker) => watchWorker(worker, 'ocr.workers'));
 * ```
 */
export function watchWorker(worker: Worker, name: string, options?: ModuleOptions): () => void {
  const call = `watchWorker(…, ${JSON.stringify(name)})`;
  if (!(worker instanceof Worker)) fail(`${call}: the first argument must be a worker_threads Worker, got ${describe(worker)}`);
  checkModuleName(name, 'watchWorker()');
  const tags = checkModuleOptions(options, call);
  const threadId = worker.threadId;
  if (threadId < 0) fail(`${call}: this worker has already exited`);
  const slot = slotFor(name, 'worker', tags, call, fail);
  for (const existing of slot.workers) {
    if (existing.worker === worker) return () => slot.workers.delete(existing);
  }
  const watch: WorkerWatch = {
    worker,
    threadId,
    slot,
    tid: null,
    clock: null,
    cpuProblem: threadCpuAvailable ? null : 'a thread\'s CPU time is read from /proc/self/task/<tid>, which only Linux provides',
    lastCpuMs: -1,
    memoryBytes: null,
    exited: false,
    tidAttempts: 0,
    watchedAt: performance.now(),
  };
  slot.workers.add(watch);
  worker.once('exit', () => {
    // Its span in a trace ends here (unless watching stopped before).
    if (hot.tracing !== 0 && slot.workers.has(watch)) traceWorkerExit(watch);
    watch.exited = true;
    watch.clock?.close();
    watch.clock = null;
    // Drop it (and the Worker object): the name's metrics are null while none of its workers runs.
    slot.workers.delete(watch);
  });
  return () => {
    if (hot.tracing !== 0 && slot.workers.has(watch)) traceWorkerExit(watch);
    slot.workers.delete(watch);
    watch.clock?.close();
    watch.clock = null;
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

interface Pending {
  resolve(value: Record<string, unknown> | null): void;
  timer: NodeJS.Timeout;
}

const MAX_TID_ATTEMPTS = 30;
const ANSWER_TIMEOUT_MS = 150;

/**
 * Talks to watched workers through the NodeWorker inspector domain: every worker of this
 * thread gets an inspector session (cheap; no debugger pauses), over which we ask for its
 * memory and, once, for its OS thread id (`readlink /proc/thread-self`, run on that thread).
 */
export class WorkerMonitor {
  private readonly link: InspectorLink;
  /** Inspector session id per worker threadId. */
  private readonly sessions = new Map<number, string>();
  private readonly pending = new Map<string, Pending>();
  private nextMessageId = 1;
  private enabled = false;

  constructor(link: InspectorLink) {
    this.link = link;
  }

  private enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.link.on('NodeWorker.attachedToWorker', ({ params }) => {
      const info = params.workerInfo as { workerId: string };
      this.sessions.set(Number(info.workerId), params.sessionId as string);
    });
    this.link.on('NodeWorker.detachedFromWorker', ({ params }) => {
      for (const [threadId, sessionId] of this.sessions) if (sessionId === params.sessionId) this.sessions.delete(threadId);
    });
    this.link.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
      let message: { id?: number; result?: Record<string, unknown> };
      try {
        message = JSON.parse(params.message as string) as typeof message;
      } catch {
        return;
      }
      const key = `${params.sessionId as string}:${message.id}`;
      const waiting = this.pending.get(key);
      if (!waiting) return;
      this.pending.delete(key);
      clearTimeout(waiting.timer);
      waiting.resolve(message.result ?? null);
    });
    this.link.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  }

  /** Asks a worker's inspector; null on error, on time-out, or when it is not attached yet. */
  private ask(threadId: number, method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown> | null> {
    const sessionId = this.sessions.get(threadId);
    if (sessionId === undefined) return Promise.resolve(null);
    const id = this.nextMessageId++;
    return new Promise((resolve) => {
      const key = `${sessionId}:${id}`;
      const timer = setTimeout(() => {
        this.pending.delete(key);
        resolve(null);
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      this.pending.set(key, { resolve, timer });
      this.link.postAsync('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  }

  /** Reads every watched worker: CPU into its module's epoch, heap into the watch. */
  async read(watches: WorkerWatch[]): Promise<void> {
    if (watches.length === 0) return;
    this.enable();
    await Promise.all(watches.map((watch) => this.readOne(watch)));
  }

  private async readOne(watch: WorkerWatch): Promise<void> {
    if (watch.exited) return;
    if (watch.clock) {
      const ms = watch.clock.readMs();
      if (ms !== null) {
        if (watch.lastCpuMs >= 0 && ms >= watch.lastCpuMs) watch.slot.cpuWorkerMs += ms - watch.lastCpuMs;
        watch.lastCpuMs = ms;
      }
    }
    const asks: Array<Promise<void>> = [
      // Its own accounting: heap in use plus external memory (ArrayBuffers, WebAssembly memory,
      // which is where a tesseract.js worker keeps its engine).
      this.ask(watch.threadId, 'Runtime.evaluate', {
        expression: '(() => { const m = process.memoryUsage(); return m.heapUsed + m.external; })()',
        silent: true,
        returnByValue: true,
      }).then((answer) => {
        const bytes = (answer?.result as { value?: unknown } | undefined)?.value;
        if (typeof bytes === 'number' && Number.isFinite(bytes)) watch.memoryBytes = bytes;
      }),
    ];
    if (watch.tid === null && watch.cpuProblem === null) asks.push(this.findThread(watch));
    await Promise.all(asks);
  }

  /** The worker's OS thread id, asked of the worker itself (its bootstrap may not be done yet: retried). */
  private async findThread(watch: WorkerWatch): Promise<void> {
    if (!this.sessions.has(watch.threadId)) return;
    watch.tidAttempts++;
    const answer = await this.ask(watch.threadId, 'Runtime.evaluate', {
      expression: "require('fs').readlinkSync('/proc/thread-self')",
      includeCommandLineAPI: true,
      silent: true,
      returnByValue: true,
    });
    const link = (answer?.result as { value?: unknown } | undefined)?.value;
    const match = typeof link === 'string' ? /^(\d+)\/task\/(\d+)$/.exec(link) : null;
    if (match && Number(match[1]) === process.pid) {
      if (watch.exited) return;
      watch.tid = Number(match[2]);
      watch.clock = new ThreadClock(watch.tid);
      const ms = watch.clock.readMs();
      if (ms !== null) watch.lastCpuMs = ms;
      return;
    }
    if (watch.tidAttempts >= MAX_TID_ATTEMPTS) {
      watch.cpuProblem = 'the worker did not tell its thread id (its inspector did not answer); its CPU time cannot be read';
    }
  }

  close(): void {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.resolve(null);
    }
    this.pending.clear();
    this.sessions.clear();
    if (this.enabled && this.link.connected) {
      try {
        this.link.post('NodeWorker.disable');
      } catch {
        // the session is going away
      }
    }
    this.enabled = false;
  }
}
