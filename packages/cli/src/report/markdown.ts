import type { LoadLevel } from '@loadlight/core';
import { clock, duration, offset, plain, preview, recoveredNote, span, value } from './format.js';
import { faultDisabled, METRIC_COLUMNS, METRIC_NUMERIC, metricCells, metricsToList, MODULE_COLUMNS, MODULE_NUMERIC, moduleCells, overheadSentence, type MetricRow, type Report } from './model.js';

const LIGHTS: Record<LoadLevel, string> = { green: '🟢', yellow: '🟡', red: '🔴' };
const SEVERITY: Record<string, string> = { critical: '🔴', warning: '🟡', info: '🔵' };
const PRIORITY: Record<string, string> = { high: '🔴', medium: '🟡', low: '⚪' };

/** Text from a session, safe in Markdown and in a table cell: no HTML, no table breaks, no emphasis. */
export function md(text: unknown, max = 500): string {
  return plain(text, max)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1');
}

/** Inline code: a name as is, with no backtick able to close it early. */
export function code(text: unknown, max = 200): string {
  const inner = plain(text, max).replace(/`/g, "'").replace(/\|/g, '\\|');
  return `\`${inner}\``;
}

function light(level: LoadLevel | null): string {
  return level === null ? '-' : `${LIGHTS[level]} ${level}`;
}

function table(header: string[], rows: string[][], right: Set<number>): string[] {
  const align = header.map((_, i) => (right.has(i) ? '---:' : '---'));
  return [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function metricTable(metrics: MetricRow[]): string[] {
  return table(
    METRIC_COLUMNS,
    metrics.map((m) => [code(m.name), ...metricCells(m, (reason) => md(reason, 200)).cells]),
    METRIC_NUMERIC,
  );
}

/** GitHub-flavoured Markdown, for a pull request or an issue. */
export function renderMarkdown(report: Report): string {
  const { session } = report;
  const out: string[] = [];
  out.push(`## loadlight report: ${code(session.sessionId)}`, '');
  out.push(
    `Ran **${duration(session.durationMs)}** from ${clock(report.start)}: ${report.samples} samples every ${duration(session.config.sampleIntervalMs)}` +
      `${report.ringFull ? ` (ring of ${session.config.maxSamples} full: the oldest samples were dropped)` : ''}, ` +
      `on ${md(session.host.platform)} ${md(session.host.arch)} with ${session.host.cpus} CPUs, Node ${md(session.node)}. ` +
      `Load: process ${light(report.processLevel)}${report.systemLevel ? `, system ${light(report.systemLevel)}` : ''}.`,
  );

  if (session.recovered) out.push('', `> **Recovered** ${md(recoveredNote(session.recovered))}.`);
  out.push('', report.moduleCount > report.modules.length ? `### Modules by CPU (top ${report.modules.length} of ${report.moduleCount})` : '### Modules by CPU', '');
  if (report.modules.length === 0) out.push('No modules profiled.');
  else {
    out.push(
      ...table(
        MODULE_COLUMNS,
        report.modules.map((m) => [light(m.level), code(m.name), ...moduleCells(m)]),
        MODULE_NUMERIC,
      ),
    );
  }

  out.push('', `### Recommendations (${report.recommendations.length})`, '');
  if (report.recommendations.length === 0) out.push('None.');
  for (const r of report.recommendations) {
    const seen = `${r.count}×, ${span(Date.parse(r.firstSeen), Date.parse(r.lastSeen), report.start)}`;
    out.push(
      `- ${PRIORITY[r.priority] ?? ''} **${r.priority}** ${code(r.id)}${r.module ? ` (module ${code(r.module)})` : ''}: ${md(r.message, 1000)} ` +
        `_(${seen}${r.action ? `; action ${code(r.action)}` : ''})_`,
    );
  }

  out.push('', `### Alerts (${report.alerts.length} fired)`, '');
  if (report.alerts.length === 0) out.push('None fired.');
  else {
    out.push(
      ...table(
        ['Severity', 'Alert', 'Fired', 'Resolved', 'Message'],
        report.alerts.map((a) => [
          `${SEVERITY[a.severity] ?? ''} ${a.severity}`,
          `${code(a.id)}${a.module ? ` (${code(a.module)})` : ''}`,
          offset(a.firedAt!, report.start),
          a.resolvedAt === null ? 'still firing' : offset(a.resolvedAt, report.start),
          md(a.message, 1000),
        ]),
        new Set(),
      ),
    );
  }
  if (report.pendingOnly.length > 0) {
    out.push('', `Pending but never fired: ${[...new Set(report.pendingOnly.map((a) => code(a.id)))].join(', ')}.`);
  }

  const { listed, moduleMetrics } = metricsToList(report, false);
  out.push('', `### Metrics (${listed.length})`, '');
  out.push(...(listed.length ? metricTable(listed) : ['No metrics.']));
  if (moduleMetrics > 0) {
    const perModule = report.metrics.filter((m) => m.module !== null && m.derivedFrom === null);
    out.push('', `<details><summary>Per-module metrics (${moduleMetrics})</summary>`, '', ...metricTable(perModule), '', '</details>');
  }

  if (report.actions.length > 0) {
    out.push('', `### Actions (${report.actions.length})`, '');
    out.push(
      ...table(
        ['When', 'Action', 'From', 'Outcome', 'Took', 'Result'],
        report.actions.map((a) => [
          offset(Date.parse(a.at), report.start),
          code(a.id),
          md(a.source, 40),
          a.ok ? '✅ ok' : `❌ ${md(a.error ?? 'failed', 200)}`,
          value(a.durationMs, 'ms'),
          preview(a.result) ? code(preview(a.result)) : '',
        ]),
        new Set([4]),
      ),
    );
  }
  if (report.faults.length > 0) {
    out.push('', `### Faults (${report.faults.length})`, '');
    out.push(
      ...table(
        ['Plugin', 'Hook', 'Times', 'Message'],
        report.faults.map((f) => {
          const disabled = faultDisabled(f, report.start);
          return [code(f.plugin), code(f.hook), String(f.count), md(`${f.message}${disabled && ` (${disabled})`}`, 300)];
        }),
        new Set([2]),
      ),
    );
  }
  out.push('', `Profiler overhead: ${overheadSentence(session.overhead)}.`);
  return `${out.join('\n')}\n`;
}
