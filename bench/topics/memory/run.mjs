// @ts-check
// Heap and RSS growth of a full ring (issue 4, item 3): the process after gc with our packages
// imported and no profiler, against the same process after gc with a profiler holding 3,600
// samples of every built-in metric and 100 modules. The store's own bytes are shown beside, and
// the rest (heap and external growth not in the store). `params.workload` picks the modelled
// program (topics/export/ring.mjs): `realistic` (the bound's case) or `worst`. RSS growth varies
// from process to process with the same heap (the C allocator keeps freed pages or not), so the
// figures are medians over several measuring processes (this file run as a script, `--once`).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { summarize } from '../../lib/stats.mjs';
import { fillRing, loadPackages, RING_MODULES, RING_SAMPLES, warmModel } from '../export/ring.mjs';

export const MEMORY_BOUND_MB = 4;
const MB = 2 ** 20;
/** Measuring processes per workload (two at a time), full run and `--quick`. */
const PROCESSES = { full: 7, quick: 3 };

/** @typedef {import('../../lib/results.mjs').Measured} Measured */

/** Full collections until the heap stops shrinking (at most 5): a settled figure. */
function settle() {
  const gc = /** @type {undefined | (() => void)} */ (globalThis.gc);
  if (!gc) throw new Error('the memory group needs --expose-gc (bench/run.mjs passes it)');
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last) break;
    last = used;
  }
  const code = v8.getHeapCodeStatistics();
  const v8Pages = v8.getHeapSpaceStatistics().reduce((sum, space) => sum + space.physical_space_size, 0);
  return { ...process.memoryUsage(), code: code.bytecode_and_metadata_size + code.code_and_metadata_size, v8Pages, ...residentByKind() };
}

/**
 * Resident bytes by kind of mapping, from /proc/self/smaps (Linux; NaN elsewhere): the brk heap
 * (malloc's main arena: ArrayBuffers, native histograms, other C++ allocations), file-backed
 * pages (the node binary's code and data first touched, shared libraries), and the rest
 * (anonymous: V8's heap pages, the malloc arenas of V8's background threads, stacks).
 */
function residentByKind() {
  let smaps;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return { brk: Number.NaN, fileBacked: Number.NaN, anonymous: Number.NaN };
  }
  const kb = { brk: 0, fileBacked: 0, anonymous: 0 };
  /** @type {keyof typeof kb} */
  let kind = 'anonymous';
  for (const line of smaps.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const name = mapping[1] ?? '';
      kind = name === '[heap]' ? 'brk' : name.startsWith('/') ? 'fileBacked' : 'anonymous';
      continue;
    }
    if (line.startsWith('Rss:')) kb[kind] += Number.parseInt(line.slice(4), 10);
  }
  return { brk: kb.brk * 1024, fileBacked: kb.fileBacked * 1024, anonymous: kb.anonymous * 1024 };
}

/**
 * Garbage, some of it surviving a while, as any running program makes: V8 grows its young
 * generation (here from 1 to 16 MB semi-spaces, 32 MB of RSS) as a program allocates, and no full
 * gc gives those pages back. Done before the baseline, so that RSS growth is what the profiler
 * holds rather than V8 sizing its young generation (returns its size, for a note).
 */
function warmYoungGeneration() {
  /** @type {object[]} */
  let survivors = [];
  for (let i = 0; i < 2_000_000; i++) {
    const garbage = { i, list: [i, i + 1, i + 2], text: `item ${i}` };
    if (i % 64 === 0) {
      survivors.push(garbage);
      if (survivors.length > 20_000) survivors = [];
    }
  }
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

const labels = {
  total: 'heap used + external growth',
  rss: 'RSS growth',
  rssBrk: '  of which brk heap (malloc: ArrayBuffers, native histograms)',
  rssV8: "  of which V8's heap pages (physical size of its spaces)",
  rssOther: "  of which other anonymous memory (mostly the malloc arenas of V8's compiler threads)",
  rssFile: '  of which file-backed (pages of the node binary first touched)',
  store: 'store (profiler.store.bytes)',
  heap: 'heap used growth',
  code: '  of which code (bytecode, compiled)',
  external: 'external growth (ArrayBuffers)',
  rest: 'the rest (heap + external growth - store)',
  declared: 'heap + external growth before the rows (profiler started, modules declared)',
  declaredRss: 'RSS growth before the rows',
};

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const workload = params.workload === 'worst' ? 'worst' : 'realistic';
  const worst = workload === 'worst';
  /** @type {string[]} */
  const notes = [];
  const samples = RING_SAMPLES.toLocaleString('en-US');
  const processes = ctx.quick ? PROCESSES.quick : PROCESSES.full;
  /** @type {import('../../lib/results.mjs').ComparisonDef[]} */
  const comparisons = [
    {
      id: worst ? 'memory-worst' : 'memory',
      title: worst
        ? `WORST CASE, not the bound's case: every module called 20 times every tick, noisy latencies (${samples} samples, every built-in metric, ${RING_MODULES} modules), after gc`
        : `memory growth after a full ring (${samples} samples, every built-in metric, ${RING_MODULES} modules, a modelled program), after gc`,
      note: `against the same process before the profiler started (our packages imported, the model of the program compiled, young generation warmed); medians of ${processes} processes, ± half the IQR`,
      baseline: 'store',
      cases: ['total', 'rss', 'rssBrk', 'rssV8', 'rssOther', 'rssFile', 'store', 'heap', 'code', 'external', 'rest', 'declared', 'declaredRss'],
      ...(worst ? {} : { bounds: { total: { value: MEMORY_BOUND_MB }, rss: { value: MEMORY_BOUND_MB } } }),
    },
  ];
  const { missing } = await loadPackages();
  if (missing !== null) {
    /** @type {Measured[]} */
    const measured = Object.entries(labels).map(([id, label]) => ({ id, label, who: 'loadlight', unit: 'MB', median: NaN, spread: NaN, unavailable: missing }));
    return { measured, comparisons, notes };
  }
  /** @type {Array<Awaited<ReturnType<typeof measureOnce>>>} */
  const runs = [];
  for (let i = 0; i < processes; i += 2) {
    const batch = Array.from({ length: Math.min(2, processes - i) }, () => measureInProcess(workload));
    runs.push(...(await Promise.all(batch)));
  }
  /** @type {Measured[]} */
  const measured = Object.entries(labels).map(([id, label]) => {
    const values = runs.map((r) => r.bytes[/** @type {keyof typeof labels} */ (id)] / MB);
    const summary = summarize(values);
    return { id, label, who: id === 'store' ? 'node' : 'loadlight', unit: 'MB', median: summary.median, spread: summary.spread, samples: values };
  });
  const rss = runs.map((r) => r.bytes.rss / MB).sort((a, b) => a - b);
  notes.push(...(runs[0]?.notes ?? []), `RSS growth in each of the ${processes} processes (MB, sorted): ${rss.map((v) => v.toFixed(2)).join(', ')}`);
  return { measured, comparisons, notes };
}

/**
 * Runs `measureOnce` in a fresh node process (this file as a script).
 * @param {'realistic' | 'worst'} workload
 * @returns {Promise<Awaited<ReturnType<typeof measureOnce>>>}
 */
function measureInProcess(workload) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--once', workload], { maxBuffer: 16 * MB }, (error, stdout, stderr) => {
      if (error) reject(new Error(`memory: the measuring process failed: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/**
 * One process's figures: bytes per case, and notes.
 * @param {'realistic' | 'worst'} workload
 */
async function measureOnce(workload) {
  /** @type {string[]} */
  const notes = [];
  const samples = RING_SAMPLES.toLocaleString('en-US');
  const { mods } = await loadPackages();
  // Kept (and reused by fillRing) so that the model's compiled code is ready before the baseline.
  const model = warmModel(workload, mods);
  const youngBefore = warmYoungGeneration();
  const before = settle();
  /** @type {ReturnType<typeof settle> | null} */
  let declared = null;
  const ring = await fillRing(mods, notes, { model, beforeRows: () => (declared = settle()) });
  const beforeRows = /** @type {ReturnType<typeof settle>} */ (/** @type {unknown} */ (declared));
  const after = settle();
  const youngAfter = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
  const storeBytes = ring.profiler.store.bytes;
  const heap = after.heapUsed - before.heapUsed;
  const external = after.external - before.external;
  /** @type {Record<keyof typeof labels, number>} */
  const bytes = {
    total: heap + external,
    rss: after.rss - before.rss,
    rssBrk: after.brk - before.brk,
    rssV8: after.v8Pages - before.v8Pages,
    rssOther: after.anonymous - before.anonymous - (after.v8Pages - before.v8Pages),
    rssFile: after.fileBacked - before.fileBacked,
    store: storeBytes,
    heap,
    code: after.code - before.code,
    external,
    rest: heap + external - storeBytes,
    declared: beforeRows.heapUsed - before.heapUsed + beforeRows.external - before.external,
    declaredRss: beforeRows.rss - before.rss,
  };
  const stored = ring.metrics - ring.derived;
  notes.push(
    `${ring.metrics} metrics declared (${ring.moduleMetrics} module metrics; ${ring.derived} computed or derived, without samples of their own); ` +
      `${stored} columns x ${samples} rows = ${((stored * RING_SAMPLES) / 1e6).toFixed(2)} million values, ${((storeBytes * 8) / (stored * RING_SAMPLES)).toFixed(2)} bits each in the store`,
    `${ring.modulesCalledPerTick.toFixed(1)} of ${RING_MODULES} modules called in a tick on average (${workload} workload, topics/export/ring.mjs)`,
    `V8's young generation: ${(youngBefore / MB).toFixed(0)} MB before (warmed), ${(youngAfter / MB).toFixed(0)} MB after; MB = 2^20 bytes; the profiler is kept alive (running) while the second figure is taken`,
  );
  await ring.profiler.stop();
  return { bytes, notes };
}

if (process.argv[2] === '--once') {
  const workload = process.argv[3] === 'worst' ? 'worst' : 'realistic';
  process.stdout.write(JSON.stringify(await measureOnce(workload)));
  process.exit(0);
}
