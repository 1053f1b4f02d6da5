import { describe, expect, it } from 'vitest';
import type { GroupResult } from '../lib/topic.mjs';
import { moduleGrowth, MODULE_GROWTH_BOUND } from './hot-path.mjs';

/** A scaling group's result: the wrapper and the hrtime pair, per-round samples. */
const scaling = (wrapper: number[], pair: number[]): GroupResult => ({
  measured: [
    { id: 'profileModule', label: 'w', who: 'loadlight', unit: 'ns/op', median: wrapper[1], spread: 0, samples: wrapper },
    { id: 'node.hrtime', label: 'h', who: 'node', unit: 'ns/op', median: pair[1], spread: 0, samples: pair },
  ],
  comparisons: [],
});

describe('moduleGrowth', () => {
  it('compares the wrapper with N modules to 1 module, each normalised by its own process’s hrtime pair', () => {
    const results = new Map([
      ['module-count-1', scaling([100, 100, 100], [80, 80, 80])],
      // A process that ran 2x slower throughout: no growth once normalised.
      ['module-count-100', scaling([200, 200, 200], [160, 160, 160])],
      // Real growth: the wrapper costs 1.5x more against the same clock.
      ['module-count-10000', scaling([150, 150, 150], [80, 80, 80])],
    ]);
    const c = moduleGrowth(results);
    expect(c.rows.map((r) => [r.id, r.value, r.ratio, r.verdict])).toEqual([
      ['modules.1', 100, 1, undefined],
      ['modules.100', 200, 1, 'MET'],
      ['modules.10000', 150, 1.5, 1.5 <= MODULE_GROWTH_BOUND ? 'MET' : 'MISSED'],
    ]);
    expect(c.verdict).toBe('MISSED');
  });

  it('leaves counts whose group failed or whose wrapper was not built unmeasured', () => {
    const unbuilt: GroupResult = {
      measured: [
        { id: 'profileModule', label: 'w', who: 'loadlight', unit: 'ns/op', median: Number.NaN, spread: Number.NaN, samples: [], unavailable: 'not built' },
        { id: 'node.hrtime', label: 'h', who: 'node', unit: 'ns/op', median: 80, spread: 0, samples: [80] },
      ],
      comparisons: [],
    };
    const c = moduleGrowth(new Map([['module-count-1', unbuilt]]));
    expect(c.rows.map((r) => [r.value, r.ratio, r.unavailable])).toEqual([
      [null, null, 'not built'],
      [null, null, 'not measured (see the errors above)'],
      [null, null, 'not measured (see the errors above)'],
    ]);
    expect(c.verdict).toBe('UNMEASURED');
  });
});
