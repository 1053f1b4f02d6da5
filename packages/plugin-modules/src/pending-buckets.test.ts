import { describe, expect, it } from 'vitest';
import { MAX_SPARE, Pending, spareBuckets } from './engine.js';
import { BUCKETS, bucketOf } from './latency.js';
import { ModuleSlot } from './runtime.js';

/** A module slot with `durations` (ms) recorded in its epoch, as the wrappers record them. */
function slotWith(durations: number[]): ModuleSlot {
  const slot = new ModuleSlot(1, 'test.pending', 'code', []);
  for (const ms of durations) {
    slot.calls++;
    slot.totalMs += ms;
    slot.minMs = Math.min(slot.minMs, ms);
    slot.maxMs = Math.max(slot.maxMs, ms);
    slot.buckets[bucketOf(ms * 1e6)]!++;
  }
  return slot;
}

describe('pending latency arrays', () => {
  it('takes over a slot\'s counts, hands it a zeroed array, and holds none of its own once written', () => {
    const pending = new Pending();
    const slot = slotWith([1, 2, 2, 5]);
    const counts = slot.buckets;
    pending.add(slot, true);
    slot.resetEpoch();
    expect(pending.buckets).toBe(counts);
    expect(slot.buckets).not.toBe(counts);
    expect(slot.buckets.length).toBe(BUCKETS);
    expect(slot.buckets.every((c) => c === 0)).toBe(true);
    expect(pending.buckets![bucketOf(2e6)]).toBe(2);
    const before = spareBuckets();
    pending.reset();
    expect(pending.buckets).toBeNull();
    expect(spareBuckets()).toBe(Math.min(MAX_SPARE, before + 1));

    // The next epoch reuses a spare (zeroed: the counts written above are gone).
    const next = slotWith([3]);
    const spares = spareBuckets();
    pending.add(next, true);
    expect(spareBuckets()).toBe(spares - 1); // the zeroed array handed to the slot came from the pool
    next.resetEpoch();
    expect(pending.buckets!.reduce((a, b) => a + b, 0)).toBe(1);
    expect(next.buckets.every((c) => c === 0)).toBe(true);
    pending.reset();
  });

  it('copies (never takes over) with several instances, and adds epochs up until written', () => {
    const a = new Pending();
    const b = new Pending();
    const slot = slotWith([1, 4]);
    const counts = slot.buckets;
    a.add(slot, false);
    b.add(slot, false);
    slot.resetEpoch();
    expect(slot.buckets).toBe(counts);
    expect(a.buckets).not.toBe(b.buckets);
    const more = slotWith([4]);
    a.add(more, false);
    expect(a.calls).toBe(3);
    expect(a.buckets![bucketOf(4e6)]).toBe(2);
    expect(b.buckets![bucketOf(4e6)]).toBe(1);
    a.reset();
    b.reset();
    expect(a.buckets).toBeNull();
    expect(b.buckets).toBeNull();
  });
});
