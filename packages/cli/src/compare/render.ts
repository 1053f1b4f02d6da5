import type { BudgetStat } from '@loadlight/core';
import { fails, type BudgetResult, type LimitCheck } from './budgets.js';
import type { Comparison, MetricComparison, SessionInfo, Verdict } from './compare.js';
import { formatChange, formatNumber, formatP, unitLabel, withUnit } from './metrics.js';

export type Format = 'text' | 'md' | 'json';
export const FORMATS: readonly Format[] = ['text', 'md', 'json'];

export interface RenderInput {
  comparison: Comparison;
  /** null: no budgets (no config, or none in it). */
  budgets: { file: string; results: BudgetResult[] } | null;
  /** Show only what moved beyond noise (and what is in one session only). */
  changedOnly: boolean;
  exitCode: number;
}

const VERDICT_LABEL: Record<Verdict, string> = {
  better: 'better',
  worse: 'worse',
  changed: 'changed',
  same: 'within noise',
  'too-few-samples': 'too few samples',
  added: 'only in current',
  removed: 'only in baseline',
  'no-data': 'no data',
  incomparable: 'incomparable',
};

const STAT_LABEL: Record<BudgetStat, string> = {
  mean: 'mean',
  min: 'min',
  max: 'max',
  p50: 'p50',
  p95: 'p95',
  p99: 'p99',
  last: 'last',
  rate_per_minute: 'rate',
};

const ONE_SIDED: ReadonlySet<Verdict> = new Set(['added', 'removed', 'incomparable']);

function shown(row: MetricComparison, changedOnly: boolean): boolean {
  if (row.verdict === 'no-data') return false;
  return !changedOnly || row.beyondNoise || ONE_SIDED.has(row.verdict);
}

/** Counts of verdicts, for the summary line and the JSON. */
export function summary(comparison: Comparison): Record<Verdict, number> {
  const counts = Object.fromEntries(Object.keys(VERDICT_LABEL).map((v) => [v, 0])) as Record<Verdict, number>;
  for (const row of comparison.metrics) counts[row.verdict]++;
  return counts;
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function describeSession(s: SessionInfo): string {
  return `${s.file} (session ${s.sessionId}, ${seconds(s.durationMs)}, ${s.samples} samples every ${s.sampleIntervalMs} ms)`;
}

function methodLine(c: Comparison): string {
  return (
    `noise: Mann-Whitney U test over the per-sample values, corrected for autocorrelation; a change is beyond noise ` +
    `when p < ${c.method.alpha} and the statistic moved by at least ${c.method.minChangePercent} %`
  );
}

function label(row: { unit: string; kind: MetricComparison['kind'] }): string {
  return unitLabel(row.unit, row.kind);
}

function cells(row: MetricComparison): string[] {
  return [
    STAT_LABEL[row.stat],
    withUnit(row.baselineValue, label(row)),
    withUnit(row.currentValue, label(row)),
    formatChange(row.change, row.changePercent),
    formatP(row.p),
    VERDICT_LABEL[row.verdict] + (row.note ? ` (${row.note})` : ''),
  ];
}

/** A limit as the config gives it (`40 %`, `10 %` of the baseline, `2.5 ms`). */
function limitValue(check: LimitCheck, unit: string): string {
  const given = String(check.value);
  const v = given.length <= 10 ? given : formatNumber(check.value);
  if (check.limit.endsWith('Percent')) return `${v} %`;
  return unit === '' ? v : `${v} ${unit}`;
}

function limitText(check: LimitCheck, stat: BudgetStat, unit: string): string {
  const s = STAT_LABEL[stat];
  const v = limitValue(check, unit);
  switch (check.limit) {
    case 'max':
      return `${s} <= ${v}`;
    case 'min':
      return `${s} >= ${v}`;
    case 'maxIncrease':
    case 'maxIncreasePercent':
      return `${s} increase <= ${v}`;
    case 'maxDecrease':
    case 'maxDecreasePercent':
      return `${s} decrease <= ${v}`;
  }
}

function actualText(check: LimitCheck, unit: string): string {
  const percent = check.limit === 'maxIncreasePercent' || check.limit === 'maxDecreasePercent';
  if (percent) return `${check.actual !== null && Number.isFinite(check.actual) ? formatNumber(check.actual) : 'inf'} %`;
  return withUnit(check.actual, unit);
}

function statusText(result: BudgetResult): string {
  const unit = unitLabel(result.unit, result.kind);
  switch (result.status) {
    case 'ok':
      return 'ok';
    case 'not-measured':
      return `NOT MEASURED: ${result.note ?? 'no values'}`;
    case 'within-noise': {
      const over = result.checks.filter((c) => c.over).map((c) => `${actualText(c, unit)} > ${limitValue(c, unit)}, p ${formatP(c.p)}`);
      return `ok: over but within noise (${over.join('; ')})`;
    }
    case 'exceeded': {
      const failed = result.checks.filter((c) => c.failed).map((c) => `${actualText(c, unit)} ${c.limit === 'min' ? '<' : '>'} ${limitValue(c, unit)}`);
      return `EXCEEDED: ${failed.join(', ')}`;
    }
  }
}

function budgetCells(result: BudgetResult): string[] {
  const unit = unitLabel(result.unit, result.kind);
  return [
    result.checks.length > 0 ? result.checks.map((c) => limitText(c, result.stat, unit)).join(', ') : STAT_LABEL[result.stat],
    withUnit(result.baseline, unit),
    withUnit(result.current, unit),
    formatChange(result.change, result.changePercent !== null && Number.isFinite(result.changePercent) ? result.changePercent : null),
    statusText(result),
  ];
}

function summaryLine(c: Comparison): string {
  const n = summary(c);
  const parts = [
    `${n.worse} worse`,
    `${n.better} better`,
    `${n.changed} changed`,
    `${n.same} within noise`,
    n['too-few-samples'] ? `${n['too-few-samples']} with too few samples` : '',
    n.added ? `${n.added} only in current` : '',
    n.removed ? `${n.removed} only in baseline` : '',
    n.incomparable ? `${n.incomparable} incomparable` : '',
    n['no-data'] ? `${n['no-data']} without data (not shown)` : '',
  ];
  return `${parts.filter(Boolean).join(', ')}.`;
}

function budgetLine(input: RenderInput): string {
  if (!input.budgets) return 'budgets: none in the config: exit code 0';
  const failed = input.budgets.results.filter(fails).length;
  const total = input.budgets.results.length;
  return failed > 0
    ? `budgets: ${failed} of ${total} exceeded or not measured: exit code ${input.exitCode}`
    : `budgets: all ${total} within: exit code ${input.exitCode}`;
}

/** Columns padded to their widest cell (the last one is not padded). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function renderText(input: RenderInput): string {
  const { comparison: c } = input;
  const out: string[] = [`baseline: ${describeSession(c.baseline)}`, `current:  ${describeSession(c.current)}`, methodLine(c)];
  for (const warning of c.warnings) out.push(`note: ${warning}`);
  const rows = c.metrics.filter((r) => shown(r, input.changedOnly));
  const plain = rows.filter((r) => r.module === null);
  const modules = rows.filter((r) => r.module !== null);
  if (plain.length > 0) {
    out.push('', table([['METRIC', 'STAT', 'BASELINE', 'CURRENT', 'CHANGE', 'P', 'VERDICT'], ...plain.map((r) => [r.name, ...cells(r)])]));
  }
  if (modules.length > 0) {
    out.push(
      '',
      table([['MODULE', 'FIELD', 'STAT', 'BASELINE', 'CURRENT', 'CHANGE', 'P', 'VERDICT'], ...modules.map((r) => [r.module!, r.field ?? r.name, ...cells(r)])]),
    );
  }
  if (rows.length === 0) out.push('', input.changedOnly ? 'No metric moved beyond noise.' : 'No metric holds values in either session.');
  if (input.budgets && input.budgets.results.length > 0) {
    out.push(
      '',
      `budgets (${input.budgets.file}):`,
      table([['METRIC', 'LIMIT', 'BASELINE', 'CURRENT', 'CHANGE', 'STATUS'], ...input.budgets.results.map((r) => [r.metric, ...budgetCells(r)])]),
    );
  }
  out.push('', summaryLine(c), budgetLine(input));
  return `${out.join('\n')}\n`;
}

function md(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function mdTable(header: string[], align: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.map(md).join(' | ')} |`)].join('\n');
}

const MD_VERDICT: Partial<Record<Verdict, string>> = { worse: '**worse**', better: '**better**', changed: '**changed**' };

export function renderMarkdown(input: RenderInput): string {
  const { comparison: c } = input;
  const failed = input.budgets ? input.budgets.results.filter(fails).length : 0;
  const out: string[] = [
    `### loadlight compare${failed > 0 ? `: ${failed} budget${failed === 1 ? '' : 's'} exceeded` : ''}`,
    '',
    `- **baseline**: ${md(describeSession(c.baseline))}`,
    `- **current**: ${md(describeSession(c.current))}`,
    `- ${md(methodLine(c))}`,
    ...c.warnings.map((w) => `- note: ${md(w)}`),
  ];
  const rows = c.metrics.filter((r) => shown(r, input.changedOnly));
  const verdict = (r: MetricComparison, cellsOf: string[]) => {
    const last = cellsOf.length - 1;
    if (MD_VERDICT[r.verdict]) cellsOf[last] = MD_VERDICT[r.verdict]!;
    return cellsOf;
  };
  const plain = rows.filter((r) => r.module === null);
  const modules = rows.filter((r) => r.module !== null);
  const numeric = ['---', '---', '---:', '---:', '---:', '---:', '---'];
  if (plain.length > 0) {
    out.push('', mdTable(['metric', 'stat', 'baseline', 'current', 'change', 'p', 'verdict'], numeric, plain.map((r) => verdict(r, [`\`${r.name}\``, ...cells(r)]))));
  }
  if (modules.length > 0) {
    out.push(
      '',
      mdTable(
        ['module', 'field', 'stat', 'baseline', 'current', 'change', 'p', 'verdict'],
        ['---', ...numeric],
        modules.map((r) => verdict(r, [`\`${r.module}\``, r.field ?? r.name, ...cells(r)])),
      ),
    );
  }
  if (input.budgets && input.budgets.results.length > 0) {
    out.push(
      '',
      `**Budgets** (${md(input.budgets.file)})`,
      '',
      mdTable(
        ['metric', 'limit', 'baseline', 'current', 'change', 'status'],
        ['---', '---', '---:', '---:', '---:', '---'],
        input.budgets.results.map((r) => {
          const row = [`\`${r.metric}\``, ...budgetCells(r)];
          if (fails(r)) row[5] = `**${row[5]}**`;
          return row;
        }),
      ),
    );
  }
  out.push('', `${summaryLine(c)} ${budgetLine(input)}.`);
  return `${out.join('\n')}\n`;
}

/** Infinity (a change from 0) is not JSON: null, as the other figures without a value. */
function finite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function renderJson(input: RenderInput): string {
  const { comparison: c } = input;
  const document = {
    baseline: c.baseline,
    current: c.current,
    method: c.method,
    warnings: c.warnings,
    summary: summary(c),
    metrics: c.metrics,
    budgets: input.budgets ? { config: input.budgets.file, results: input.budgets.results.map((r) => ({ ...r, failed: fails(r) })) } : null,
    exitCode: input.exitCode,
  };
  return `${JSON.stringify(document, finite, 2)}\n`;
}

export function render(format: Format, input: RenderInput): string {
  return format === 'json' ? renderJson(input) : format === 'md' ? renderMarkdown(input) : renderText(input);
}
