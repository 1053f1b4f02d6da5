import { describe, expect, it } from 'vitest';
import { rawNumberChars, sampleMix } from './export/run.mjs';

describe('rawNumberChars', () => {
  it('counts the characters of every non-null number in samples, times included, and nothing else', () => {
    const session = { samples: { t: [1000, 2000], values: { 'a.b': [1.5, null, -2], 'c.d': [null, 0.125] } } };
    // 1000, 2000 (4 + 4), 1.5 (3), -2 (2), 0.125 (5)
    expect(rawNumberChars(session)).toEqual({ chars: 18, numbers: 5 });
  });

  it('counts the values a sparse or run series stands for, not its row indices or run lengths', () => {
    const session = { samples: { t: [1, 2, 3], values: { 'a.sparse': { at: [0, 2], v: [10, 2.5] }, 'a.runs': { runs: [2, 1], v: [7.25, null] } } } };
    // times 1 + 1 + 1; sparse 10 (2), 2.5 (3); runs 7.25 twice (4 x 2)
    expect(rawNumberChars(session)).toEqual({ chars: 16, numbers: 7 });
  });

  it('is zero for an empty ring', () => {
    expect(rawNumberChars({ samples: { t: [], values: { 'a.b': [] } } })).toEqual({ chars: 0, numbers: 0 });
  });
});

describe('sampleMix', () => {
  it('counts the forms, the nulls of dense series, and the numbers that need the general conversion', () => {
    const session = { samples: { values: { a: [1, null, 1 / 3], b: { at: [1], v: [0.5] }, c: { runs: [1, 2], v: [null, 2 / 3] } } } };
    expect(sampleMix(session)).toEqual({ forms: { dense: 1, sparse: 1, runs: 1 }, nulls: 1, slow: 2 });
  });
});
