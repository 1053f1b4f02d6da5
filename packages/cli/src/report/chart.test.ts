import { describe, expect, it } from 'vitest';
import { chartPath, COLUMNS, svgChart, yRange } from './chart.js';

const AREA = { left: 0, top: 0, width: 100, height: 100 };

/** The points of a path, grouped into subpaths: [[x, y], ...] each. */
function subpaths(d: string): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  for (const match of d.matchAll(/([ML])(-?[\d.]+),(-?[\d.]+)/g)) {
    if (match[1] === 'M') out.push([]);
    out[out.length - 1]!.push([Number(match[2]), Number(match[3])]);
  }
  return out;
}

describe('chartPath', () => {
  it('scales the values into the area, from 0 when they are near it', () => {
    const path = chartPath([0, 50, 100], [0, 5, 10], AREA);
    expect(path.d).toBe('M0,100L50,50L100,0');
    expect(path).toMatchObject({ points: 3, values: 3, yLow: 0, yHigh: 10 });
  });

  it('keeps a range of values far from 0, and widens a flat one', () => {
    expect(yRange(100, 110)).toEqual({ low: 100, high: 110 });
    expect(yRange(5, 5)).toEqual({ low: 4.5, high: 5.5 });
    expect(yRange(0, 0)).toEqual({ low: 0, high: 1 });
    expect(yRange(-3, 2)).toEqual({ low: -3, high: 2 });
  });

  it('breaks the line at a missing value, and draws a point alone as a dot', () => {
    const path = chartPath([0, 25, 50, 75, 100], [1, 2, null, 3, null], AREA);
    expect(subpaths(path.d).map((s) => s.length)).toEqual([2, 1]);
    expect(path.d).toMatch(/M75,0l0,0$/);
  });

  it('draws nothing for a series without values', () => {
    expect(chartPath([0, 1], [null, null], AREA)).toMatchObject({ d: '', points: 0, values: 0 });
  });

  it('puts every sample of a one-time series in the middle', () => {
    expect(chartPath([5, 5], [1, 2], AREA).d).toBe('M50,50L50,0');
  });

  it('thins a long series to the lowest and highest value of each column, keeping the peaks and the gaps', () => {
    const n = 100_000;
    const t = Array.from({ length: n }, (_, i) => i * 1000);
    const values: Array<number | null> = Array.from({ length: n }, (_, i) => Math.sin(i / 500) * 10);
    values[12_345] = 1000; // a spike
    for (let i = 60_000; i < 61_000; i++) values[i] = null; // a gap over a few columns
    const path = chartPath(t, values, AREA);
    expect(path.points).toBeLessThanOrEqual(2 * COLUMNS);
    expect(path.values).toBe(n - 1000);
    const parts = subpaths(path.d);
    expect(parts).toHaveLength(2);
    // the spike reaches the top of the area
    expect(parts.flat().some(([, y]) => y === 0)).toBe(true);
    expect(path.d.length).toBeLessThan(2 * COLUMNS * 16);
  });
});

describe('svgChart', () => {
  it('is an inline SVG naming its metric and point count, with its text escaped', () => {
    const { svg, path } = svgChart([0, 1000, 2000], [1, 3, 2], {
      metric: 'a<b>',
      title: 'x & "y"',
      format: (v) => `${v}%`,
      formatTime: (ms) => `${ms / 1000}s`,
      start: 0,
    });
    expect(path.points).toBe(3);
    expect(svg).toMatch(/^<svg class="chart" viewBox="0 0 \d+ \d+" role="img" aria-label="x &amp; &quot;y&quot;" data-metric="a&lt;b&gt;" data-points="3">/);
    expect(svg).toContain('<path class="line" d="M');
    expect(svg).toContain('>3%</text>');
    expect(svg).toContain('>2s</text>');
    expect(svg).not.toMatch(/href|<script|url\(/);
  });
});
