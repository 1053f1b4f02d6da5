import { describe, expect, it } from 'vitest';
import { rawNumberChars } from './export/run.mjs';

describe('rawNumberChars', () => {
  it('counts the characters of every non-null number in samples, times included, and nothing else', () => {
    const session = { samples: { t: [1000, 2000], values: { 'a.b': [1.5, null, -2], 'c.d': [null, 0.125] } } };
    // 1000, 2000 (4 + 4), 1.5 (3), -2 (2), 0.125 (5)
    expect(rawNumberChars(session)).toEqual({ chars: 18, numbers: 5 });
  });

  it('is zero for an empty ring', () => {
    expect(rawNumberChars({ samples: { t: [], values: { 'a.b': [] } } })).toEqual({ chars: 0, numbers: 0 });
  });
});
