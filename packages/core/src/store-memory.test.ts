import { describe, expect, it } from 'vitest';
import { atResolution, Store } from './store.js';
import type { MetricInfo } from './types.js';

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
});
