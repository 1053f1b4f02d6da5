import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoadlightError } from './errors.js';
import { buildSession, SeriesEncoder, sessionSeries, validateSession, type EncodedSeries } from './session.js';
import { SeriesRuns, statistics, Store } from './store.js';
import type { MetricDeclaration, ResolvedConfig, SessionProfile, SessionSeries } from './types.js';

/** What the session reported before: the sum of a series with nulls as 0. */
const reduceTotal = (series: Array<number | null>) => series.reduce<number>((sum, v) => sum + (v ?? 0), 0);

/**
 * The session form of `values` written plainly: each form built whole, the one whose JSON is
 * shortest kept (dense on a tie, then sparse). An infinity is missing, as JSON writes it.
 */
function plainForm(values: Float64Array): SessionSeries {
  const rows = Array.from(values, (x) => (Number.isFinite(x) ? x : null));
  const at: number[] = [];
  const v: number[] = [];
  rows.forEach((x, i) => x !== null && (at.push(i), v.push(x)));
  const runs: number[] = [];
  const heads: Array<number | null> = [];
  for (let i = 0; i < rows.length; ) {
    let j = i;
    while (j < rows.length && rows[j] === rows[i]) j++;
    runs.push(j - i);
    heads.push(rows[i]!);
    i = j;
  }
  const forms: SessionSeries[] = [rows, { at, v }, { runs, v: heads }];
  const lengths = forms.map((form) => JSON.stringify(form).length);
  return forms[lengths.indexOf(Math.min(...lengths))]!;
}

const withNulls = (value: fc.Arbitrary<number>) => fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) });
// size 'max': lengths spread up to maxLength (fast-check otherwise keeps arrays to about ten).
const series = (value: fc.Arbitrary<number>, maxLength = 400) => fc.array(withNulls(value), { maxLength, size: 'max' });

const gauge = (extra: Partial<MetricDeclaration> = {}): MetricDeclaration => ({ unit: 'ms', kind: 'gauge', description: 'test', ...extra });

function config(): ResolvedConfig {
  return {
    sampleIntervalMs: 1000,
    evaluateEveryMs: 5000,
    reportIntervalMs: 10_000,
    maxSamples: 50,
    collectTimeoutMs: 1000,
    lifecycleTimeoutMs: 10_000,
    maxConsecutiveFaults: 5,
    windowSeconds: 60,
    plugins: [],
    reporters: [],
    rules: [],
    watchRules: false,
    sessionId: 'test',
    configFile: null,
    baseDir: process.cwd(),
  };
}

function sessionOf(store: Store): SessionProfile {
  return buildSession({
    sessionId: 'test',
    startedAt: 0,
    endedAt: 60_000,
    config: config(),
    store,
    rules: [],
    evaluation: null,
    records: { recommendations: new Map(), alerts: [] },
    overhead: { cpuMs: 1, cpuPercent: 0.1, storeBytes: store.bytes, ticks: 60, meanTickMs: 0.1 },
    faults: [],
    actions: [],
  });
}

/** The message of the SESSION_INVALID error `validateSession` throws for `data`, or null. */
function refusal(data: unknown): string | null {
  try {
    validateSession(data, 'f.json');
    return null;
  } catch (error) {
    if (!isLoadlightError(error) || error.code !== 'SESSION_INVALID') throw error;
    return error.message;
  }
}

describe('buildSession', () => {
  it('summarises every series and module field as the store statistics and a plain sum would', () => {
    const store = new Store(50, 0);
    store.declare({ name: 'app.latency_ms', plugin: 'p', ...gauge() });
    store.declare({ name: 'app.latency.growth', plugin: 'p', ...gauge({ derivedFrom: 'app.latency_ms' }) });
    const fields = ['calls', 'total_ms', 'latency_min_ms', 'latency_max_ms', 'memory_mb', 'cpu_ms'];
    for (const mod of ['a', 'b']) {
      for (const field of fields) store.declare({ name: `module.${mod}.${field}`, plugin: 'modules', ...gauge({ module: { name: mod, field } }) });
      store.declare({ name: `module.${mod}.latency_mean_ms`, plugin: 'modules', ...gauge({ module: { name: mod, field: 'latency_mean_ms' }, formula: { op: 'ratio', of: 'total_ms', by: 'calls' } }) });
      store.declare({ name: `module.${mod}.cpu_percent`, plugin: 'modules', ...gauge({ unit: 'percent', module: { name: mod, field: 'cpu_percent' }, formula: { op: 'percent_of_interval', of: 'cpu_ms' } }) });
    }
    let x = 7;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 60; t++) {
      // 60 rows in a ring of 50: the oldest ten are gone. Some values missing, some at 1 us.
      const row = Array.from({ length: store.metricCount }, () => (next() < 0.2 ? NaN : Math.round(next() * 1e6) / 1000));
      store.commit(t * 1000 + Math.floor(next() * 5), row);
    }
    const session = sessionOf(store);
    const parsed = JSON.parse(JSON.stringify(session)) as SessionProfile;
    validateSession(parsed);
    expect(session.schemaVersion).toBe(2);
    expect(session.samples.t).toEqual(store.timeSeries());
    expect(session.samples.since).toBe(store.timeBeforeFirst());
    expect(Object.keys(session.samples.values)).not.toContain('app.latency.growth');
    // Computed metrics: named with their formula in the catalogue, no series of their own.
    expect(session.catalogue['module.a.latency_mean_ms']!.formula).toEqual({ op: 'ratio', of: 'total_ms', by: 'calls' });
    expect(Object.keys(session.samples.values)).not.toContain('module.a.latency_mean_ms');
    expect(Object.keys(session.samples.values)).not.toContain('module.a.cpu_percent');
    for (const info of store.catalogue()) {
      // Read back from the object and from its JSON, the oldest row's rate included.
      expect(sessionSeries(session, info.name), info.name).toEqual(store.series(info.name));
      expect(sessionSeries(parsed, info.name), info.name).toEqual(store.series(info.name));
      if (!info.derivedFrom) expect(session.statistics[info.name]).toEqual(statistics(store.series(info.name)));
    }
    const a = session.modules.find((m) => m.name === 'a')!;
    const series = (field: string) => store.series(`module.a.${field}`);
    expect(a.calls).toBe(reduceTotal(series('calls')));
    expect(a.totalMs).toBe(reduceTotal(series('total_ms')));
    expect(a.minMs).toBe(statistics(series('latency_min_ms')).min);
    expect(a.maxMs).toBe(statistics(series('latency_max_ms')).max);
    expect(a.meanMs).toBe(statistics(series('latency_mean_ms')).mean);
    expect(a.meanMs).not.toBeNull();
    expect(a.memoryMb).toBe(statistics(series('memory_mb')).last);
    expect(a.cpuPercent).toBe(statistics(series('cpu_percent')).mean);
    expect(a.errors).toBeNull(); // not declared
    expect(session.modules.map((m) => m.name).sort()).toEqual(['a', 'b']);
  });

  it('writes each series in its shortest form: dense, sparse or runs', () => {
    const store = new Store(200, 0);
    const names = ['app.busy', 'app.rare', 'app.steady', 'app.never'];
    for (const name of names) store.declare({ name, plugin: 'p', ...gauge() });
    for (let i = 0; i < 200; i++) store.commit(i * 1000, [i * 1.5, i % 50 === 7 ? i : NaN, Math.floor(i / 40), NaN]);
    const session = sessionOf(store);
    const values = session.samples.values;
    expect(Array.isArray(values['app.busy'])).toBe(true);
    expect(values['app.rare']).toEqual({ at: [7, 57, 107, 157], v: [7, 57, 107, 157] });
    expect(values['app.steady']).toEqual({ runs: [40, 40, 40, 40, 40], v: [0, 1, 2, 3, 4] });
    expect(values['app.never']).toEqual({ at: [], v: [] });
    for (const name of names) expect(sessionSeries(session, name)).toEqual(store.series(name));
    validateSession(JSON.parse(JSON.stringify(session)));
  });

  it('computes a formula whose operand comes after it, or is missing, as the Store does', () => {
    const store = new Store(10, 0);
    store.declare({ name: 'app.jobs_per_minute', plugin: 'p', ...gauge({ unit: 'per_minute', formula: { op: 'per_minute', of: 'jobs' } }) });
    store.declare({ name: 'app.jobs', plugin: 'p', ...gauge({ unit: 'count' }) });
    store.declare({ name: 'app.orphan_per_minute', plugin: 'p', ...gauge({ unit: 'per_minute', formula: { op: 'per_minute', of: 'nothing' } }) });
    for (let i = 1; i <= 15; i++) store.commit(i * 700, [0, i, 0]);
    const session = sessionOf(store);
    expect(sessionSeries(session, 'app.jobs_per_minute')).toEqual(store.series('app.jobs_per_minute'));
    expect(sessionSeries(session, 'app.jobs_per_minute')[0]).toBe(514.29); // 6 jobs in 700 ms, the oldest row of the ring
    expect(sessionSeries(session, 'app.orphan_per_minute')).toEqual(new Array(10).fill(null));
    expect(session.statistics['app.orphan_per_minute']!.count).toBe(0);
  });
});

/**
 * `encodeRuns` of the rows `values[0..n)` (NaN: missing): their runs as the Store's `seriesRuns`
 * gives them (0 and -0 apart), and the rows themselves when some are -0.
 */
function encodeRows(encoder: SeriesEncoder, values: Float64Array, n: number, encode: boolean): EncodedSeries {
  const runs = new SeriesRuns();
  runs.reserve(n);
  let count = 0;
  let negativeZero = false;
  for (let i = 0; i < n; ) {
    const x = values[i]!;
    let j = i + 1;
    while (j < n && (x !== x ? values[j] !== values[j] : Object.is(values[j], x))) j++;
    if (Object.is(x, -0)) negativeZero = true;
    runs.starts[count] = i;
    runs.heads[count++] = x;
    i = j;
  }
  runs.starts[count] = n;
  runs.count = count;
  runs.rows = n;
  return encoder.encodeRuns(runs, encode, negativeZero ? values : null);
}

describe('SeriesEncoder', () => {
  /** One encoder for every run: its scratch buffers reused and grown. */
  const encoder = new SeriesEncoder();
  const encode = (values: Float64Array, n: number, withSeries: boolean) => encodeRows(encoder, values, n, withSeries);
  /** The encoder gives the store's `statistics()`, the sum row by row and the plain form. */
  const expectSameAsReference = (series: Array<number | null>) => {
    const values = Float64Array.from(series, (v) => v ?? Number.NaN);
    const n = values.length;
    const encoded = encode(values, n, true);
    // toEqual compares numbers with Object.is: -0 and 0 differ, NaN equals NaN.
    expect(encoded.stats).toEqual(statistics(values));
    expect(Object.is(encoded.total, values.reduce((sum, v) => sum + (v === v ? v : 0), 0))).toBe(true);
    const plain = plainForm(values);
    expect(encoded.series).toEqual(plain);
    expect(JSON.stringify(encoded.series)).toBe(JSON.stringify(plain));
    expect(encode(values, n, false)).toEqual({ ...encoded, series: null });
  };
  // Series made of runs (values repeated, gaps), as a store's are, and noise.
  const runsOf = (value: fc.Arbitrary<number>, maxRun: number, maxRuns: number) =>
    fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) }), fc.integer({ min: 1, max: maxRun })), { maxLength: maxRuns }).map((runs) => runs.flatMap(([v, k]) => new Array<number | null>(k).fill(v)));
  /** Values that need care: signed zeros, infinities, NaN, the largest and smallest doubles. */
  const edge = fc.constantFrom(0, -0, Infinity, -Infinity, Number.NaN, 1, -1, 2.5, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-300, 1e300);

  it('gives the statistics of store.statistics() and the plain form, for any doubles (NaN, infinities, -0 included)', () => {
    const value = fc.oneof(fc.double(), edge);
    fc.assert(fc.property(fc.oneof(series(value), runsOf(value, 20, 60), series(edge, 50), runsOf(edge, 10, 30)), (s) => expectSameAsReference(s)), { numRuns: 1000 });
  });

  it('... for whole numbers and values at a unit resolution, in runs long and short (every percentile path)', () => {
    const value = fc.oneof(
      fc.integer({ min: -5, max: 60 }),
      fc.integer({ min: -3000, max: 5000 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.integer({ min: -1_000_000, max: 100_000_000 }).map((k) => k / 1000),
      fc.constantFrom(0, 0, 0, 0, 1.5, 2, 1e-9, 7.25),
      fc.double({ min: 1, max: 1 + 1e-12, noNaN: true }),
      fc.double({ min: 0, max: 40, noNaN: true }).map(Math.exp),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    );
    fc.assert(fc.property(fc.oneof(series(value, 4000), runsOf(value, 50, 400), runsOf(value, 3, 2000)), (s) => expectSameAsReference(s)), { numRuns: 200 });
  });

  it('... for a full ring of each kind of metric (gauge, counter, mostly idle, memory read every 30 s, tiny, odd values)', () => {
    const kinds = [
      series(fc.double({ min: 0, max: 100, noNaN: true }), 3600),
      series(fc.integer({ min: 0, max: 49 }), 3600),
      runsOf(fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }), 40, 300),
      runsOf(fc.integer({ min: 0, max: 10_000_000 }).map((k) => k / 1000), 30, 120),
      runsOf(fc.double({ min: 0, max: 1e-9, noNaN: true }), 4, 1500),
      series(fc.oneof(fc.integer({ min: 0, max: 49 }), edge), 3600),
      runsOf(fc.oneof(fc.double({ min: -1e-300, max: 1e-300 }), fc.integer({ min: 1, max: 4 }), edge), 40, 400),
    ];
    for (const kind of kinds) fc.assert(fc.property(kind, (s) => expectSameAsReference(s)), { numRuns: 15 });
  });

  it('handles the simple cases', () => {
    for (const s of [[], [null, null], [7], [3, null, 1, 2], [0, -0, 0], [-0], [Infinity, -Infinity], [Number.MAX_VALUE, -Number.MAX_VALUE], [5e-324, -5e-324, -0, 0]]) expectSameAsReference(s);
    const values = Float64Array.from([1.25, 1.25, 1.25, 1.25, 1.25, 1.25, 2, NaN]);
    expect(encode(values, 8, true)).toEqual({
      stats: { count: 7, min: 1.25, max: 2, mean: 9.5 / 7, p50: 1.25, p95: 2, p99: 2, last: 2 },
      total: 9.5,
      series: { runs: [6, 1, 1], v: [1.25, 2, null] },
    });
  });

  it('orders -0 before 0 and counts infinities in the statistics, and writes infinities, which JSON cannot hold, as missing', () => {
    expect(encode(Float64Array.from([0, -0, 0, -0]), 4, true).stats).toEqual({ count: 4, min: -0, max: 0, mean: 0, p50: -0, p95: 0, p99: 0, last: -0 });
    const encoded = encode(Float64Array.from([1, Infinity, NaN, 2, -Infinity, NaN]), 6, true);
    expect(encoded.stats).toEqual({ count: 4, min: -Infinity, max: Infinity, mean: NaN, p50: 1, p95: Infinity, p99: Infinity, last: -Infinity });
    expect(encoded.total).toBeNaN();
    expect(encoded.series).toEqual({ at: [0, 3], v: [1, 2] });
    // A missing run holds the infinities next to it.
    const fives = new Array<number>(20).fill(5);
    expect(encode(Float64Array.from([...fives, Infinity, NaN, -Infinity, ...fives]), 43, true).series).toEqual({ runs: [20, 3, 20], v: [5, null, 5] });
  });

  it('encodes runs (as the Store reads them) as the references encode their rows, runs of one value next to each other included', () => {
    const value = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0, -0, 0.5, Infinity, -Infinity, Number.NaN), fc.double());
    fc.assert(
      fc.property(fc.array(fc.tuple(value, fc.integer({ min: 1, max: 40 })), { maxLength: 80 }), (list) => {
        const runs = new SeriesRuns();
        runs.reserve(list.length);
        let row = 0;
        list.forEach(([v, length], r) => {
          runs.starts[r] = row;
          runs.heads[r] = v;
          row += length;
        });
        runs.starts[list.length] = row;
        runs.count = list.length;
        runs.rows = row;
        const rows = new Float64Array(row);
        runs.rowsInto(rows);
        const expected = encode(rows, row, true);
        // the references, not only the merged runs: the store's statistics and the plain form
        expect(expected.stats).toEqual(statistics(rows));
        expect(expected.series).toEqual(plainForm(rows));
        expect(encoder.encodeRuns(runs, true)).toEqual(expected);
        expect(encoder.encodeRuns(runs, false)).toEqual({ ...expected, series: null });
      }),
      { numRuns: 500 },
    );
  });

  it('reads back, from its JSON, as the series', () => {
    const value = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: 0, max: 10 ** 7 }).map((k) => k / 1000), fc.double());
    fc.assert(
      fc.property(fc.oneof(runsOf(value, 30, 40), series(value, 200)), (s) => {
        const values = Float64Array.from(s, (v) => v ?? Number.NaN);
        const encoded = encode(values, values.length, true).series!;
        // As a file holds it (JSON writes -0 as 0, an infinity as null).
        const stored = JSON.parse(JSON.stringify({ 'a.b': encoded })) as Record<string, SessionSeries>;
        const session = { catalogue: {}, samples: { t: s.map((_, i) => i), since: -1, values: stored } };
        expect(sessionSeries(session, 'a.b')).toEqual(Array.from(values, (v) => (Number.isFinite(v) ? v + 0 : null)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('sessionSeries', () => {
  it('reads dense, sparse and run series, computes formulas, and is all null for anything else', () => {
    const session = {
      catalogue: {
        'm.count': { unit: 'count', kind: 'counter', description: '', plugin: 'p' },
        'm.count_per_minute': { unit: 'per_minute', kind: 'gauge', description: '', plugin: 'p', formula: { op: 'per_minute', of: 'count' } },
        'm.share': { unit: 'ratio', kind: 'gauge', description: '', plugin: 'p', formula: { op: 'ratio', of: 'm.part', by: 'm.count' } },
        'm.slope': { unit: 'count', kind: 'gauge', description: '', plugin: 'p', derivedFrom: 'm.count' },
      },
      samples: {
        t: [1000, 2000, 3500, 4000],
        since: 0,
        values: { 'm.count': { runs: [2, 1, 1], v: [3, null, 6] }, 'm.part': { at: [1, 3], v: [1, 2] }, 'm.dense': [1, null, 2, 3] },
      },
    } satisfies Pick<SessionProfile, 'catalogue' | 'samples'>;
    expect(sessionSeries(session, 'm.count')).toEqual([3, 3, null, 6]);
    expect(sessionSeries(session, 'm.part')).toEqual([null, 1, null, 2]);
    expect(sessionSeries(session, 'm.dense')).toEqual([1, null, 2, 3]);
    expect(sessionSeries(session, 'm.count_per_minute')).toEqual([180, 180, null, 720]);
    expect(sessionSeries(session, 'm.share')).toEqual([null, 0.3333, null, 0.3333]);
    expect(sessionSeries(session, 'm.slope')).toEqual([null, null, null, null]);
    expect(sessionSeries(session, 'm.unknown')).toEqual([null, null, null, null]);
    // A new array each time: changing it changes nothing in the session.
    sessionSeries(session, 'm.dense')[0] = 99;
    expect(session.samples.values['m.dense'][0]).toBe(1);
  });

  it('prefers a stored series to the catalogue\'s formula (how a version 1 session, computed series stored, is read)', () => {
    const v1 = {
      catalogue: { 'm.rate': { unit: 'per_minute' as const, kind: 'gauge' as const, description: '', plugin: 'p', formula: { op: 'per_minute' as const, of: 'count' } } },
      samples: { t: [1000, 2000], values: { 'm.rate': [1 / 3, null] } },
    };
    expect(sessionSeries(v1 as unknown as SessionProfile, 'm.rate')).toEqual([1 / 3, null]);
  });
});

describe('validateSession', () => {
  const store = new Store(10, 0);
  store.declare({ name: 'app.v', plugin: 'p', ...gauge() });
  for (let i = 0; i < 4; i++) store.commit(i * 1000, [i]);
  const valid = () => JSON.parse(JSON.stringify(sessionOf(store))) as SessionProfile;

  it('accepts a session as buildSession makes it', () => {
    expect(refusal(valid())).toBeNull();
  });

  it('says that a version 1 session is of an older version', () => {
    expect(refusal({ ...valid(), schemaVersion: 1 })).toMatch(/^f\.json is a loadlight session of schema version 1, written by an older loadlight: this loadlight reads schema version 2/);
  });

  it('refuses series that do not fit the sample times, naming them', () => {
    const withSeries = (series: unknown) => {
      const session = valid();
      (session.samples.values as Record<string, unknown>)['app.v'] = series;
      return refusal(session);
    };
    expect(withSeries([1, 2, 3])).toContain('"samples.values["app.v"]" has 3 values, expected 4 (one per time in "samples.t").');
    expect(withSeries({ at: [0, 2], v: [1] })).toContain('has 2 rows in "at" and 1 values in "v": expected as many');
    expect(withSeries({ at: [2, 1], v: [1, 2] })).toContain('"samples.values["app.v"].at[1]" is 1: expected rows in ascending order, each below 4');
    expect(withSeries({ at: [0, 4], v: [1, 2] })).toContain('.at[1]" is 4');
    expect(withSeries({ runs: [1, 2], v: [1, null] })).toContain('has runs of 3 rows in all, expected 4');
    expect(withSeries({ runs: [4], v: [1, 2] })).toContain('has 1 runs and 2 values: expected as many');
    expect(withSeries({ runs: [4, 0], v: [1, 2] })).toContain('"samples.values["app.v"].runs[1]" must be >= 1, got number 0.');
    expect(withSeries({ at: [0], v: [null] })).toContain('"samples.values["app.v"].v[0]" must be number, got null.');
    expect(withSeries({ at: [0], v: [1], extra: 1 })).toContain('"extra" in "samples.values["app.v"]"');
    expect(withSeries('x')).toContain('"samples.values["app.v"]" must be array or object');
    expect(withSeries({ runs: [4], v: [1] })).toBeNull();
  });
});
