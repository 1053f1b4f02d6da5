import { describe, expect, it } from 'vitest';
import { boundText, buildComparison, checkBound, formatNumber, formatRatio, tally, type Measured } from './results.mjs';

const m = (id: string, median: number, extra: Partial<Measured> = {}): [string, Measured] => [
  id,
  { id, label: id, who: id.startsWith('ll') ? 'loadlight' : 'prom-client', unit: 'ns/op', median, spread: 0.01, ...extra },
];

describe('formatNumber and formatRatio', () => {
  it('keeps about three significant digits and groups thousands', () => {
    expect([1.6234, 46.06, 530.4, 1453.6, 0.054].map(formatNumber)).toEqual(['1.62', '46.1', '530', '1,454', '0.05']);
    expect(formatNumber(Number.NaN)).toBe('-');
  });

  it('writes ratios with an x', () => {
    expect([0.234, 1.5, 12.34, 160.4].map(formatRatio)).toEqual(['0.23x', '1.50x', '12.3x', '160x']);
    expect(formatRatio(Number.POSITIVE_INFINITY)).toBe('-');
  });
});

describe('bounds', () => {
  it('states a bound the way the issue does', () => {
    expect(boundText({ ratio: 2 }, 'ns/op')).toBe('≤ 2x');
    expect(boundText({ ratio: 1.5, value: 100 }, 'ms')).toBe('≤ 1.5x and ≤ 100 ms');
    expect(boundText({ ratio: 0.1, text: '≥ 10x faster' }, 'us')).toBe('≥ 10x faster');
  });

  it('is met at the limit, missed above it, unmeasured without a figure', () => {
    expect(checkBound({ ratio: 2 }, 10, 2)).toBe('MET');
    expect(checkBound({ ratio: 2 }, 10, 2.0001)).toBe('MISSED');
    expect(checkBound({ value: 100 }, 100.5, 1)).toBe('MISSED');
    expect(checkBound({ ratio: 2, value: 100 }, 50, 2.5)).toBe('MISSED');
    expect(checkBound({ ratio: 2 }, null, null)).toBe('UNMEASURED');
    expect(checkBound({ value: 1 }, Number.NaN, 1)).toBe('UNMEASURED');
  });
});

describe('buildComparison', () => {
  it('pairs samples round by round for the ratio, and checks the bound on it', () => {
    const measured = new Map([
      m('ll.track', 12, { samples: [10, 12, 30] }),
      m('prom.inc', 5, { samples: [5, 6, 10] }),
      m('otel.add', 50, { samples: [50, 50, 50] }),
    ]);
    const c = buildComparison(
      { id: 'x', title: 'X', baseline: 'prom.inc', cases: ['ll.track', 'prom.inc', 'otel.add'], bounds: { 'll.track': { ratio: 2 } } },
      measured,
    );
    expect(c.unit).toBe('ns/op');
    expect(c.rows.map((r) => [r.id, r.ratio, r.baseline])).toEqual([
      ['ll.track', 2, false],
      ['prom.inc', 1, true],
      ['otel.add', 50 / 6, false],
    ]);
    expect(c.rows[0].verdict).toBe('MET');
    expect(c.rows[0].bound?.text).toBe('≤ 2x');
    expect(c.rows[2].verdict).toBeUndefined();
    expect(c.verdict).toBe('MET');
    // latest.json keeps each round's figure beside the median
    expect(c.rows[0].samples).toEqual([10, 12, 30]);
  });

  it('uses a row’s own ratio where it carries one (normalised elsewhere)', () => {
    const measured = new Map([m('n1', 100), m('n2', 500, { ratio: 1.1 })]);
    const c = buildComparison({ id: 'g', title: 'G', baseline: 'n1', cases: ['n1', 'n2'], bounds: { n2: { ratio: 1.25 } } }, measured);
    expect(c.rows[1].ratio).toBe(1.1);
    expect(c.verdict).toBe('MET');
  });

  it('shows an unavailable case as not measured, and a missed bound wins over it', () => {
    const measured = new Map([
      m('ll.a', Number.NaN, { unavailable: 'not built' }),
      m('ll.b', 30),
      m('base', 10),
    ]);
    const c = buildComparison(
      { id: 'u', title: 'U', baseline: 'base', cases: ['ll.a', 'll.b', 'base'], bounds: { 'll.a': { ratio: 2 }, 'll.b': { ratio: 2 } } },
      measured,
    );
    expect(c.rows[0]).toMatchObject({ value: null, ratio: null, verdict: 'UNMEASURED', unavailable: 'not built' });
    expect(c.rows[1]).toMatchObject({ value: 30, ratio: 3, verdict: 'MISSED' });
    expect(c.verdict).toBe('MISSED');
    expect(tally([c])).toEqual({ MET: 0, MISSED: 1, UNMEASURED: 1 });
  });

  it('gives no ratios against an unmeasured baseline', () => {
    const measured = new Map([m('ll.a', 3), m('base', Number.NaN, { unavailable: 'failed' })]);
    const c = buildComparison({ id: 'n', title: 'N', baseline: 'base', cases: ['ll.a', 'base'], bounds: { 'll.a': { ratio: 2 } } }, measured);
    expect(c.rows.map((r) => r.ratio)).toEqual([null, null]);
    expect(c.verdict).toBe('UNMEASURED');
  });

  it('throws on a topic mistake: a case or baseline nobody measured', () => {
    const measured = new Map([m('a', 1), m('b', 2)]);
    expect(() => buildComparison({ id: 'e', title: 'E', baseline: 'c', cases: ['a', 'b'] }, measured)).toThrow(/baseline "c" is not among its cases/);
    expect(() => buildComparison({ id: 'e', title: 'E', baseline: 'a', cases: ['a', 'z'] }, measured)).toThrow(/no measured case "z"/);
    expect(() => buildComparison({ id: 'e', title: 'E', baseline: 'a', cases: ['a'], bounds: { q: { ratio: 1 } } }, measured)).toThrow(/no measured case "q"/);
  });

  it('has no verdict without bounds', () => {
    const c = buildComparison({ id: 'p', title: 'P', baseline: 'a', cases: ['a', 'b'] }, new Map([m('a', 1), m('b', 2)]));
    expect(c.verdict).toBeNull();
  });
});
