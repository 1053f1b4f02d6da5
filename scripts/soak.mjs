// npm run soak: a real-time soak of the profiler (issue 7, long runs). A profiled workload (module
// calls, OCR calls, frames, IO waits) runs for 10 minutes at 1 Hz with every built-in plugin
// (system, modules, ocr, frames, io), the default rules and the console (to a file) and json
// reporters. Every ~30 s it prints the heap after GC, RSS, the store's bytes, tick lateness and
// the handles; at the end, a verdict with the checks of the fake-time soak (test/soak.test.ts):
//   - memory bounded by the ring: the ring (sized to fill at a quarter of the run) holds
//     maxSamples once full, and neither the heap after GC nor the store grows after that beyond a
//     small bound;
//   - no leak: no more handles or process listeners at the end than when the ring filled, the
//     profiler's exit listeners gone after stop, nothing of it keeping the process alive;
//   - no drift: every tick within one interval of its schedule (start + k * interval), none skipped;
//   - the session file written and valid.
// Exits 1 when a check fails, 2 on a usage error.
// Options: --duration <time> (default 10m; or LOADLIGHT_SOAK_DURATION), --interval <time> (default 1s),
// --progress <time> (default 30s), --keep (keep the output folder).
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Profiler, rankIndex, validateSession } from '@loadlight/core';
import system from '@loadlight/plugin-system';
import modules, { profileModule } from '@loadlight/plugin-modules';
import ocr, { timeOcr } from '@loadlight/plugin-ocr';
import frames, { trackFrame } from '@loadlight/plugin-frames';
import io, { timeIo } from '@loadlight/plugin-io';
import consoleReporter from '@loadlight/reporter-console';
import json from '@loadlight/reporter-json';
import { parseDuration, UsageError } from 'loadlight';

/** Heap after GC may grow this much after the ring filled (V8's own caches, code, noise). */
const HEAP_GROWTH_LIMIT_MB = 4;
/** The store's bytes may vary this much once full (its blocks compress unevenly). */
const STORE_GROWTH_LIMIT = 1.25;
const PROCESS_EVENTS = ['SIGINT', 'SIGTERM', 'beforeExit', 'exit'];

const USAGE = 'Usage: npm run soak [-- --duration 10m] [--interval 1s] [--progress 30s] [--keep]';
let durationMs;
let intervalMs;
let progressMs;
let keep;
try {
  const { values } = parseArgs({
    options: { duration: { type: 'string' }, interval: { type: 'string' }, progress: { type: 'string' }, keep: { type: 'boolean', default: false } },
  });
  durationMs = parseDuration(values.duration ?? process.env.LOADLIGHT_SOAK_DURATION ?? '10m');
  intervalMs = Math.round(parseDuration(values.interval ?? '1s', '--interval'));
  progressMs = parseDuration(values.progress ?? '30s', '--progress');
  keep = values.keep;
  if (intervalMs < 10) throw new UsageError('--interval must be at least 10ms');
  if (durationMs < intervalMs * 40) throw new UsageError(`--duration must be at least 40 intervals (${(intervalMs * 40) / 1000}s), for the ring to fill and settle`);
} catch (error) {
  console.error(`soak: ${error instanceof UsageError || error?.code?.startsWith?.('ERR_PARSE_ARGS') ? error.message : error}\n${USAGE}`);
  process.exit(2);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const mb = (bytes) => bytes / 1024 / 1024;
const heapAfterGcMb = () => {
  gc();
  gc();
  return mb(process.memoryUsage().heapUsed);
};
const handles = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
const listeners = () => PROCESS_EVENTS.map((e) => process.listenerCount(e));

const ticksPlanned = Math.floor(durationMs / intervalMs);
// Full at a quarter of the run: the rest shows whether memory stays flat once it is.
const maxSamples = Math.max(10, Math.floor(ticksPlanned / 4));
const out = mkdtempSync(path.join(os.tmpdir(), 'loadlight-soak-'));
const consoleFile = path.join(out, 'console.log');
const consoleStream = createWriteStream(consoleFile);
const inputFile = path.join(out, 'input.txt');
writeFileSync(inputFile, 'x'.repeat(64 * 1024));

const listenersBefore = listeners();
const handlesBefore = handles();
const profiler = new Profiler(
  {
    plugins: [system(), modules(), ocr(), frames({ targetFps: 10 }), io()],
    reporters: [consoleReporter({ stream: consoleStream, color: false }), json({ dir: out, quiet: true })],
    sampleIntervalMs: intervalMs,
    maxSamples,
    sessionId: 'soak',
  },
  { warn: (message) => console.log(`  warning: ${message.split('\n')[0]}`) },
);

// Tick times, from the sample hook: lateness against the schedule, and skipped slots.
let firstTickAt = null;
let lastSlot = -1;
let ticks = 0;
let skipped = 0;
let periodLateness = [];
const allLateness = [];
profiler.hooks.sample.tap('soak', (sample) => {
  firstTickAt ??= sample.t;
  // The nearest slot of the schedule: Date.now() and the timers' monotonic clock may differ by a
  // millisecond, so a tick can look a little early. A tick that is late by more than half an
  // interval lands in the next slot, and the one it missed counts as skipped.
  const slot = Math.round((sample.t - firstTickAt) / intervalMs);
  const lateness = sample.t - (firstTickAt + slot * intervalMs);
  if (slot > lastSlot + 1) skipped += slot - lastSlot - 1;
  lastSlot = slot;
  ticks++;
  periodLateness.push(Math.abs(lateness));
  allLateness.push(Math.abs(lateness));
});

// The workload: a bot-like loop of parsing, scoring, OCR, frames and IO, a few percent of a core.
const spin = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const parse = profileModule('soak.parse', (text) => {
  spin(0.5);
  return text.split(',').length;
});
const score = profileModule('soak.score', async (n) => {
  await new Promise((resolve) => setTimeout(resolve, 2));
  spin(0.3);
  return Math.sqrt(n);
});
const readInput = profileModule('soak.io', () => timeIo(readFile(inputFile)));
let stopWork = false;
let step = 0;
const work = async () => {
  while (!stopWork) {
    step++;
    parse('a,b,c,d');
    await score(step);
    if (step % 2 === 0) trackFrame(3 + (step % 5));
    if (step % 10 === 0) timeOcr(() => spin(2));
    if (step % 20 === 0) await readInput();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Nearest-rank percentile `p` (0-100) of `values`, as core's statistics take it; 0 when empty. */
const percentile = (values, p) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[rankIndex(p / 100, sorted.length)];
};
const points = [];
const checkpoint = () => {
  const point = {
    s: Math.round((Date.now() - began) / 1000),
    heapMb: heapAfterGcMb(),
    rssMb: mb(process.memoryUsage().rss),
    storeBytes: profiler.store.bytes,
    storeSize: profiler.store.size,
    handles: handles().length,
    listeners: listeners(),
    lateMax: Math.max(0, ...periodLateness),
    lateP99: percentile(periodLateness, 99),
  };
  periodLateness = [];
  points.push(point);
  console.log(
    `${String(point.s).padStart(5)} s  heap ${point.heapMb.toFixed(1)} MB  rss ${point.rssMb.toFixed(0)} MB  store ${(point.storeBytes / 1024).toFixed(0)} KiB (${point.storeSize}/${maxSamples})  ` +
      `late max ${point.lateMax} ms p99 ${point.lateP99} ms  handles ${point.handles}  ticks ${ticks}`,
  );
  return point;
};

console.log(`soak: ${durationMs / 1000} s at ${intervalMs} ms, ring of ${maxSamples} samples, output in ${out}`);
const began = Date.now();
await profiler.start();
const working = work();
const listenersRunning = listeners();
let fullPoint = null;
/** The most handles seen at one interval's check, before and after the ring filled. */
const handlesMax = { beforeFull: 0, afterFull: 0 };
await new Promise((resolve) => {
  const progress = setInterval(() => {
    const point = checkpoint();
    if (!fullPoint && point.storeSize >= maxSamples) fullPoint = point;
  }, progressMs);
  // Every interval: the handles, and the first moment the ring is full (the baseline of "bounded").
  const fill = setInterval(() => {
    const count = handles().length;
    if (fullPoint) handlesMax.afterFull = Math.max(handlesMax.afterFull, count);
    else handlesMax.beforeFull = Math.max(handlesMax.beforeFull, count);
    if (!fullPoint && profiler.store.size >= maxSamples) fullPoint = checkpoint();
  }, intervalMs);
  setTimeout(() => {
    clearInterval(progress);
    clearInterval(fill);
    resolve();
  }, durationMs);
});
const endPoint = checkpoint();
stopWork = true;
await working;
const session = await profiler.stop();
await new Promise((resolve) => consoleStream.end(resolve));

// The verdict.
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
console.log('\nverdict');
const after = points.filter((p) => fullPoint && p.s >= fullPoint.s);
const heapGrowth = fullPoint ? Math.max(...after.map((p) => p.heapMb)) - fullPoint.heapMb : Infinity;
const storeGrowth = fullPoint ? Math.max(...after.map((p) => p.storeBytes)) / fullPoint.storeBytes : Infinity;
check(fullPoint !== null && endPoint.storeSize === maxSamples, `the ring filled (${fullPoint ? `at ${fullPoint.s} s` : 'never'}) and holds ${endPoint.storeSize}/${maxSamples} samples at the end`);
check(heapGrowth < HEAP_GROWTH_LIMIT_MB, `heap after GC grew ${heapGrowth.toFixed(2)} MB after the ring filled (${fullPoint?.heapMb.toFixed(1)} -> max ${Math.max(...after.map((p) => p.heapMb)).toFixed(1)} MB; limit ${HEAP_GROWTH_LIMIT_MB} MB)`);
check(storeGrowth < STORE_GROWTH_LIMIT, `store bytes after the ring filled: x${storeGrowth.toFixed(2)} at most (limit x${STORE_GROWTH_LIMIT})`);
// Handles come and go with the workload (its timers, file reads): once the ring is full, no more
// than before it filled (plus two in flight); after stop, none of the profiler's left.
check(handlesMax.afterFull <= handlesMax.beforeFull + 2, `handles while running: at most ${handlesMax.beforeFull} before the ring filled, ${handlesMax.afterFull} after`);
await new Promise((resolve) => setTimeout(resolve, 500)); // file writes and closes of the export settle
const handlesLeft = handles();
check(handlesLeft.length <= handlesBefore.length, `handles after stop: ${handlesLeft.length} (${handlesLeft.join(', ') || 'none'}), ${handlesBefore.length} before start`);
check(JSON.stringify(endPoint.listeners) === JSON.stringify(listenersRunning), `process listeners (${PROCESS_EVENTS.join(', ')}) while running: ${listenersRunning.join(', ')} -> ${endPoint.listeners.join(', ')}`);
check(JSON.stringify(listeners()) === JSON.stringify(listenersBefore), `after stop: process listeners back to ${listenersBefore.join(', ')} (now ${listeners().join(', ')})`);
const maxLateness = allLateness.reduce((max, l) => Math.max(max, l), 0);
check(maxLateness < intervalMs && skipped === 0, `drift: ${skipped} ticks skipped, |tick - schedule| max ${maxLateness} ms, p99 ${percentile(allLateness, 99)} ms (limit: under one interval, ${intervalMs} ms)`);
check(ticks >= ticksPlanned - 2, `every planned tick ran (${ticks} of ${ticksPlanned})`);
let sessionOk = false;
try {
  const file = path.join(out, 'soak.json');
  validateSession(JSON.parse(readFileSync(file, 'utf8')), file);
  sessionOk = session.samples.t.length === maxSamples;
} catch (error) {
  console.log(`  ${error.message}`);
}
check(sessionOk, `session file written, valid, with ${session.samples.t.length} samples`);
if (session.faults.length > 0) console.log(`  faults: ${session.faults.map((f) => `${f.plugin}/${f.hook} x${f.count}: ${f.message}`).join('; ')}`);
console.log(`overhead: ${session.overhead.cpuMs.toFixed(0)} ms CPU over ${session.overhead.ticks} ticks (${session.overhead.meanTickMs.toFixed(2)} ms/tick, ${session.overhead.cpuPercent.toFixed(2)}% of a core)`);
if (keep) console.log(`output kept in ${out} (console.log, soak.json)`);
else rmSync(out, { recursive: true, force: true });

// Nothing is left to run: the process must end by itself. A guard (unref'd) says so if it does not.
process.exitCode = failures.length > 0 ? 1 : 0;
console.log(failures.length > 0 ? `soak: ${failures.length} check(s) failed` : 'soak: all checks passed');
const guard = setTimeout(() => {
  console.log(`FAIL the process did not exit by itself; still active: ${handles().join(', ')}`);
  process.exit(1);
}, 10_000);
guard.unref();
