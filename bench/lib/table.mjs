// @ts-check
// Plain-text tables: one per topic, one block per comparison, columns aligned across the topic.
import { formatNumber, formatRatio, tally } from './results.mjs';

/**
 * @typedef {import('./results.mjs').Comparison} Comparison
 * @typedef {object} TopicResult
 * @property {string} id
 * @property {string} title
 * @property {string} [method] how the figures are measured, one line
 * @property {string} ranAt ISO time
 * @property {boolean} quick
 * @property {number} durationMs
 * @property {Comparison[]} comparisons
 * @property {string[]} notes
 * @property {Array<{ group: string, message: string }>} errors
 */

/**
 * Lays out cells in columns; `align` per column, 'l' or 'r'.
 * @param {string[][]} rows
 * @param {Array<'l' | 'r'>} align
 * @returns {string[]}
 */
export function columns(rows, align) {
  /** @type {number[]} */
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i] - [...cell].length);
        return align[i] === 'r' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

/** @param {number | null} spread */
function formatSpread(spread) {
  if (spread === null || !Number.isFinite(spread)) return '';
  const percent = spread * 100;
  return `±${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/**
 * @param {TopicResult} topic
 * @returns {string}
 */
export function formatTopicTable(topic) {
  const lines = [];
  const seconds = (topic.durationMs / 1000).toFixed(1);
  lines.push(`== ${topic.id}: ${topic.title} (${topic.quick ? 'quick' : 'full'} run, ${seconds} s) ==`);
  if (topic.method) lines.push(topic.method);

  // Every block shares one set of column widths so the topic reads as one table.
  const header = ['case', '', '±', 'ratio', 'bound', 'verdict'];
  /** @type {string[][]} */
  const cells = [];
  for (const comparison of topic.comparisons) {
    cells.push([...header.slice(0, 1), comparison.unit, ...header.slice(2)]);
    for (const row of comparison.rows) {
      cells.push([
        `${row.label}${row.baseline ? ' (baseline)' : ''}`,
        row.value === null ? 'n/a' : formatNumber(row.value),
        formatSpread(row.spread),
        row.ratio === null ? '-' : formatRatio(row.ratio),
        row.bound ? row.bound.text : '',
        row.verdict ?? '',
      ]);
    }
  }
  const laid = columns(cells, ['l', 'r', 'r', 'r', 'l', 'l']);
  let next = 0;
  for (const comparison of topic.comparisons) {
    lines.push('');
    const baseline = comparison.rows.find((row) => row.baseline);
    lines.push(`${comparison.title}   [ratios against ${baseline ? baseline.label : comparison.baseline}]`);
    if (comparison.note) lines.push(`  ${comparison.note}`);
    const head = laid[next++];
    lines.push(`  ${head}`);
    lines.push(`  ${'-'.repeat([...head].length)}`);
    for (const row of comparison.rows) {
      lines.push(`  ${laid[next++]}`);
      if (row.unavailable) lines.push(`      n/a: ${row.unavailable}`);
    }
  }
  if (topic.notes.length > 0) lines.push('', 'notes:', ...topic.notes.map((note) => `  ${note}`));
  if (topic.errors.length > 0) lines.push('', ...topic.errors.map((error) => `ERROR in ${error.group}: ${error.message}`));
  const counts = tally(topic.comparisons);
  const total = counts.MET + counts.MISSED + counts.UNMEASURED;
  if (total > 0) {
    const parts = [`${counts.MET} met`, `${counts.MISSED} missed`];
    if (counts.UNMEASURED > 0) parts.push(`${counts.UNMEASURED} not measured`);
    lines.push('', `bounds: ${parts.join(', ')} (of ${total})`);
  }
  return lines.join('\n');
}
