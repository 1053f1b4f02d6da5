import { describe, expect, it } from 'vitest';
import { locationKey } from './inspector.js';
import { ModuleSlot } from './runtime.js';
import { chargeSamples, type FrameIndex } from './samplers.js';

/** A CPU profile as V8's inspector gives it: a tree of call frames, samples and their time deltas. */
function profile(tree: Array<{ id: number; at: [string, number, number]; children?: number[] }>, samples: number[], deltaUs = 1000) {
  return {
    nodes: tree.map((n) => ({ id: n.id, callFrame: { scriptId: n.at[0], lineNumber: n.at[1], columnNumber: n.at[2] }, children: n.children })),
    startTime: 0,
    endTime: samples.length * deltaUs,
    samples,
    timeDeltas: samples.map(() => deltaUs),
  };
}

describe('chargeSamples', () => {
  const outer = new ModuleSlot(1, 'test.outer', 'code', []);
  const inner = new ModuleSlot(2, 'test.inner', 'code', []);
  const index: FrameIndex = {
    owners: new Map([
      [locationKey('7', 10, 4), outer],
      [locationKey('7', 30, 4), inner],
    ]),
    wrapperKeys: new Set([locationKey('9', 1, 2)]),
  };
  // (root) 1 -> outer 2 -> helper 3 -> inner 4 ; (root) 1 -> wrapper 5 -> outer 6 ; (root) -> (idle) 7
  const tree = [
    { id: 1, at: ['0', -1, -1] as [string, number, number], children: [2, 5, 7] },
    { id: 2, at: ['7', 10, 4] as [string, number, number], children: [3] },
    { id: 3, at: ['8', 5, 0] as [string, number, number], children: [4] },
    { id: 4, at: ['7', 30, 4] as [string, number, number] },
    { id: 5, at: ['9', 1, 2] as [string, number, number], children: [6] },
    { id: 6, at: ['7', 10, 4] as [string, number, number] },
    { id: 7, at: ['0', -1, -1] as [string, number, number] },
  ];

  it('charges a continuation to the innermost profiled function on its stack', () => {
    outer.resetEpoch();
    inner.resetEpoch();
    // 3 samples in outer's own code (through a helper), 2 in inner, 4 idle
    const result = chargeSamples(profile(tree, [3, 3, 2, 4, 4, 7, 7, 7, 7]), index, 1000);
    expect(outer.cpuSampledMs).toBe(3);
    expect(inner.cpuSampledMs).toBe(2);
    expect(result).toEqual({ samples: 9, chargedMs: 5 });
  });

  it('does not charge samples inside a wrapped call: the wrapper timed them exactly', () => {
    outer.resetEpoch();
    const result = chargeSamples(profile(tree, [6, 6, 6, 6]), index, 1000);
    expect(outer.cpuSampledMs).toBe(0);
    expect(result.chargedMs).toBe(0);
  });

  it('weighs each sample by the time to the next one, capped at ten intervals', () => {
    outer.resetEpoch();
    const p = profile(tree, [2, 2, 7]);
    p.timeDeltas = [0, 500, 50_000]; // the second sample is followed by a long gap
    p.endTime = 50_500 + 1000;
    chargeSamples(p, index, 1000);
    expect(outer.cpuSampledMs).toBeCloseTo(0.5 + 10, 6);
  });
});
