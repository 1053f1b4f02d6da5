// @ts-check
// One SVG bar chart per topic: a panel per comparison, a horizontal bar per case (bars share a
// scale within a panel only, since a panel's cases range from 1 ns to 1 µs while another panel's
// from 1 ms), value and ratio beside each bar, and a dashed line where a bound applies: the value
// the bounded case may reach.
import { formatNumber, formatRatio } from './results.mjs';

/**
 * @typedef {import('./table.mjs').TopicResult} TopicResult
 * @typedef {import('./results.mjs').Row} Row
 */

const WIDTH = 1100;
const MARGIN = 16;
const LABEL_RIGHT = 340;
const BAR_LEFT = 350;
const BAR_WIDTH = 360;
const ROW_HEIGHT = 22;
const BAR_HEIGHT = 14;
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
/** Keeps a note within the bar area, clear of the verdict column. */
const MAX_NOTE_CHARS = 64;
/**
 * Text over a dashed bound line stays readable: the same text drawn first as a white outline.
 * (A copy rather than `paint-order`, which not every SVG renderer supports.)
 */
const HALO = { fill: '#ffffff', stroke: '#ffffff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'aria-hidden': 'true' };

/** Bar colours by who produced the figure; the baseline is always grey. */
export const COLORS = Object.freeze({
  loadlight: '#2563eb',
  'prom-client': '#e6522c',
  opentelemetry: '#d99a00',
  node: '#0f9d76',
  js: '#7c3aed',
  baseline: '#8b929c',
  other: '#64748b',
  bound: '#dc2626',
  met: '#15803d',
  missed: '#dc2626',
  muted: '#6b7280',
});

/** @type {Array<[string, string]>} */
const LEGEND = [
  ['loadlight', 'loadlight'],
  ['baseline', 'baseline'],
  ['prom-client', 'prom-client'],
  ['opentelemetry', 'OpenTelemetry'],
  ['node', 'node built-in'],
  ['js', 'plain JavaScript'],
];

/**
 * @param {string} value
 * @param {number} max
 */
function truncate(value, max) {
  return [...value].length <= max ? value : `${[...value].slice(0, max - 1).join('')}…`;
}

/** @param {string} text */
export function escapeXml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** @param {number} n */
const px = (n) => (Math.round(n * 10) / 10).toString();

/**
 * @param {number} x
 * @param {number} y
 * @param {string} text
 * @param {Record<string, string | number>} [attrs]
 */
function text(x, y, text, attrs = {}) {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  return `<text x="${px(x)}" y="${px(y)}"${extra}>${escapeXml(text)}</text>`;
}

/**
 * The value a bounded row may reach: its ratio bound scaled back to a value through the row's own
 * value/ratio (which is the baseline's value for a plain comparison, and stays right for rows
 * whose ratio is normalised differently), and/or its absolute bound.
 * @param {Row} row
 * @returns {number | null}
 */
export function boundValue(row) {
  if (!row.bound) return null;
  const limits = [];
  if (row.bound.ratio !== undefined && row.value !== null && row.ratio !== null && row.ratio > 0) {
    limits.push((row.value * row.bound.ratio) / row.ratio);
  }
  if (row.bound.value !== undefined) limits.push(row.bound.value);
  return limits.length > 0 ? Math.min(...limits) : null;
}

/** @param {Row} row */
function barColor(row) {
  if (row.baseline) return COLORS.baseline;
  return /** @type {Record<string, string>} */ (COLORS)[row.who] ?? COLORS.other;
}

/**
 * @param {TopicResult} topic
 * @returns {string}
 */
export function renderTopicSvg(topic) {
  const body = [];
  let y = 30;
  body.push(text(MARGIN, y, `${topic.id}: ${topic.title}`, { 'font-size': 18, 'font-weight': 600 }));
  y += 18;
  const when = `${topic.quick ? 'quick' : 'full'} run, ${topic.ranAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
  body.push(text(MARGIN, y, `${when}. Bars share a scale within a panel only. Dashed line: the bound.`, { 'font-size': 12, fill: COLORS.muted }));
  y += 14;

  for (const comparison of topic.comparisons) {
    y += 22;
    body.push(text(MARGIN, y, comparison.title, { 'font-size': 14, 'font-weight': 600 }));
    if (comparison.note) {
      y += 16;
      body.push(text(MARGIN, y, comparison.note, { 'font-size': 11, fill: COLORS.muted }));
    }
    y += 8;
    const values = comparison.rows.flatMap((row) => [row.value ?? 0, boundValue(row) ?? 0]);
    const scaleMax = Math.max(...values, Number.MIN_VALUE) * 1.05;
    const top = y;
    for (const row of comparison.rows) {
      const mid = y + ROW_HEIGHT / 2;
      const label = `${row.label}${row.baseline ? ' (baseline)' : ''}`;
      body.push(text(LABEL_RIGHT, mid + 4, label, { 'font-size': 12, 'text-anchor': 'end', 'font-weight': row.who === 'loadlight' ? 600 : 400 }));
      const width = row.value === null ? 0 : Math.max(1, (row.value / scaleMax) * BAR_WIDTH);
      if (row.value === null) {
        const note = truncate(`not measured${row.unavailable ? `: ${row.unavailable}` : ''}`, MAX_NOTE_CHARS);
        body.push(text(BAR_LEFT + 6, mid + 4, note, { 'font-size': 11, fill: COLORS.muted, 'font-style': 'italic' }));
      } else {
        body.push(`<rect x="${BAR_LEFT}" y="${px(mid - BAR_HEIGHT / 2)}" width="${px(width)}" height="${BAR_HEIGHT}" fill="${barColor(row)}" rx="2"/>`);
      }
      // The bound line goes under the value text, which has a halo.
      const limit = boundValue(row);
      if (limit !== null) {
        const x = BAR_LEFT + (limit / scaleMax) * BAR_WIDTH;
        body.push(`<line x1="${px(x)}" y1="${px(y + 1)}" x2="${px(x)}" y2="${px(y + ROW_HEIGHT - 1)}" stroke="${COLORS.bound}" stroke-width="2" stroke-dasharray="4 3"/>`);
      }
      if (row.value !== null) {
        const ratio = row.ratio === null || row.baseline ? '' : `  ·  ${formatRatio(row.ratio)}`;
        const value = `${formatNumber(row.value)} ${comparison.unit}${ratio}`;
        body.push(text(BAR_LEFT + width + 6, mid + 4, value, { 'font-size': 12, ...HALO }));
        body.push(text(BAR_LEFT + width + 6, mid + 4, value, { 'font-size': 12 }));
      }
      if (row.verdict && row.bound) {
        const color = row.verdict === 'MET' ? COLORS.met : row.verdict === 'MISSED' ? COLORS.missed : COLORS.muted;
        body.push(text(WIDTH - MARGIN, mid + 4, `${row.bound.text}: ${row.verdict}`, { 'font-size': 12, 'font-weight': 600, 'text-anchor': 'end', fill: color }));
      }
      y += ROW_HEIGHT;
    }
    body.push(`<line x1="${BAR_LEFT}" y1="${px(top)}" x2="${BAR_LEFT}" y2="${px(y)}" stroke="#9ca3af" stroke-width="1"/>`);
  }

  for (const error of topic.errors) {
    y += 20;
    body.push(text(MARGIN, y, `ERROR in ${error.group}: ${error.message}`, { 'font-size': 12, fill: COLORS.missed }));
  }

  // Legend: only the kinds that appear.
  y += 30;
  const seen = new Set(topic.comparisons.flatMap((c) => c.rows.map((row) => (row.baseline ? 'baseline' : row.who))));
  let x = MARGIN;
  for (const [who, name] of LEGEND) {
    if (!seen.has(who)) continue;
    body.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${/** @type {Record<string, string>} */ (COLORS)[who]}" rx="2"/>`);
    body.push(text(x + 17, y, name, { 'font-size': 12 }));
    // About 7 px a character at 12 px.
    x += 17 + name.length * 7 + 20;
  }
  body.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${COLORS.bound}" stroke-width="2" stroke-dasharray="4 3"/>`);
  body.push(text(x + 24, y, 'bound', { 'font-size': 12 }));
  y += MARGIN;

  const height = Math.ceil(y);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" role="img" aria-label="${escapeXml(`${topic.id}: ${topic.title}`)}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<g fill="#111827">`,
    ...body,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
