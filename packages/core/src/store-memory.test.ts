import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atResolution, Store } from './store.js';
import type { MetricInfo, MetricUnit } from './types.js';

const metric = (name: string): MetricInfo => ({ name, plugin: 'test', unit: 'ms', kind: 'gauge', description: name });

/** A small seeded generator (mulberry32): the same rows in every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The write side: the open block's arena and the cursor sealing reads it with (private fields). */
function writeSide(store: Store): { arena: Uint8Array; reader: { bytes: Uint8Array } } {
  return (store as unknown as { data: { arena: Uint8Array; reader: { bytes: Uint8Array } } }).data;
}

describe('Store write side: the memory it keeps', () => {
  it('keeps one arena for the open block from seal to seal once it fits (no copy for malloc to leave a hole), and reads every value back', () => {
    const blockRows = 64;
    const store = new Store(1000, 0, { blockRows });
    const columns = 1500;
    for (let c = 0; c < columns; c++) store.declare(metric(`m.c${c}.latency_ms`));
    const u = random(7);
    const expected: number[][] = Array.from({ length: columns }, () => []);
    const row = new Float64Array(columns);
    const rows = blockRows * 6;
    const arenas = new Set<Uint8Array>();
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        // Some columns noisy, some flat, some often missing: streams of very different lengths.
        const v = c % 3 === 0 ? u() * 100_000 : c % 3 === 1 ? 5 : u() < 0.5 ? Number.NaN : Math.round(u() * 20);
        row[c] = v;
        expected[c]!.push(Number.isNaN(v) ? Number.NaN : atResolution(v, 'ms'));
      }
      store.commit(r * 1000, row);
      if ((r + 1) % blockRows === 0) arenas.add(writeSide(store).arena);
    }
    // The arena grown while the first block filled serves every later block.
    expect(arenas.size).toBe(1);
    for (let c = 0; c < columns; c++) {
      expect(store.series(`m.c${c}.latency_ms`)).toEqual(expected[c]!.map((v) => (Number.isNaN(v) ? null : v)));
    }
  });

  it('lets go of an arena a seal replaced (its reader moved onto the new one), and reads the open block right after', () => {
    const blockRows = 64;
    const store = new Store(1000, 0, { blockRows });
    const columns = 200;
    for (let c = 0; c < columns; c++) store.declare(metric(`m.c${c}.latency_ms`));
    const u = random(11);
    const expected: number[][] = Array.from({ length: columns }, () => []);
    const row = new Float64Array(columns);
    const commit = (r: number, value: (c: number) => number) => {
      for (let c = 0; c < columns; c++) {
        row[c] = value(c);
        expected[c]!.push(atResolution(row[c]!, 'ms'));
      }
      store.commit(r * 1000, row);
    };
    // Two blocks of noise (long streams: sealing decodes them with its reader, the arena grows and
    // is kept), then a flat one: the next block's streams take a fraction of it, a new arena.
    let r = 0;
    for (; r < 2 * blockRows; r++) commit(r, () => u() * 100_000);
    const noisy = writeSide(store).arena;
    expect(writeSide(store).reader.bytes).toBe(noisy);
    for (; r < 3 * blockRows; r++) commit(r, (c) => c);
    const { arena, reader } = writeSide(store);
    expect(arena).not.toBe(noisy);
    expect(reader.bytes).not.toBe(noisy);
    // The first row of the new block, read at once, and every row before it.
    commit(r, (c) => c + 0.5);
    for (let c = 0; c < columns; c++) expect(store.series(`m.c${c}.latency_ms`)).toEqual(expected[c]!);
  });

  it('counts no more bytes once the ring has wrapped a few times than once it first wrapped', () => {
    const fill = (rows: number) => {
      const store = new Store(512, 0, { blockRows: 64 });
      for (let c = 0; c < 50; c++) store.declare(metric(`m.c${c}.total_ms`));
      const u = random(3);
      const row = new Float64Array(50);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < 50; c++) row[c] = Math.round(u() * 100) / 10;
        store.commit(r * 1000, row);
      }
      return store.bytes;
    };
    const wrapped = fill(512 + 4 * 64);
    // Blocks of noise differ by a few bytes; the ring holds the same number of them.
    expect(Math.abs(fill(512 * 4) - wrapped)).toBeLessThan(wrapped * 0.02);
  });

  it('drops the group heads once a block goes by without a declaration, and later columns get the same references', () => {
    const store = new Store(100, 0, { blockRows: 8 });
    const inside = store as unknown as { groupHeads: Map<string, number> | null; data: { ref: Int32Array } };
    const declare = (name: string, unit: MetricUnit) => store.declare({ ...metric(name), unit });
    let row = 0;
    const commit = (rows: number) => {
      for (let i = 0; i < rows; i++, row++) store.commit(row * 1000, new Float64Array(store.metricCount).fill(row % 3));
    };
    const columnOf = (name: string) => store.catalogue().filter((m) => !m.formula && !m.derivedFrom).findIndex((m) => m.name === name);
    declare('module.a.total_ms', 'ms'); // column 0
    declare('module.a.latency_min_ms', 'ms'); // 1
    declare('module.a.calls', 'count'); // 2
    declare('module.b.total_ms', 'ms'); // 3
    declare('module.d.size', 'bytes'); // 4
    declare('module.d.size', 'count'); // re-declared in another unit: its column stays the head of "module.d bytes"
    commit(8); // a seal after declarations: kept
    expect(inside.groupHeads).not.toBeNull();
    commit(8); // a quiet block: dropped
    expect(inside.groupHeads).toBeNull();

    // Rebuilt by the next declaration, as if never dropped: family, else group, else none.
    declare('module.a.latency_p50_ms', 'ms');
    declare('module.a.errors', 'count');
    declare('module.b.latency_max_ms', 'ms');
    declare('module.d.heap', 'bytes');
    declare('module.d.items', 'count');
    declare('module.c.x_ms', 'ms');
    const refs = ['module.a.latency_p50_ms', 'module.a.errors', 'module.b.latency_max_ms', 'module.d.heap', 'module.d.items', 'module.c.x_ms'].map(
      (name) => inside.data.ref[columnOf(name)],
    );
    expect(refs).toEqual([1, 2, 3, 4, -1, -1]);
    expect(inside.groupHeads).not.toBeNull();
    commit(8); // declared in this block: kept
    expect(inside.groupHeads).not.toBeNull();
    declare('module.e.x_ms', 'ms');
    commit(16);
    expect(inside.groupHeads).toBeNull();
    declare('module.a.latency_p99_ms', 'ms');
    expect(inside.data.ref[columnOf('module.a.latency_p99_ms')]).toBe(1);
    commit(3);
    // Values read back whatever the references (like their reference: relative blocks).
    const from = (first: number) => Array.from({ length: row - first }, (_, i) => (first + i) % 3);
    expect(store.series('module.a.latency_p50_ms')).toEqual([...Array(16).fill(null), ...from(16)]);
    expect(store.series('module.a.latency_p99_ms')).toEqual([...Array(40).fill(null), ...from(40)]);
  });

  it('gives every column the reference it had before heads were dropped, whatever the order of declarations and rows', () => {
    const units: MetricUnit[] = ['ms', 'count', 'bytes'];
    const op = fc.oneof(
      fc.record({ prefix: fc.constantFrom('module.a', 'module.b', 'app'), part: fc.constantFrom('total_ms', 'latency_p50_ms', 'latency_max_ms', 'calls', 'size'), unit: fc.constantFrom(...units) }),
      fc.integer({ min: 1, max: 20 }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const store = new Store(50, 0, { blockRows: 4 });
        // The references as declared with heads never dropped (the first unit of a name counts).
        const heads = new Map<string, number>();
        const firstUnit = new Map<string, string>();
        const expected: number[] = [];
        let row = 0;
        for (const o of ops) {
          if (typeof o === 'number') {
            for (let i = 0; i < o; i++, row++) store.commit(row * 1000, new Float64Array(store.metricCount).fill(row));
            continue;
          }
          const name = `${o.prefix}.${o.part}`;
          store.declare({ ...metric(name), unit: o.unit });
          if (firstUnit.has(name)) continue;
          firstUnit.set(name, o.unit);
          const group = `${o.prefix} ${o.unit}`;
          const family = `${group} ${o.part.split('_')[0]}`;
          expected.push(heads.get(family) ?? heads.get(group) ?? -1);
          if (!heads.has(group)) heads.set(group, expected.length - 1);
          if (!heads.has(family)) heads.set(family, expected.length - 1);
        }
        const refs = (store as unknown as { data: { ref: Int32Array } }).data.ref;
        expect(Array.from(refs.subarray(0, expected.length))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
