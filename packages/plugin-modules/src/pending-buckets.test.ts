import { afterEach, describe, expect, it } from 'vitest';
import modules, { profileModule } from './index.js';
import { Pending } from './engine.js';
import { BUCKETS, bucketOf, MIN_SPARE, recycleBuckets, sizeSpares, spareBuckets, zeroedBuckets } from './latency.js';
import { ModuleSlot, runtime } from './runtime.js';
import { countCall } from './wrap.js';
import { makeProfiler, moreSamples, stopAll } from './test-utils.js';

afterEach(stopAll);

/** A module slot with `durations` (ms) recorded in its epoch by the wrappers' own counting (wrap.ts). */
function slotWith(durations: number[]): ModuleSlot {
  const slot = new ModuleSlot(1, 'test.pending', 'code', []);
  for (const ms of durations) countCall(slot, 0, ms, 0, 0);
  return slot;
}

/** A slot by module name (the process-wide runtime the wrappers use). */
function slotOf(name: string): ModuleSlot {
  const slot = runtime.slots.get(name);
  if (!slot) throw new Error(`no slot for module "${name}"`);
  return slot;
}

describe('pending latency arrays', () => {
  it('takes over a slot\'s counts, leaves it none, and holds none of its own once written', () => {
    sizeSpares(0);
    while (spareBuckets() > 0) zeroedBuckets();
    const pending = new Pending();
    const slot = slotWith([1, 2, 2, 5]);
    const counts = slot.buckets;
    expect(counts.length).toBe(BUCKETS);
    pending.add(slot, true);
    slot.resetEpoch();
    expect(pending.buckets).toBe(counts);
    expect(slot.buckets.length).toBe(0); // its next call takes a zeroed array
    expect(pending.buckets![bucketOf(2e6)]).toBe(2);
    const before = spareBuckets();
    pending.reset();
    expect(pending.buckets).toBeNull();
    expect(spareBuckets()).toBe(before + 1);

    // The next epoch's first call reuses a spare (zeroed: the counts written above are gone).
    const spares = spareBuckets();
    const next = slotWith([3]);
    expect(spareBuckets()).toBe(spares - 1);
    expect(next.buckets.reduce((a, b) => a + b, 0)).toBe(1);
    pending.add(next, true);
    expect(spareBuckets()).toBe(spares - 1); // taken over: no copy, no other array
    next.resetEpoch();
    expect(pending.buckets!.reduce((a, b) => a + b, 0)).toBe(1);
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

  it('gives a module its latency array at its first call while profiled, none before', async () => {
    const called = profileModule('lazy.called', (n: number) => n + 1);
    profileModule('lazy.never', (n: number) => n - 1);
    // No profiler running: calls go straight through and allocate nothing.
    called(1);
    expect(slotOf('lazy.called').buckets.length).toBe(0);

    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    for (let i = 0; i < 5; i++) called(i);
    expect(slotOf('lazy.called').buckets.length).toBe(BUCKETS);
    await moreSamples(profiler, 2);
    // Drained and idle since: its array went back to the pool.
    expect(slotOf('lazy.called').buckets.length).toBe(0);
    // Two instances copy the counts: the slot's array goes back at the drain all the same.
    const second = makeProfiler([modules()]).profiler;
    await second.start();
    for (let i = 0; i < 3; i++) called(i);
    expect(slotOf('lazy.called').buckets.length).toBe(BUCKETS);
    await moreSamples(second, 2);
    expect(slotOf('lazy.called').buckets.length).toBe(0);
    expect((await second.stop()).modules.find((m) => m.name === 'lazy.called')).toMatchObject({ calls: 3 });
    const session = await profiler.stop();
    expect(session.modules.find((m) => m.name === 'lazy.called')).toMatchObject({ calls: 8 });
    // Declared, never called: no array (an empty one, shared), and nothing in the store.
    expect(slotOf('lazy.never').buckets.length).toBe(0);
    expect(profiler.store.info('module.lazy.never.calls')).toBeUndefined();
  });

  it('keeps as many zeroed spares as arrays were in use at the last drain (at least 16): a steady program allocates none', async () => {
    sizeSpares(0);
    for (let i = 0; i < 40; i++) recycleBuckets(new Uint32Array(BUCKETS));
    expect(spareBuckets()).toBe(MIN_SPARE);
    while (spareBuckets() > 0) zeroedBuckets();

    // 40 modules busy in every tick: after the first, their arrays come back and are taken again.
    const busy = Array.from({ length: 40 }, (_, i) => profileModule(`spares.busy${i}`, (n: number) => n * 2));
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    await moreSamples(profiler, 1);
    const seen = new Set<Uint32Array>();
    for (let tick = 0; tick < 3; tick++) {
      for (const fn of busy) fn(tick);
      const held = busy.map((_, i) => slotOf(`spares.busy${i}`).buckets);
      // From the second tick on, every array a first call took was a spare given back before.
      if (tick > 0) for (const counts of held) expect(seen.has(counts)).toBe(true);
      for (const counts of held) seen.add(counts);
      await moreSamples(profiler, 1);
      expect(spareBuckets()).toBe(40);
    }
    expect(seen.size).toBe(40);
    // Idle since the last drain: none of them holds an array.
    for (let i = 0; i < 40; i++) expect(slotOf(`spares.busy${i}`).buckets.length).toBe(0);
    // Fewer busy modules: the pool shrinks to what is in use, at least 16.
    busy[0]!(1);
    await moreSamples(profiler, 2);
    expect(spareBuckets()).toBe(MIN_SPARE);
    await profiler.stop();
  });

  it('... with two profilers too (each drains in its own collect; the later one finds no calls)', async () => {
    sizeSpares(0);
    while (spareBuckets() > 0) zeroedBuckets();
    const busy = Array.from({ length: 40 }, (_, i) => profileModule(`spares.two${i}`, (n: number) => n + 1));
    const first = makeProfiler([modules()]).profiler;
    const second = makeProfiler([modules()]).profiler;
    await first.start();
    await second.start();
    await Promise.all([moreSamples(first, 1), moreSamples(second, 1)]);
    const spares: number[] = [];
    for (let tick = 0; tick < 3; tick++) {
      for (const fn of busy) fn(tick);
      // Two samples each: a collect under way during the calls drained before them.
      await Promise.all([moreSamples(first, 2), moreSamples(second, 2)]);
      spares.push(spareBuckets());
    }
    // Every array back after each round (each instance's copies at least: 40 x 2), none dropped
    // and none added from one round to the next.
    expect(spares[0]).toBeGreaterThanOrEqual(80);
    expect(spares).toEqual([spares[0], spares[0], spares[0]]);
    await first.stop();
    await second.stop();
  });
});
