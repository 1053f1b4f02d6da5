import { describe, expect, it } from 'vitest';
import { blackholeState, consume, makeLoop, measureCases, SETTINGS } from './measure.mjs';

const tiny = { batchMs: 0.05, repeats: 2, rounds: 4, warmupRounds: 1 };

describe('makeLoop', () => {
  it('calls the op n times and returns its last result', () => {
    let calls = 0;
    const loop = makeLoop('count', () => ++calls);
    expect(loop(5)).toBe(5);
    expect(calls).toBe(5);
    expect(loop(0)).toBeUndefined();
  });

  it('compiles a new loop for every case, even with the same id', () => {
    const op = () => 1;
    expect(makeLoop('same', op)).not.toBe(makeLoop('same', op));
  });
});

describe('consume', () => {
  it('stores what it is given where the compiler cannot see it unused', () => {
    const before = blackholeState().writes;
    const value = { any: 'thing' };
    consume(value);
    expect(blackholeState()).toEqual({ value, writes: before + 1 });
  });
});

describe('measureCases', () => {
  it('gives one sample per round, counts every call, and passes unavailable cases through', () => {
    let calls = 0;
    const [measured, missing] = measureCases(
      [
        { id: 'op', label: 'an op', who: 'js', op: () => ++calls },
        { id: 'gone', label: 'not built', who: 'loadlight', unavailable: 'not built' },
      ],
      tiny,
    );
    expect(measured).toMatchObject({ id: 'op', label: 'an op', who: 'js', unit: 'ns/op', count: 4 });
    expect(measured.samples).toHaveLength(4);
    expect(measured.calls).toBe(calls);
    expect(measured.iterations).toBeGreaterThanOrEqual(1);
    expect(measured.samples.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(measured.median).toBeGreaterThanOrEqual(measured.min);
    expect(missing).toMatchObject({ id: 'gone', samples: [], calls: 0, unavailable: 'not built' });
    expect(missing.median).toBeNaN();
  });

  it('stops at maxMs once it has minRounds', () => {
    const [measured] = measureCases([{ id: 'op', label: 'op', who: 'js', op: () => 1 }], { ...tiny, rounds: 1000, maxMs: 0, minRounds: 2 });
    expect(measured.samples).toHaveLength(2);
  });

  it('ranks a case that does 1,000 times the work far above a trivial one', () => {
    const spin = (n: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) x = (x + i * 7) | 0;
      return x;
    };
    let k = 0;
    const [heavy, light] = measureCases(
      [
        { id: 'heavy', label: 'heavy', who: 'js', op: () => spin(5_000 + (k & 1)) },
        { id: 'light', label: 'light', who: 'js', op: () => spin(5 + (k++ & 1)) },
      ],
      { ...tiny, batchMs: 0.5, repeats: 3, rounds: 5 },
    );
    // Relative only, with a wide margin: the machine may be busy, but alike for both.
    expect(heavy.median / light.median).toBeGreaterThan(20);
  });

  it('rejects a duplicate id and a case with neither op nor reason', () => {
    expect(() => measureCases([{ id: 'a', label: 'a', who: 'js', op: () => 1 }, { id: 'a', label: 'a', who: 'js', op: () => 2 }], tiny)).toThrow(/duplicate case id "a"/);
    expect(() => measureCases([{ id: 'b', label: 'b', who: 'js' }], tiny)).toThrow(/neither op nor unavailable/);
  });

  it('has quick settings that keep a group short', () => {
    const perCaseMs = SETTINGS.quick.batchMs * SETTINGS.quick.repeats * (SETTINGS.quick.rounds + SETTINGS.quick.warmupRounds);
    expect(perCaseMs).toBeLessThanOrEqual(100);
  });
});
