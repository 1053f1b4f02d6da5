import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, formatNumber, sessionJson, sessionJsonChunks } from './serialize.js';

const expected = (value: unknown, pretty = false) => `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`;

/** Numbers as a store holds them: whole, at a unit's resolution, computed doubles, and the odd ones. */
const sampleValue = fc.oneof(
  fc.integer({ min: -1000, max: 100_000 }),
  fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).chain((k) => fc.constantFrom(k / 100, k / 1000, k / 10_000, k / 1e6)),
  fc.integer({ min: 0, max: 2 ** 53 }),
  fc.double(),
  fc.constantFrom(0, -0, 1e-6, 1e-7, 999_999_999.999999, 1e15, 1e21, 0.1 + 0.2, Number.MIN_VALUE, Number.MAX_VALUE),
);
const series = fc.array(fc.oneof({ weight: 6, arbitrary: sampleValue }, { weight: 1, arbitrary: fc.constant(null) }), { maxLength: 100, size: 'medium' });
/** A series in any of the session's forms: dense, sparse (`at`, `v`) or runs (`runs`, `v`). */
const anySeries = fc.oneof(
  series,
  fc.record({ at: fc.array(fc.nat(5000), { maxLength: 60 }), v: fc.array(sampleValue, { maxLength: 60 }) }),
  fc.record({ runs: fc.array(fc.integer({ min: 1, max: 3600 }), { maxLength: 60 }), v: series }),
);

/** A session-shaped document: arbitrary JSON-able parts around samples of any numbers. */
const session = fc.record({
  schemaVersion: fc.constant(2),
  sessionId: fc.string(),
  host: fc.record({ hostname: fc.string({ unit: 'binary' }), cpus: fc.integer() }),
  catalogue: fc.dictionary(fc.string(), fc.record({ unit: fc.constant('ms'), description: fc.string({ unit: 'grapheme' }) })),
  samples: fc.record({
    t: fc.array(fc.integer({ min: 0, max: 2e12 }), { maxLength: 100, size: 'medium' }),
    since: fc.integer({ min: 0, max: 2e12 }),
    values: fc.dictionary(fc.string({ unit: 'binary' }), anySeries),
  }),
  statistics: fc.dictionary(fc.string(), fc.record({ count: fc.nat(), p50: fc.option(fc.double()) })),
  alerts: fc.array(fc.jsonValue()),
  extra: fc.anything(),
});

describe('formatNumber', () => {
  const format = (v: number): string | null => {
    const buf = Buffer.alloc(40);
    const end = formatNumber(buf, 0, v);
    return end < 0 ? null : buf.toString('latin1', 0, end);
  };

  it('writes what JSON.stringify writes, or declines', () => {
    fc.assert(
      fc.property(sampleValue, (v) => {
        const text = format(v);
        if (text !== null) expect(text).toBe(JSON.stringify(v));
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes whole numbers and values at up to six decimal places, and declines the rest', () => {
    expect(['0', '-0', '7', '-42', '1764000000000', '12.345', '0.000001', '-0.5', '999999999.999999'].map((s) => format(Number(s)))).toEqual([
      '0',
      '0',
      '7',
      '-42',
      '1764000000000',
      '12.345',
      '0.000001',
      '-0.5',
      '999999999.999999',
    ]);
    for (const v of [1 / 3, 1e-7, 1e15, 1e21, NaN, Infinity, -Infinity, 0.1 + 0.2, 1e9 + 0.5]) expect(format(v)).toBeNull();
    // Around the 32-bit path, the nine-digit split and the digit pairs.
    const edges = [-2147483648, 2147483647, 2147483648, 4294967295, 4294967296, 999_999_999, 1e9, 1_000_000_001, 999_999_999_999_999, 10, 99, 100, 101, 0.01, 0.1, 9.9, 99.99, 0.100001, 123.4];
    for (const v of edges) {
      expect(format(v)).toBe(String(v));
      expect(format(-v)).toBe(String(-v));
    }
  });

  it('writes every fraction of six places or fewer as String() does (the decimals by table)', () => {
    // All 999,999 millionths: every case of trailing zeros in both groups of three places.
    const buf = Buffer.alloc(40);
    const wrong: string[] = [];
    for (let k = 1; k < 1e6; k++) {
      const v = k / 1e6;
      const end = formatNumber(buf, 0, v);
      if (end < 0 || buf.toString('latin1', 0, end) !== String(v)) wrong.push(String(v));
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});

describe('sessionJsonChunks', () => {
  it('writes exactly JSON.stringify(profile) and a newline, compact and pretty', () => {
    fc.assert(
      fc.property(session, fc.boolean(), (profile, pretty) => {
        expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
      }),
      { numRuns: 400 },
    );
  });

  it('... when series hold mostly computed doubles (the rest of a series then goes to JSON.stringify)', () => {
    // Rates as a formula computes them: full doubles, none of them at six decimal places or fewer.
    const computed = fc.integer({ min: 1, max: 9999 }).map((n) => (n * 60_000) / 1003 + 1 / 3);
    const mixed = fc.array(fc.oneof({ weight: 4, arbitrary: computed }, { weight: 1, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.constant(null) }), { maxLength: 300, size: 'max' });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), mixed, { maxKeys: 5 }), fc.boolean(), (values, pretty) => {
        const profile = { samples: { t: [], values } };
        expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
      }),
      { numRuns: 200 },
    );
  });

  it('... for any value at all (the odd ones go to JSON.stringify whole)', () => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: true, withNullPrototype: true, withSparseArray: true }), fc.boolean(), (profile, pretty) => {
        fc.pre(typeof profile !== 'bigint');
        expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
      }),
      { numRuns: 300 },
    );
  });

  it('... when the walked parts hold what JSON.stringify treats specially', () => {
    const when = new Date(0);
    const cases: unknown[] = [
      { samples: { t: [1, undefined, () => 1, Symbol('s')], values: { a: [1, { toJSON: (key: string) => `at ${key}` }], b: 'text', c: [1, , 3] } } },
      { samples: { t: [1], values: { a: { toJSON: (key: string) => key } } } },
      { samples: { toJSON: (key: string) => key } },
      { a: undefined, f: () => 1, samples: { t: [], values: {} }, z: when, n: null },
      { samples: { t: [1, 2], values: Object.assign(Object.create(null) as object, { a: [0.5, -0, 1e300] }) } },
      { samples: new Map(), values: [when] },
      { toJSON: () => ({ samples: { t: [1.5] } }) },
      { samples: { values: { slow: [1 / 3, ...Array.from({ length: 40 }, (_, i) => i / 7), 2, null] } } },
      { samples: { values: { late: [...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 100 }, (_, i) => i / 7)] } } },
      { samples: { values: { mixed: [1 / 3, 0.25, 1 / 7, 2, NaN, Infinity, -1 / 9] } } },
      { samples: { values: { sparse: { at: [1, 5], v: [0.5, 2] }, runs: { runs: [3, 1], v: [null, 1e21] }, odd: { at: 'x', v: [1, , 2], w: { a: [1] } } } } },
      { samples: { values: { late: { at: [1], v: { toJSON: () => [7] } }, runs: { runs: [1], toJSON: (key: string) => key } } } },
    ];
    for (const profile of cases) {
      for (const pretty of [false, true]) expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
    }
  });

  it('... for the numbers around the limits of its fast paths, in every series form', () => {
    const edges = [0, -0, 7, 10, 99, 100, 999_999_999, 1e9, 1e9 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1764000000000, 2 ** 53, 1e15, 1e21];
    const decimals = [0.5, 0.000001, 0.1, 0.100001, 12.345, 999_999_999.999999, 999_999_999.5, 1e9 + 0.5, 1 / 3, 1e-7, 0.1 + 0.2, 5e-324, NaN, Infinity];
    const numbers = [...edges, ...decimals].flatMap((v) => [v, -v]);
    const withNulls = numbers.flatMap((v, i) => (i % 5 === 0 ? [null, v] : [v]));
    const profile = { samples: { t: numbers, values: { 'a.dense': numbers, 'a.nulls': withNulls, 'a.sparse': { at: numbers.map((_, i) => i), v: numbers }, 'a.runs': { runs: numbers.map(() => 3), v: withNulls } } } };
    for (const pretty of [false, true]) expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
  });

  it('... at every digit count of the whole part and every trailing-zero count of the fraction', () => {
    // The shared digit writers: whole parts 10^d - 1 and 10^d (d = 0..9), fractions of 1 to 6 places.
    const wholes = Array.from({ length: 10 }, (_, d) => [10 ** d - 1, 10 ** d]).flat();
    const fractions = [0, 0.1, 0.12, 0.123, 0.1234, 0.12345, 0.123456, 0.000001, 0.00001, 0.000101, 0.9, 0.999999];
    const numbers = wholes.flatMap((w) => fractions.map((f) => w + f)).flatMap((v) => [v, -v]);
    const buf = Buffer.alloc(40);
    for (const v of numbers) {
      const end = formatNumber(buf, 0, v);
      if (end >= 0) expect(buf.toString('latin1', 0, end)).toBe(JSON.stringify(v));
      // Every value under 1e9 at six places or fewer is taken (its whole part the int32 path).
      else expect(Math.abs(v) >= 1e9 || Math.round(Math.abs(v) * 1e6) / 1e6 !== Math.abs(v)).toBe(true);
    }
    const profile = { samples: { t: wholes, values: { dense: numbers, sparse: { at: numbers.map((_, i) => i), v: numbers } } } };
    for (const pretty of [false, true]) expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
  });

  it('... when series repeat, as new arrays of other element kinds, or further back than those it copies from', () => {
    // The same values as another array: small integers, doubles (a 0.5 first, then dropped), or
    // with each 0 made -0 (JSON writes both 0); or the very array again.
    const copy = (values: Array<number | null>, kind: number): Array<number | null> => {
      if (kind === 0) return values;
      if (kind === 1) return values.slice();
      if (kind === 2) return [0.5, ...values].slice(1);
      return values.map((v) => (v === 0 ? -0 : v));
    };
    const pick = fc.record({ index: fc.nat(), kind: fc.nat(3), form: fc.nat(2) });
    fc.assert(
      fc.property(fc.array(series, { minLength: 1, maxLength: 12 }), fc.array(pick, { maxLength: 40 }), fc.boolean(), (pool, picks, pretty) => {
        const values: Record<string, unknown> = {};
        picks.forEach(({ index, kind, form }, k) => {
          const base = pool[index % pool.length]!;
          const whole = base.map((v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 1));
          values[`m${k}`] = form === 0 ? copy(base, kind) : form === 1 ? { at: copy(whole, kind), v: copy(base, kind) } : { runs: copy(whole, kind), v: copy(base, kind) };
        });
        const profile = { samples: { t: pool[0], values } };
        expect(sessionJson(profile, { pretty })).toBe(expected(profile, pretty));
      }),
      { numRuns: 200 },
    );
  });

  it('copies nothing from a document written before (its series may have changed since)', () => {
    const t = [1, 2, 3];
    const profile = { samples: { t, values: { a: t.slice(), b: { at: t.slice(), v: [0.5, 0.25, 1] } } } };
    expect(sessionJson(profile)).toBe(expected(profile));
    t[1] = 5;
    profile.samples.values.a[1] = 5;
    expect(sessionJson(profile)).toBe(expected(profile));
  });

  it('hands out chunks of about a megabyte, not one string of the whole file', () => {
    const long = Array.from({ length: 3600 }, (_, i) => i / 1000);
    const profile = { samples: { t: long, values: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`m.v${i}`, long])) } };
    const chunks = [...sessionJsonChunks(profile)];
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.byteLength).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected(profile));
  });

  it('writes documents read at the same time, or left unfinished, each whole (the serializer is reused)', () => {
    const long = Array.from({ length: 3600 }, (_, i) => i / 1000);
    const document = (n: number, pretty: boolean) => ({ pretty, profile: { samples: { t: long, values: Object.fromEntries(Array.from({ length: n }, (_, i) => [`m.v${i}`, long])) } } });
    const docs = [document(200, false), document(150, true), document(120, false)];
    const readers = docs.map(({ profile, pretty }) => sessionJsonChunks(profile, { pretty }));
    const read: Uint8Array[][] = docs.map(() => []);
    // Interleaved, one chunk each in turn, until all are done.
    for (let done = 0; done < readers.length; ) {
      done = 0;
      readers.forEach((reader, i) => {
        const next = reader.next();
        if (next.done) done++;
        else read[i]!.push(next.value);
      });
    }
    docs.forEach(({ profile, pretty }, i) => expect(Buffer.concat(read[i]!).toString('utf8')).toBe(expected(profile, pretty)));
    // One stopped after its first chunk, one that threw: the next document is whole all the same.
    const stopped = sessionJsonChunks(docs[0]!.profile);
    stopped.next();
    stopped.return(undefined);
    // The throw comes from inside a walked series, after bytes of this document were written.
    const throwing = { samples: { t: long, values: { a: long, b: [1, { toJSON: () => { throw new Error('no'); } }] } } };
    expect(() => [...sessionJsonChunks(throwing)]).toThrow('no');
    expect(Buffer.concat([...sessionJsonChunks(docs[1]!.profile, { pretty: true })]).toString('utf8')).toBe(expected(docs[1]!.profile, true));
  });
});
