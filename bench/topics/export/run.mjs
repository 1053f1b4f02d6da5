// @ts-check
// Export of a full ring: profiler.session(), JSON.stringify (as reporter-json writes it: compact,
// plus a newline) and reporter-json's atomic write, timed together and apart; then the file's size
// against the raw numbers it holds written as text.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarize } from '../../lib/stats.mjs';
import { importOptional } from '../../lib/topic.mjs';
import { fillRing, loadPackages, RING_MODULES, RING_SAMPLES } from './ring.mjs';

/** Issue 4, item 7. */
export const EXPORT_BOUND_MS = 100;
export const SIZE_BOUND_RATIO = 2;

/** @typedef {import('../../lib/results.mjs').Measured} Measured */

/**
 * Characters of every non-null number in a session's samples (times and values), each written
 * as `String(v)`: the numbers alone, with no separator, key or structure.
 * @param {{ samples: { t: number[], values: Record<string, Array<number | null>> } }} session
 */
export function rawNumberChars(session) {
  let chars = 0;
  let numbers = 0;
  for (const series of [session.samples.t, ...Object.values(session.samples.values)]) {
    for (const v of series) {
      if (typeof v === 'number') {
        chars += String(v).length;
        numbers++;
      }
    }
  }
  return { chars, numbers };
}

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx) {
  const repeats = ctx.quick ? 3 : 10;
  /** @type {string[]} */
  const notes = [];
  const { mods, missing } = await loadPackages();
  const reporter = await importOptional('@loadlight/reporter-json');
  const why = missing ?? reporter.missing;
  /** @type {import('../../lib/results.mjs').ComparisonDef[]} */
  const comparisons = [
    {
      id: 'export-time',
      title: `session export of a full ring (${RING_SAMPLES.toLocaleString('en-US')} samples, every built-in metric, ${RING_MODULES} modules)`,
      note: `${repeats} exports in one process, median; the first export (cold) is shown apart`,
      baseline: 'total',
      cases: ['total', 'session', 'stringify', 'write', 'cold'],
      bounds: { total: { value: EXPORT_BOUND_MS } },
    },
    {
      id: 'export-size',
      title: 'session file size against the raw numbers it holds as text',
      note: 'raw: the sum of String(v).length over every non-null number in samples (times and values)',
      baseline: 'raw',
      cases: ['file', 'raw', 'samples'],
      bounds: { file: { ratio: SIZE_BOUND_RATIO } },
    },
  ];
  const ids = { total: 'session() + stringify + atomic write', session: 'profiler.session()', stringify: 'JSON.stringify', write: 'writeFileAtomic', cold: 'the first export (cold), total' };
  if (why !== null || reporter.module === null) {
    /** @type {Measured[]} */
    const measured = [...Object.entries(ids), ['file', 'session file'], ['raw', 'raw numbers as text'], ['samples', 'samples part of the file']].map(([id, label]) => ({ id, label, who: 'loadlight', unit: id in ids ? 'ms' : 'kB', median: NaN, spread: NaN, unavailable: why ?? 'not built' }));
    return { measured, comparisons, notes };
  }
  const { writeFileAtomic } = /** @type {any} */ (reporter.module);
  const ring = await fillRing(mods, notes);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-bench-export-'));
  const file = path.join(dir, 'session.json');
  /** @type {Record<string, number[]>} */
  const times = { total: [], session: [], stringify: [], write: [] };
  let json = '';
  /** @type {any} */
  let session = null;
  try {
    for (let i = 0; i <= repeats; i++) {
      globalThis.gc?.();
      const t0 = performance.now();
      session = ring.profiler.session();
      const t1 = performance.now();
      json = `${JSON.stringify(session)}\n`;
      const t2 = performance.now();
      await writeFileAtomic(file, json);
      const t3 = performance.now();
      // The first export also compiles the code paths; shown apart, not in the median.
      if (i === 0) {
        times.cold = [t3 - t0];
        continue;
      }
      times.total.push(t3 - t0);
      times.session.push(t1 - t0);
      times.stringify.push(t2 - t1);
      times.write.push(t3 - t2);
    }
    const bytes = statSync(file).size;
    const raw = rawNumberChars(session);
    const samplesChars = JSON.stringify(session.samples).length;
    /** @type {Measured[]} */
    const measured = Object.entries(ids).map(([id, label]) => {
      const s = summarize(times[id]);
      return { id, label, who: 'loadlight', unit: 'ms', median: s.median, spread: s.spread, samples: times[id] };
    });
    const kb = (/** @type {number} */ n) => n / 1000;
    measured.push(
      { id: 'file', label: 'session file', who: 'loadlight', unit: 'kB', median: kb(bytes), spread: 0 },
      { id: 'raw', label: 'raw numbers as text', who: 'js', unit: 'kB', median: kb(raw.chars), spread: 0 },
      { id: 'samples', label: 'samples part of the file', who: 'loadlight', unit: 'kB', median: kb(samplesChars), spread: 0 },
    );
    notes.push(
      `${ring.metrics} metrics declared (${ring.moduleMetrics} of them module metrics, ${ring.derived} derived: no column), ${raw.numbers.toLocaleString('en-US')} numbers in samples, file ${bytes.toLocaleString('en-US')} bytes`,
    );
    await ring.profiler.stop();
    return { measured, comparisons, notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
