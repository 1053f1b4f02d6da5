// @ts-check
// One run of the `sampler` topic, in a fresh node process (started by sampler/run.mjs); prints
// one JSON line. `node probe.mjs <none | control | loadlight | loadlight-sampling | prom> <durationMs> <workDir> [fps]`
//
// The bot's loop: every 1/fps s it processes one frame (workload.mjs: 20 functions, pure CPU),
// then waits for the next. Paced, as a screen-reading bot is: the process is not saturated, so
// whatever a profiler costs (on the JavaScript thread or on its own threads) is extra CPU time of
// the process; and the work is the same frames in every case.
//   none       no profiler
//   control    no profiler either: a second such process, to show what the method reads when
//              nothing differs (its resolution)
//   loadlight  a Profiler at 1 Hz with plugin-system, -ocr, -frames, -io and -modules (the 20
//              stages wrapped by profileModule; trackOcrCall/trackFrame/trackIoWait in the loop),
//              the default rules, reporter-console writing to a file, reporter-json
//   loadlight-sampling  the same with modules({ cpu: 'sampling' }): V8's CPU sampler from the
//              second tick on, whether or not continuations compute (shown beside, no bound)
//   prom       prom-client's collectDefaultMetrics(), its registry scraped (metrics()) at 1 Hz
import { closeSync, createWriteStream, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makePipeline, STAGE_NAMES } from './workload.mjs';

const [mode, durationArg, workDir, fpsArg] = process.argv.slice(2);
if (!mode || !durationArg || !workDir) throw new Error('usage: node probe.mjs <none | control | loadlight | loadlight-sampling | prom> <durationMs> <workDir> [fps]');
const durationMs = Number(durationArg);
const fps = Number(fpsArg ?? 20);
/** Linux's USER_HZ: /proc times are in 1/100 s on every Linux architecture Node supports. */
const CLOCK_TICK_MS = 10;

/** This thread's CPU time in ns, from /proc/thread-self/schedstat (kept open, re-read in place). */
class ThreadClock {
  constructor() {
    this.fd = openSync('/proc/thread-self/schedstat', 'r');
    this.buffer = Buffer.alloc(128);
  }
  ns() {
    const n = readSync(this.fd, this.buffer, 0, 128, 0);
    const text = this.buffer.toString('latin1', 0, n);
    return Number(text.slice(0, text.indexOf(' ')));
  }
  close() {
    closeSync(this.fd);
  }
}

/** utime + stime of a /proc stat line, in ms, and the thread's name. @param {string} text */
function statTimes(text) {
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // Fields 14 and 15 of proc(5), counted from the state (field 3) at index 0.
  return { comm, ms: (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS };
}

/** CPU ms of every thread of this process, by thread id. */
function threadTimes() {
  /** @type {Map<string, { comm: string, ms: number }>} */
  const out = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, statTimes(readFileSync(`/proc/self/task/${tid}/stat`, 'latin1')));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Extra CPU ms per thread name over the window (threads that started in it count from 0). */
function threadDelta(/** @type {Map<string, { comm: string, ms: number }>} */ before, /** @type {Map<string, { comm: string, ms: number }>} */ after) {
  /** @type {Record<string, number>} */
  const byName = {};
  for (const [tid, t] of after) {
    const name = tid === String(process.pid) ? 'main' : t.comm;
    byName[name] = (byName[name] ?? 0) + t.ms - (before.get(tid)?.ms ?? 0);
  }
  return byName;
}

async function main() {
  /** @type {string[]} */
  const warnings = [];
  /** @type {any} */
  let profiler = null;
  /** @type {any} */
  let track = null;
  /** Set by the prom case's start: clears its timer and registry. */
  const peer = { stop: /** @type {(() => Promise<void>) | null} */ (null) };
  let wrap = (/** @type {string} */ _name, /** @type {Function} */ fn) => fn;
  /** @type {(() => Promise<void>) | null} */
  let start = null;

  if (mode === 'loadlight' || mode === 'loadlight-sampling') {
    const [core, system, ocr, frames, io, modules, consoleReporter, json] = await Promise.all([
      import('@loadlight/core'),
      import('@loadlight/plugin-system'),
      import('@loadlight/plugin-ocr'),
      import('@loadlight/plugin-frames'),
      import('@loadlight/plugin-io'),
      import('@loadlight/plugin-modules'),
      import('@loadlight/reporter-console'),
      import('@loadlight/reporter-json'),
    ]);
    track = { ocr: ocr.trackOcrCall, frame: frames.trackFrame, io: io.trackIoWait };
    wrap = (name, fn) => modules.profileModule(name, /** @type {any} */ (fn));
    const stream = createWriteStream(path.join(workDir, `console-${process.pid}.log`));
    profiler = new core.Profiler(
      {
        sampleIntervalMs: 1000,
        plugins: [
          system.default(),
          ocr.default(),
          frames.default({ targetFps: fps }),
          io.default(),
          modules.default(mode === 'loadlight-sampling' ? { cpu: 'sampling' } : {}),
        ],
        reporters: [consoleReporter.default({ stream }), json.default({ dir: workDir, quiet: true })],
        // rules: not given, so the default rule files.
      },
      { handleExit: false, warn: (/** @type {string} */ m) => warnings.length < 5 && warnings.push(m) },
    );
    start = () => profiler.start();
  } else if (mode === 'prom') {
    const client = (await import('prom-client')).default;
    start = async () => {
      client.collectDefaultMetrics();
      let scraped = 0;
      const timer = setInterval(() => {
        void client.register.metrics().then((text) => (scraped += text.length));
      }, 1000);
      peer.stop = async () => {
        clearInterval(timer);
        client.register.clear();
        warnings.push(`prom-client: ${scraped} characters scraped`);
      };
    };
  } else if (mode !== 'none' && mode !== 'control') {
    throw new Error(`unknown mode "${mode}"`);
  }

  const frame = makePipeline(/** @type {any} */ (wrap));
  const clock = new ThreadClock();
  const statFd = openSync('/proc/self/stat', 'r');
  const statBuffer = Buffer.alloc(1024);
  const processStatMs = () => statTimes(statBuffer.toString('latin1', 0, readSync(statFd, statBuffer, 0, 1024, 0))).ms;

  // One-off costs, shown apart: starting the profiler (or the peer), and stopping it.
  const beforeStart = cpuMs();
  if (start) await start();
  const startCpuMs = cpuMs() - beforeStart;

  // The window: from here to the last frame, the same frames in every case.
  const threadsBefore = threadTimes();
  const cpu0 = cpuMs();
  const stat0 = processStatMs();
  const main0 = clock.ns();
  const t0 = performance.now();
  const periodMs = 1000 / fps;
  const frames = Math.round(durationMs / periodMs);
  let frameCpuNs = 0;
  let late = 0;
  let digest = 0;
  for (let k = 0; k < frames; k++) {
    const due = t0 + k * periodMs;
    const waitStart = performance.now();
    if (due > waitStart) await sleep(due - waitStart);
    else {
      // Behind (the machine is busy): catch up, but still let timers run (ticks, scrapes).
      if (k > 0) late++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const began = performance.now();
    if (track) track.io(began - waitStart);
    const c0 = clock.ns();
    digest ^= await frame(k);
    frameCpuNs += clock.ns() - c0;
    if (track) {
      track.ocr();
      track.frame(performance.now() - began);
    }
  }
  // The last frame's period, so that every case's window is frames x period long.
  const endDue = t0 + frames * periodMs;
  if (endDue > performance.now()) await sleep(endDue - performance.now());
  const wallMs = performance.now() - t0;
  const windowCpuMs = cpuMs() - cpu0;
  const statCpuMs = processStatMs() - stat0;
  const mainCpuMs = (clock.ns() - main0) / 1e6;
  const threads = threadDelta(threadsBefore, threadTimes());

  /** @type {Record<string, unknown>} */
  const result = { mode, frames, late, wallMs, cpuMs: windowCpuMs, statCpuMs, mainCpuMs, frameCpuMs: frameCpuNs / 1e6, threads, startCpuMs, digest };
  if (profiler) {
    const overhead = profiler.overhead();
    // plugin-modules' own counters (its process-wide state; not a public API): which samplers ran.
    const engine = /** @type {any} */ (globalThis)[Symbol.for('loadlight.plugin-modules.runtime')]?.engine?.stats;
    if (engine) {
      result.modulesEngine = {
        cpuSamplerStartMs: engine.cpuSamplerStartMs,
        cpuRotations: engine.cpuRotations,
        cpuRotationMs: engine.cpuRotationMs,
        heapReads: engine.heapReads,
        heapReadMs: engine.heapReadMs,
        locateMs: engine.locateMs,
      };
    }
    const beforeStop = cpuMs();
    const session = await profiler.stop();
    result.stopCpuMs = cpuMs() - beforeStop;
    result.overhead = overhead;
    result.samples = profiler.store.size;
    result.metrics = profiler.store.metricCount;
    result.moduleCalls = session.modules.reduce((/** @type {number} */ n, /** @type {{ calls: number }} */ m) => n + m.calls, 0);
    result.modules = session.modules.length;
  }
  if (peer.stop) {
    const beforeStop = cpuMs();
    await peer.stop();
    result.stopCpuMs = cpuMs() - beforeStop;
  }
  result.warnings = warnings;
  clock.close();
  closeSync(statFd);
  return result;
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
