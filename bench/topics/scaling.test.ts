import { describe, expect, it } from 'vitest';
import { buildComparison, type Comparison } from '../lib/results.mjs';
import type { GroupResult } from '../lib/topic.mjs';
import hotPath from './hot-path.mjs';
import scaling, { EVENT_GROWTH_BOUND, eventGrowth, perCallResult } from './scaling.mjs';
import { due, eventFigures, RATES, share } from './scaling/events.mjs';
import { PER_METRIC_BOUND, tickFigures } from './scaling/tick.mjs';

/** The comparisons a group declares, built from its own measured rows (as the runner does). */
function built(result: GroupResult): Comparison[] {
  const measured = new Map(result.measured.map((m) => [m.id, m]));
  return result.comparisons.map((def) => buildComparison(def, measured));
}

const rows = (c: Comparison) => c.rows.map((r) => [r.id, r.value === null ? null : Number(r.value.toFixed(3)), r.ratio === null ? null : Number(r.ratio.toFixed(3)), r.verdict]);

describe('per-call groups', () => {
  it('are the hot-path groups of the same name and params, and keep their figures and notes, not their tables', () => {
    const perCall = scaling.groups.filter((g) => g.id.startsWith('module-count-'));
    expect(perCall.map((g) => g.id)).toEqual(['module-count-1', 'module-count-100', 'module-count-10000']);
    for (const group of perCall) {
      expect(group.sameAs).toMatchObject({ topic: hotPath.id, group: group.id });
      expect(hotPath.groups.find((g) => g.id === group.id)?.params).toEqual(group.params);
    }
    const result: GroupResult = {
      measured: [{ id: 'profileModule', label: 'p', who: 'loadlight', unit: 'ns/op', median: 80, spread: 0 }],
      comparisons: [{ id: 'module-1', title: 't', baseline: 'profileModule', cases: ['profileModule'] }],
      notes: ['n'],
    };
    expect(perCallResult(result)).toEqual({ measured: result.measured, notes: ['n'], comparisons: [] });
    expect(result.comparisons).toHaveLength(1);
  });
});

describe('events: the schedule', () => {
  it('deals events to the kinds in turn, whatever the burst boundaries', () => {
    const dealt = [0, 0, 0, 0];
    let issued = 0;
    for (const n of [1, 1, 3, 7, 0, 2, 1000, 5]) {
      for (let k = 0; k < 4; k++) dealt[k] += share(issued, issued + n, k, 4);
      issued += n;
    }
    expect(dealt.reduce((a, b) => a + b)).toBe(issued);
    // 1,019 events: kinds 0..2 get 255, kind 3 gets 254 (event j goes to kind j % 4)
    expect(dealt).toEqual([255, 255, 255, 254]);
    expect([0, 1, 2, 3].map((k) => share(5, 6, k, 4))).toEqual([0, 1, 0, 0]);
  });

  it('issues what is due at the rate since the phase began, never a negative number', () => {
    expect(due(1_000_000, 1.5, 0)).toBe(1500);
    expect(due(1_000_000, 1.5, 1400)).toBe(100);
    expect(due(1000, 0.5, 0)).toBe(0);
    expect(due(1000, 250, 250)).toBe(0);
    expect(due(1000, 250, 300)).toBe(0);
  });
});

describe('tickFigures', () => {
  it('is MET when the tick grows linearly (a fixed cost plus a cost per metric)', () => {
    // 0.2 ms fixed + 5 µs a metric; one tick in three 1.5x slower (the median ignores it)
    const tick = (n: number) => [0.2 + n * 0.005, (0.2 + n * 0.005) * 1.5, 0.2 + n * 0.005];
    const result = tickFigures('metrics', [10, 100, 1000].map((n) => ({ n, metrics: n, ms: tick(n) })), {});
    const [whole, perMetric, added] = built(result);
    expect(rows(whole)).toEqual([
      ['metrics.tick.10', 0.25, 1, undefined],
      ['metrics.tick.100', 0.7, 2.8, undefined],
      ['metrics.tick.1000', 5.2, 20.8, undefined],
    ]);
    expect(rows(perMetric)).toEqual([
      ['metrics.metric.10', 25, 1, undefined],
      ['metrics.metric.100', 7, 0.28, 'MET'],
      ['metrics.metric.1000', 5.2, 0.208, 'MET'],
    ]);
    expect(perMetric.verdict).toBe('MET');
    // each added metric costs 5 µs, between either pair of counts
    expect(rows(added)).toEqual([
      ['metrics.added.10-100', 5, 1, undefined],
      ['metrics.added.100-1000', 5, 1, undefined],
    ]);
  });

  it('is MISSED when the cost per metric grows past the bound (quadratic)', () => {
    const tick = (n: number) => [0.02 + 0.001 * n + 0.00001 * n * n];
    const result = tickFigures('modules', [1, 10, 100].map((n) => ({ n, metrics: n * 14, ms: tick(n * 14) })));
    const perMetric = built(result)[1];
    expect(perMetric.rows.map((r) => r.verdict)).toEqual([undefined, 'MET', 'MISSED']);
    expect(perMetric.rows[2].ratio).toBeGreaterThan(PER_METRIC_BOUND);
    expect(perMetric.rows[0].label).toBe('1 module (14 metrics)');
    expect(result.measured.find((m) => m.id === 'modules.metric.1')?.samples).toBeUndefined();
  });

  it('shows every row as not measured, with the reason, when a package is not built', () => {
    const result = tickFigures('metrics', [10, 100, 1000].map((n) => ({ n, metrics: NaN, ms: [] })), { unavailable: '@loadlight/core is not built' });
    const comparisons = built(result);
    expect(comparisons[1].verdict).toBe('UNMEASURED');
    expect(comparisons.flatMap((c) => c.rows).every((r) => r.value === null && r.unavailable === '@loadlight/core is not built')).toBe(true);
  });
});

describe('eventFigures', () => {
  const phase = (rate: number, startedAt: number, netNs: number[][]) => ({
    rate,
    durationMs: 100,
    startedAt,
    endedAt: startedAt + 100,
    events: (rate * 100) / 1000,
    cpuUs: 20_000,
    oursNs: [0, 0, 0, 0],
    bareNs: [0, 0, 0, 0],
    kindEvents: [0, 0, 0, 0],
    netNs,
  });

  it('takes each kind’s median over wake-ups, the mix as their mean, and the ticks that began in each rate’s phases', () => {
    const phases = [
      phase(0, 0, [[], [], [], []]),
      // a wake-up interrupted by the OS (1,000 ns) does not move the median
      phase(1_000_000, 100, [[2, 2, 1000], [20, 21, 19], [20, 20, 20], [90, 90, 90]]),
      phase(1_000, 200, [[3], [30], [30], [100]]),
      phase(100_000, 300, [[2], [20], [20], [90]]),
    ];
    const ticks = [
      { at: 50, ms: 1, cpuMs: 1 },
      { at: 150, ms: 2, cpuMs: 2 },
      { at: 160, ms: 4, cpuMs: 4 },
      { at: 250, ms: 3, cpuMs: 3 },
      { at: 399.9, ms: 5, cpuMs: 5 },
      { at: 450, ms: 99, cpuMs: 99 },
    ];
    const result = eventFigures(100, phases, ticks, {});
    const byId = new Map(result.measured.map((m) => [m.id, m]));
    expect(byId.get('kind0.1000000')?.median).toBe(2);
    expect(byId.get('net.1000000')?.median).toBeCloseTo((2 + 20 + 20 + 90) / 4);
    expect(byId.get('net.1000')?.median).toBeCloseTo(40.75);
    expect([0, ...RATES].map((rate) => byId.get(`tick.${rate}`)?.median)).toEqual([1, 3, 5, 3]);
    expect(built(result)[0].rows.map((r) => r.id)).toEqual(['tick.0', 'tick.1000', 'tick.100000', 'tick.1000000']);
    expect(result.notes?.some((n) => n.startsWith('100 modules at 1M/s: 100,000 events in 0.10 s'))).toBe(true);
  });
});

describe('eventGrowth', () => {
  const group = (net: number, moduleCall: number): GroupResult => ({
    measured: [
      { id: 'net.1000000', label: 'n', who: 'loadlight', unit: 'ns/event', median: net, spread: 0.05 },
      { id: 'kind3.1000000', label: 'm', who: 'loadlight', unit: 'ns/event', median: moduleCall, spread: 0.05 },
    ],
    comparisons: [],
  });

  it('compares each module count with 1 module, the mix bounded, the module call shown against itself', () => {
    const results = new Map([
      ['events-1', group(40, 90)],
      ['events-100', group(42, 92)],
      ['events-10000', group(60, 150)],
    ]);
    const c = eventGrowth(results, 1_000_000);
    expect(rows(c)).toEqual([
      ['net.1', 40, 1, undefined],
      ['net.100', 42, 1.05, 'MET'],
      ['net.10000', 60, 1.5, 1.5 <= EVENT_GROWTH_BOUND ? 'MET' : 'MISSED'],
      ['module.1', 90, 1, undefined],
      ['module.100', 92, 1.022, undefined],
      ['module.10000', 150, 1.667, undefined],
    ]);
    expect(c.verdict).toBe('MISSED');
  });

  it('leaves a count whose group failed unmeasured', () => {
    const c = eventGrowth(new Map([['events-1', group(40, 90)]]), 1_000_000);
    expect(c.verdict).toBe('UNMEASURED');
    expect(c.rows.find((r) => r.id === 'net.10000')?.unavailable).toBe('not measured (see the errors above)');
  });
});
