/** Inline SVG line charts of a metric over time, drawn in Node: no script, no external file. */

export interface ChartPath {
  /** The SVG path data (`M x,y L x,y ...`); empty when the series has no value. */
  d: string;
  /** Points drawn (after thinning). */
  points: number;
  /** Values in the series (nulls excluded). */
  values: number;
  /** The value range the y axis shows. */
  yLow: number;
  yHigh: number;
}

export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Pixel columns a long series is thinned to: each keeps its lowest and highest value, in order. */
export const COLUMNS = 300;

/** The range of the y axis: from 0 when the values are not far from it, never empty. */
export function yRange(min: number, max: number): { low: number; high: number } {
  let low = min >= 0 && min <= max / 2 ? 0 : min;
  let high = max;
  if (high === low) {
    const pad = Math.abs(high) * 0.1 || 1;
    low = low === 0 ? 0 : low - pad;
    high += pad;
  }
  return { low, high };
}

const round = (v: number) => Math.round(v * 10) / 10;

/**
 * The path of `values` against times `t` (ms), scaled into `area`. A missing value (null) breaks
 * the line; a point alone gets a zero-length segment (a dot, with round line caps). Series
 * longer than 2 * columns are thinned to the lowest and highest value of each column (peaks
 * stay visible), so that the path stays small whatever the session's length.
 */
export function chartPath(t: ArrayLike<number>, values: ArrayLike<number | null>, area: PlotArea, columns = COLUMNS): ChartPath {
  const n = Math.min(t.length, values.length);
  let tMin = Infinity;
  let tMax = -Infinity;
  let vMin = Infinity;
  let vMax = -Infinity;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const time = t[i]!;
    if (time < tMin) tMin = time;
    if (time > tMax) tMax = time;
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    count++;
    if (v < vMin) vMin = v;
    if (v > vMax) vMax = v;
  }
  if (count === 0) return { d: '', points: 0, values: 0, yLow: 0, yHigh: 1 };
  const { low, high } = yRange(vMin, vMax);
  const span = tMax - tMin;
  const x = (time: number) => round(span > 0 && Number.isFinite(span) ? area.left + ((time - tMin) / span) * area.width : area.left + area.width / 2);
  const y = (v: number) => round(area.top + area.height - ((v - low) / (high - low)) * area.height);

  // Runs of consecutive values: each path command is [M|L, index].
  const commands: Array<['M' | 'L', number]> = [];
  let broken = true; // a null (or the start) since the last value drawn
  if (count <= 2 * columns) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        broken = true;
        continue;
      }
      commands.push([broken ? 'M' : 'L', i]);
      broken = false;
    }
  } else {
    // Column of each value; within a column, its lowest and highest value in time order.
    let column = -1;
    let lowI = -1;
    let highI = -1;
    let startsRun = false;
    let breaksInside = false;
    const flush = () => {
      if (lowI < 0) return;
      const [first, second] = lowI <= highI ? [lowI, highI] : [highI, lowI];
      commands.push([startsRun ? 'M' : 'L', first]);
      if (second !== first) commands.push([breaksInside ? 'M' : 'L', second]);
      lowI = highI = -1;
    };
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        broken = true;
        continue;
      }
      const c = span > 0 ? Math.min(columns - 1, Math.floor(((t[i]! - tMin) / span) * columns)) : 0;
      if (c !== column) {
        flush();
        column = c;
        startsRun = broken || commands.length === 0;
        breaksInside = false;
        lowI = highI = i;
      } else {
        if (broken) breaksInside = true;
        if (v < (values[lowI] as number)) lowI = i;
        if (v > (values[highI] as number)) highI = i;
      }
      broken = false;
    }
    flush();
  }
  let d = '';
  for (let k = 0; k < commands.length; k++) {
    const [op, i] = commands[k]!;
    d += `${op}${x(t[i]!)},${y(values[i] as number)}`;
    // A point alone: a zero-length segment, drawn as a dot.
    if (op === 'M' && (k === commands.length - 1 || commands[k + 1]![0] === 'M')) d += 'l0,0';
  }
  return { d, points: commands.length, values: count, yLow: low, yHigh: high };
}

export interface ChartOptions {
  /** Identifies the chart (data-metric). */
  metric: string;
  /** Accessible name and tooltip. */
  title: string;
  /** Formats a y value with its unit. */
  format: (v: number) => string;
  /** The session's length, for the last x label. */
  formatTime: (ms: number) => string;
  /** Where the session starts (ms), for the x labels: the chart spans the samples' times. */
  start: number;
}

const WIDTH = 480;
const HEIGHT = 150;
const AREA: PlotArea = { left: 62, top: 10, width: 408, height: 112 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An inline `<svg>` line chart of one metric (CSS classes: grid, axis, line). */
export function svgChart(t: ArrayLike<number>, values: ArrayLike<number | null>, options: ChartOptions): { svg: string; path: ChartPath } {
  const path = chartPath(t, values, AREA);
  const first = t.length > 0 ? t[0]! : options.start;
  const last = t.length > 0 ? t[t.length - 1]! : options.start;
  const bottom = AREA.top + AREA.height;
  const right = AREA.left + AREA.width;
  const mid = AREA.top + AREA.height / 2;
  const parts = [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(options.title)}" data-metric="${escapeXml(options.metric)}" data-points="${path.points}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<path class="grid" d="M${AREA.left},${AREA.top}H${right}M${AREA.left},${mid}H${right}M${AREA.left},${bottom}H${right}"/>`,
    `<text class="axis" x="${AREA.left - 6}" y="${AREA.top + 4}" text-anchor="end">${escapeXml(options.format(path.yHigh))}</text>`,
    `<text class="axis" x="${AREA.left - 6}" y="${bottom + 4}" text-anchor="end">${escapeXml(options.format(path.yLow))}</text>`,
    `<text class="axis" x="${AREA.left}" y="${HEIGHT - 6}">${escapeXml(options.formatTime(first - options.start))}</text>`,
    `<text class="axis" x="${right}" y="${HEIGHT - 6}" text-anchor="end">${escapeXml(options.formatTime(last - options.start))}</text>`,
  ];
  if (path.d) parts.push(`<path class="line" d="${path.d}"/>`);
  else parts.push(`<text class="axis" x="${AREA.left + AREA.width / 2}" y="${mid + 4}" text-anchor="middle">no values</text>`);
  parts.push('</svg>');
  return { svg: parts.join(''), path };
}
